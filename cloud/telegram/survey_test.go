package telegram_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/telegram"
	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
	"github.com/ticketero/ticketero/shared/event"
)

func (e *env) tap(chat int64, data string) {
	e.t.Helper()
	e.mu.Lock()
	e.updateID++
	id := e.updateID
	e.mu.Unlock()
	u := telegram.Update{UpdateID: id, CallbackQuery: &telegram.CallbackQuery{ID: "cb", Data: data,
		From:    telegram.User{ID: chat, LanguageCode: "es"},
		Message: &telegram.Message{MessageID: 1, Chat: telegram.Chat{ID: chat, Type: "private"}}}}
	require.NoError(e.t, e.bot.Handle(context.Background(), u))
}

func (e *env) lastButtons(chat int64, n int) []string {
	e.t.Helper()
	var b []string
	require.Eventually(e.t, func() bool {
		for _, s := range e.fake.Sent() {
			if s.ChatID == chat && len(s.Buttons) == n {
				b = s.Buttons
			}
		}
		return b != nil
	}, 10*time.Second, 10*time.Millisecond, "a message with %d buttons", n)
	return b
}

// TestSurveyAfterService: a linked customer served and finished gets the
// survey once (1–5, then 0–10, then an optional comment stored masked),
// each answer recorded once, tied to the visit's branch, service,
// executive, outcome, wait and service time; an expired survey records
// nothing.
func TestSurveyAfterService(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	run(t, e.worker(29))
	e.say(3001, "es", "/start tok-v1")
	iss := e.issued("SCL-001", "v1", "C", 4, 1, "tok-v1", "")
	e.feed("SCL-001", iss)
	called := e.called("SCL-001", "v1", "C", 4, 3, "Ana", 0)
	e.feed("SCL-001", called)
	r := ref("v1", "C", 4)
	r.Counter, r.Executive = 3, "ex-Ana"
	e.feed("SCL-001", e.ev("SCL-001", event.TicketStarted, r))
	done := e.ev("SCL-001", event.TicketCompleted, event.Completed{TicketRef: r, Outcome: "deposit"})
	e.feed("SCL-001", done)

	csat := e.lastButtons(3001, 5)
	assert.Equal(t, []string{"1", "2", "3", "4", "5"}, lastField(csat))
	// The same completion again (a re-projection) asks nothing more.
	ctx := context.Background()
	tx, err := e.pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, e.store.EnqueueEvents(ctx, tx, "SCL-001", []event.Event{done}))
	require.NoError(t, tx.Commit(ctx))
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM telegram_jobs WHERE kind = 'survey'`))

	e.tap(3001, csat[1]) // 2
	nps := e.lastButtons(3001, 11)
	e.tap(3001, csat[4]) // a second answer to the same question changes nothing
	e.tap(3001, nps[3])  // 3
	e.waitText(3001, "escríbanos un comentario")
	e.say(3001, "es", "Me atendieron lento. Mi RUT es 12.345.678-5 y mi fono +56 9 1234 5678")

	var csatV, npsV, waitS int
	var exec, outcome, comment, service string
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT csat, nps, executive, outcome, comment, service, coalesce(wait_s, -1)
		FROM feedback WHERE branch = 'SCL-001' AND ticket = 'v1'`).Scan(&csatV, &npsV, &exec, &outcome, &comment, &service, &waitS))
	assert.Equal(t, 2, csatV)
	assert.Equal(t, 3, npsV)
	assert.Equal(t, "ex-Ana", exec)
	assert.Equal(t, "deposit", outcome)
	assert.Equal(t, "C", service)
	assert.GreaterOrEqual(t, waitS, 0)
	assert.NotContains(t, comment, "345.678")
	assert.NotContains(t, comment, "1234 5678")
	assert.Contains(t, comment, "[RUT]")
	assert.Contains(t, comment, "Me atendieron lento")
	e.waitText(3001, "recibimos su comentario")

	// Another visit, left unanswered past its day: a late tap records nothing.
	e.feed("SCL-001", e.issued("SCL-001", "v2", "C", 5, 1, "tok-v2", ""))
	e.say(3002, "es", "/start tok-v2")
	r2 := ref("v2", "C", 5)
	r2.Counter, r2.Executive = 3, "ex-Ana"
	e.feed("SCL-001", e.called("SCL-001", "v2", "C", 5, 3, "Ana", 0), e.ev("SCL-001", event.TicketCompleted, event.Completed{TicketRef: r2}))
	b2 := e.lastButtons(3002, 5)
	e.exec(`UPDATE feedback SET expires_at = now() - interval '1 second' WHERE ticket = 'v2'`)
	e.tap(3002, b2[4])
	assert.Equal(t, 0, e.count(`SELECT count(*) FROM feedback WHERE ticket = 'v2' AND csat IS NOT NULL`))
	e.waitText(3002, "expiró")
}

func (e *env) waitText(chat int64, sub string) {
	e.t.Helper()
	require.Eventually(e.t, func() bool { return contains(e.fake.SentTo(chat), sub) }, 10*time.Second,
		10*time.Millisecond, "chat %d: a message with %q", chat, sub)
}

// lastField returns the answer value of each survey button's data.
func lastField(data []string) []string {
	out := make([]string, len(data))
	for i, d := range data {
		out[i] = d[len(d)-1:]
	}
	return out
}

// TestTabletAnswer: a feedback.given from the counter tablet is stored with
// the visit's context (channel tablet), once: a second answer of the same
// visit changes nothing; it answers a Telegram survey still open.
func TestTabletAnswer(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	r := ref("w1", "C", 9)
	r.Counter, r.Executive = 2, "ex-Luis"
	e.feed("SCL-003", e.issued("SCL-003", "w1", "C", 9, 1, "tok-w1", ""),
		e.called("SCL-003", "w1", "C", 9, 2, "Luis", 0),
		e.ev("SCL-003", event.TicketCompleted, event.Completed{TicketRef: r, Outcome: "loan"}))
	nine, two := 9, 2
	e.feed("SCL-003", e.ev("SCL-003", event.FeedbackGiven, event.Feedback{TicketRef: r, CSAT: 5, NPS: &nine}))
	e.feed("SCL-003", e.ev("SCL-003", event.FeedbackGiven, event.Feedback{TicketRef: r, CSAT: 1, NPS: &two}))
	var ch, exec, outcome string
	var csat, nps int
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT channel, executive, outcome, csat, nps FROM feedback
		WHERE branch = 'SCL-003' AND ticket = 'w1'`).Scan(&ch, &exec, &outcome, &csat, &nps))
	assert.Equal(t, "tablet", ch)
	assert.Equal(t, "ex-Luis", exec)
	assert.Equal(t, "loan", outcome)
	assert.Equal(t, 5, csat, "the first answer of the visit")
	assert.Equal(t, 9, nps)
}
