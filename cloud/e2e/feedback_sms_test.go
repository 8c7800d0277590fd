package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/cloud/sns"
	"github.com/ticketero/ticketero/cloud/sns/snstest"
	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

// voiceEnv starts the real agent and cloud with Telegram (polling, fake Bot
// API) and SMS (fake SNS, signed requests) on, and a branch config carrying
// the cloud's sealing key (so the box seals RUTs and numbers to it).
func voiceEnv(t *testing.T, e *env) (*telegramtest.Server, *snstest.Server) {
	tg := telegramtest.New(tgToken, telegramtest.Options{})
	t.Cleanup(tg.Close)
	fsns := snstest.New(snstest.Options{})
	t.Cleanup(fsns.Close)
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	keys, err := seal.NewRUTKeys(secret)
	require.NoError(t, err)
	for k, v := range map[string]string{
		"TICKETERO_TELEGRAM_TOKEN":    tgToken,
		"TICKETERO_TELEGRAM_MODE":     "polling",
		"TICKETERO_TELEGRAM_API":      tg.URL,
		"TICKETERO_TELEGRAM_RETRIES":  "100ms,200ms,300ms",
		"TICKETERO_DATA_KEY":          base64.StdEncoding.EncodeToString([]byte("e2e-data-key-0123456789abcdef-32")),
		"TICKETERO_RUT_KEY":           base64.StdEncoding.EncodeToString(secret),
		"TICKETERO_SMS":               "sns",
		"TICKETERO_SNS_ENDPOINT":      fsns.URL,
		"TICKETERO_SNS_REGION":        snstest.Region,
		"TICKETERO_SNS_SENDER_ID":     "BancoCL",
		"AWS_ACCESS_KEY_ID":           snstest.AccessKey,
		"AWS_SECRET_ACCESS_KEY":       snstest.SecretKey,
		"AWS_CONFIG_FILE":             "/nonexistent",
		"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"TICKETERO_ALERT_EVERY":       "200ms",
	} {
		e.setenv(k, v)
	}
	cfg := event.Config{V: 1, Branch: e.branch, Version: 1, TimeZone: "America/Santiago",
		Services: queue.DefaultServices(), Counters: []queue.Counter{{Number: 1, Name: "Módulo 1"}},
		Executives: []event.ConfigExecutive{}, Rules: event.DefaultRules(), BranchName: "Sucursal Voz",
		RUTSealKey: keys.PublicKey(), PublishedAt: time.Now().UTC()}
	e.publishConfig(cfg)
	e.startCloud()
	e.startAgent()
	require.Eventually(t, func() bool {
		var b map[string]any
		code, err := e.do("GET", "/api/v1/branch", "", nil, &b)
		return err == nil && code == 200 && fmt.Sprint(b["name"]) == "Sucursal Voz"
	}, 30*time.Second, 50*time.Millisecond, "config not applied: %s", e.agent.output())
	return tg, fsns
}

func (e *env) issuePhone(phone string) issuedTicket {
	e.t.Helper()
	var tk issuedTicket
	code, err := e.do("POST", "/api/v1/tickets", "", map[string]any{"service": "C", "phone": phone, "phone_consent": true}, &tk)
	require.NoError(e.t, err)
	require.Equal(e.t, 201, code)
	return tk
}

// serveNext calls the next ticket at counter 1, starts and completes it.
func (e *env) serveNext(outcome string) string {
	e.t.Helper()
	var tk issuedTicket
	code, err := e.do("POST", "/api/v1/counters/1/call-next", e.token, nil, &tk)
	require.NoError(e.t, err)
	require.Equal(e.t, 200, code)
	code, err = e.do("POST", "/api/v1/tickets/"+tk.ID+"/start", e.token, nil, nil)
	require.NoError(e.t, err)
	require.Equal(e.t, 200, code)
	body := map[string]string{}
	if outcome != "" {
		body["outcome"] = outcome
	}
	code, err = e.do("POST", "/api/v1/tickets/"+tk.ID+"/complete", e.token, body, nil)
	require.NoError(e.t, err)
	require.Equal(e.t, 200, code)
	return tk.ID
}

// buttons waits for a message to chat with n inline buttons and returns it.
func buttons(t *testing.T, tg *telegramtest.Server, chat int64, n int) telegramtest.Sent {
	t.Helper()
	var got telegramtest.Sent
	require.Eventually(t, func() bool {
		for _, s := range tg.Sent() {
			if s.ChatID == chat && len(s.Buttons) == n {
				got = s
				return true
			}
		}
		return false
	}, 30*time.Second, 20*time.Millisecond, "chat %d: no message with %d buttons: %v", chat, n, tg.SentTo(chat))
	return got
}

func waitSMS(t *testing.T, f *snstest.Server, phone, sub string) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, m := range f.SentTo(phone) {
			if strings.Contains(m, sub) {
				return true
			}
		}
		return false
	}, 30*time.Second, 20*time.Millisecond, "%s: no SMS with %q: %v", phone, sub, f.SentTo(phone))
}

// TestCustomerVoiceAndSMS runs the real binaries: a served customer answers
// the survey at the fake Bot API and the answer is in HQ's report; a
// customer without Telegram gets the three messages (issued, near, your
// turn) by SMS at the fake SNS; a Telegram message that dead-letters falls
// back to SMS; across a cloud restart (with events queued at the branch
// meanwhile) nothing is sent twice.
func TestCustomerVoiceAndSMS(t *testing.T) {
	parallel(t)
	e := newEnv(t, "E2E-VOZ")
	tg, fsns := voiceEnv(t, e)
	ctx := context.Background()

	// The survey: a linked customer is served and finished.
	a := e.issueOne("C")
	tg.AddUpdate(telegramtest.TextUpdate(9101, "es", "/start "+a.Token))
	waitTexts(t, tg, 9101, 2)
	e.login()
	require.Equal(t, a.ID, e.serveNext("ok"))
	q1 := buttons(t, tg, 9101, 5)
	assert.Contains(t, q1.Text, a.Number)
	tg.AddCallback(9101, q1.MessageID, "es", q1.Buttons[3]) // 4 of 5
	q2 := buttons(t, tg, 9101, 11)
	tg.AddCallback(9101, q2.MessageID, "es", q2.Buttons[10]) // 10 of 10
	require.Eventually(t, func() bool {
		return strings.Contains(strings.Join(tg.SentTo(9101), "\n"), "escríbanos un comentario")
	}, 30*time.Second, 20*time.Millisecond)
	tg.AddUpdate(telegramtest.TextUpdate(9101, "es", "Muy amable, mi fono es +56 9 5555 1234"))
	require.Eventually(t, func() bool {
		return strings.Contains(strings.Join(tg.SentTo(9101), "\n"), "recibimos su comentario")
	}, 30*time.Second, 20*time.Millisecond)

	admin, err := hq.New(e.db, time.Now).CreateToken(ctx, "e2e-admin", cloud.RoleAdmin, nil, nil)
	require.NoError(t, err)
	from, to := time.Now().AddDate(0, 0, -1).Format("2006-01-02"), time.Now().AddDate(0, 0, 1).Format("2006-01-02")
	hqGet := func(path string, out any) {
		t.Helper()
		req, err := http.NewRequest("GET", "http://"+e.cloudAddr+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+admin)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, 200, res.StatusCode)
		require.NoError(t, json.NewDecoder(res.Body).Decode(out))
	}
	var rep cloud.FeedbackReport
	hqGet("/hq/v1/feedback?group=executive&from="+from+"&to="+to, &rep)
	require.Len(t, rep.Rows, 1, "%+v", rep)
	assert.Equal(t, "E01", rep.Rows[0].Key)
	assert.Equal(t, 1, rep.Rows[0].Answers)
	assert.InDelta(t, 100, rep.Rows[0].CSATPct, 0.01)
	assert.InDelta(t, 100, rep.Rows[0].NPS, 0.01)
	var cs struct {
		Comments []cloud.FeedbackComment `json:"comments"`
	}
	hqGet("/hq/v1/feedback/comments?from="+from+"&to="+to, &cs)
	require.Len(t, cs.Comments, 1)
	assert.Equal(t, "Muy amable, mi fono es [teléfono]", cs.Comments[0].Comment)
	var outcome string
	require.NoError(t, e.db.QueryRow(ctx, `SELECT outcome FROM feedback WHERE ticket = $1`, a.ID).Scan(&outcome))
	assert.Equal(t, "ok", outcome, "the answer is tied to the visit's outcome")

	// SMS only: five ahead, so issued, near (3 ahead) and your turn are three messages.
	const phone = "+56987654321"
	for range 5 {
		e.issueOne("C")
	}
	b := e.issuePhone("+56 9 8765 4321")
	waitSMS(t, fsns, phone, "su numero es "+b.Number)
	for range 6 {
		e.serveNext("")
	}
	waitSMS(t, fsns, phone, "se acerca")
	waitSMS(t, fsns, phone, "es su turno. Numero "+b.Number)

	// Telegram dead letter → SMS: linked, then Telegram fails for good.
	const phoneD = "+56911112222"
	d := e.issuePhone(phoneD)
	waitSMS(t, fsns, phoneD, "su numero es "+d.Number) // issued before the chat linked
	tg.AddUpdate(telegramtest.TextUpdate(9103, "es", "/start "+d.Token))
	waitTexts(t, tg, 9103, 2)
	tg.SetFailRate(1)
	require.Equal(t, d.ID, e.serveNext(""))
	waitSMS(t, fsns, phoneD, "es su turno. Numero "+d.Number)
	tg.SetFailRate(0)

	// A cloud restart with the branch working meanwhile: nothing twice.
	const phoneE = "+56922223333"
	e.clouds[len(e.clouds)-1].stop()
	eTk := e.issuePhone(phoneE)
	e.startCloud()
	waitSMS(t, fsns, phoneE, "su numero es "+eTk.Number)
	e.converge(30 * time.Second)
	time.Sleep(3 * time.Second) // leases, re-polls and resends would show by now

	count := func(texts []string, sub string) int {
		n := 0
		for _, s := range texts {
			if strings.Contains(s, sub) {
				n++
			}
		}
		return n
	}
	got := fsns.SentTo(phone)
	assert.Len(t, got, 3, "the three messages once each: %v", got)
	for _, m := range fsns.Sent() {
		n, ok := sns.Septets(m.Message)
		assert.True(t, ok && n <= sns.MaxSeptets, "one GSM-7 SMS: %q", m.Message)
		assert.Equal(t, "BancoCL", m.SenderID)
		assert.Equal(t, "Transactional", m.SMSType)
	}
	assert.Equal(t, 1, count(fsns.SentTo(phoneD), "es su turno"), "%v", fsns.SentTo(phoneD))
	if !assert.Equal(t, 1, count(fsns.SentTo(phoneD), "su numero es"), "%v", fsns.SentTo(phoneD)) {
		rows, _ := e.db.Query(ctx, `SELECT id, kind, channel, chat_id, status, call_no, attempts, last_error, params::text FROM telegram_jobs WHERE ticket = $1 ORDER BY id`, d.ID)
		for rows.Next() {
			var id, chat, callNo int64
			var kind, ch, st, le, pr string
			var att int
			_ = rows.Scan(&id, &kind, &ch, &chat, &st, &callNo, &att, &le, &pr)
			t.Logf("job %d %s %s chat=%d %s call=%d att=%d %s %s", id, kind, ch, chat, st, callNo, att, le, pr)
		}
		rows.Close()
	}
	assert.Len(t, fsns.SentTo(phoneE), 1)
	assert.Equal(t, 0, count(tg.SentTo(9103), "Es tu turno"), "never delivered on Telegram")
	assert.Equal(t, 1, count(tg.SentTo(9101), "Gracias por su visita"), "one survey per visit")
	var surveys int
	require.NoError(t, e.db.QueryRow(ctx, `SELECT count(*) FROM telegram_jobs WHERE kind = 'survey'`).Scan(&surveys))
	assert.Equal(t, 2, surveys, "one per linked visit (a's, and d's that Telegram refused)")
	st := fsns.Stats()
	assert.Zero(t, st.BadSig)
	assert.Zero(t, st.BadShape)
	var inEvents int
	require.NoError(t, e.db.QueryRow(ctx, `SELECT count(*) FROM events WHERE data ? 'phone_sealed'`).Scan(&inEvents))
	assert.Zero(t, inEvents, "no number kept in the events table")

	// The counter tablet: the next customer rates his visit 2 of 5 there;
	// the answer reaches HQ and raises the low-score alert at the branch.
	require.Equal(t, eTk.ID, e.serveNext(""))
	code, err := e.do("POST", "/api/v1/counters/1/feedback", "", map[string]any{"csat": 2, "nps": 3}, nil)
	require.NoError(t, err)
	require.Equal(t, 201, code)
	require.Eventually(t, func() bool {
		var n int
		_ = e.db.QueryRow(ctx, `SELECT count(*) FROM feedback WHERE ticket = $1 AND channel = 'tablet' AND csat = 2 AND nps = 3`, eTk.ID).Scan(&n)
		return n == 1
	}, 30*time.Second, 50*time.Millisecond, "tablet answer at HQ")
	require.Eventually(t, func() bool {
		var n int
		_ = e.db.QueryRow(ctx, `SELECT count(*) FROM hq_alerts WHERE branch = $1 AND kind = 'feedback_low' AND cleared_at IS NULL`, e.branch).Scan(&n)
		return n == 1
	}, 30*time.Second, 50*time.Millisecond, "low-score alert")
	hqGet("/hq/v1/feedback?group=branch&from="+from+"&to="+to, &rep)
	require.Len(t, rep.Rows, 1)
	assert.Equal(t, 2, rep.Rows[0].Answers, "the survey's and the tablet's")
}
