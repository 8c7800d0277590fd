package telegram_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
	"github.com/ticketero/ticketero/shared/event"
)

func TestLinkConfirmAndYourTurn(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	run(t, e.worker(29))

	// Spanish chat scans before the ticket.issued event reached the cloud.
	e.say(1001, "es-CL", "/start tok-1_A")
	e.feed("SCL-001", e.issued("SCL-001", "t1", "C", 5, 3, "tok-1_A", ""))
	texts := e.waitTexts(1001, 2)
	assert.Contains(t, texts[0], "Te confirmaremos el número")
	assert.Contains(t, texts[1], "Tu número es C-005. Personas antes que tú: 2. Espera estimada: entre 15 y 21 min.")

	e.feed("SCL-001", e.called("SCL-001", "t1", "C", 5, 4, "Ana María Pérez", 0))
	texts = e.waitTexts(1001, 3)
	assert.Equal(t, "¡Es tu turno! Número C-005: dirígete al módulo 4, te atiende Ana.", texts[2])

	// English chat links after the ticket was issued: linked + confirmation.
	e.feed("SCL-001", e.issued("SCL-001", "t2", "P", 1, 1, "tok2", ""))
	e.say(1002, "en-US", "/start tok2")
	texts = e.waitTexts(1002, 2)
	assert.True(t, contains(texts, "Done: we will notify you here about number P-001."), texts)
	assert.True(t, contains(texts, "Your number is P-001. People ahead of you: 0. Estimated wait: under 1 min."), texts)

	// Recall, then the same events again (a redelivered batch re-enqueued):
	// nothing is sent twice.
	recall := e.called("SCL-001", "t1", "C", 5, 4, "Ana", 1)
	e.feed("SCL-001", recall)
	texts = e.waitTexts(1001, 4)
	assert.Equal(t, "Te estamos llamando otra vez: número C-005, módulo 4. Acércate ahora.", texts[3])
	before := e.count(`SELECT count(*) FROM telegram_jobs`)
	ctx := context.Background()
	tx, err := e.pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, e.store.EnqueueEvents(ctx, tx, "SCL-001", []event.Event{recall}))
	require.NoError(t, tx.Commit(ctx))
	assert.Equal(t, before, e.count(`SELECT count(*) FROM telegram_jobs`))
	time.Sleep(200 * time.Millisecond)
	assert.Len(t, e.fake.SentTo(1001), 4)

	// The chat ID is stored sealed and found by keyed hash only.
	var hash string
	var sealed []byte
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT chat_hash, chat_enc FROM telegram_chats WHERE chat_hash = $1`,
		e.keys.ChatHash(1001)).Scan(&hash, &sealed))
	var plain [8]byte
	binary.BigEndian.PutUint64(plain[:], 1001)
	assert.False(t, bytes.Contains(sealed, plain[:]))
	assert.NotContains(t, hash, "1001")
	id, err := e.keys.OpenChat(sealed)
	require.NoError(t, err)
	assert.Equal(t, int64(1001), id)
	assert.Zero(t, e.fake.Stats().TooMany)
}

func TestPreNoticeOnceWhenThreeAhead(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	const b = "SCL-002"
	var evs []event.Event
	for i := 1; i <= 6; i++ {
		evs = append(evs, e.issued(b, "c"+string(rune('0'+i)), "C", i, i, "tokc"+string(rune('0'+i)), ""))
	}
	e.say(2001, "es", "/start tokc6")
	e.feed(b, evs...)
	pre := func() int {
		return e.count(`SELECT count(*) FROM telegram_jobs WHERE kind = 'prenotice' AND ticket = 'c6'`)
	}
	e.feed(b, e.called(b, "c1", "C", 1, 1, "Luis", 0)) // 4 ahead of c6
	assert.Zero(t, pre())
	e.feed(b, e.called(b, "c2", "C", 2, 1, "Luis", 0)) // 3 ahead
	assert.Equal(t, 1, pre())
	e.feed(b, e.ev(b, event.TicketNoShow, ref("c3", "C", 3))) // 2 ahead: still one
	assert.Equal(t, 1, pre())
	var params string
	require.NoError(t, e.pool.QueryRow(context.Background(),
		`SELECT params::text FROM telegram_jobs WHERE kind = 'prenotice'`).Scan(&params))
	assert.Contains(t, params, `"C-006"`)
	assert.Contains(t, params, `"3"`)

	// Per service threshold: service P notices at 1 ahead only.
	e.exec(`INSERT INTO telegram_service_settings (branch, service, pre_notice_ahead) VALUES ($1, 'P', 1)`, b)
	e.say(2002, "es", "/start tokp3")
	e.feed(b, e.issued(b, "p1", "P", 1, 1, "", ""), e.issued(b, "p2", "P", 2, 2, "", ""),
		e.issued(b, "p3", "P", 3, 3, "tokp3", ""))
	e.feed(b, e.called(b, "p1", "P", 1, 2, "Eva", 0)) // 1 ahead of p3
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM telegram_jobs WHERE kind = 'prenotice' AND ticket = 'p3'`))

	run(t, e.worker(29))
	texts := e.waitTexts(2001, 3) // link pending, confirm, pre-notice
	assert.True(t, contains(texts, "Tu número C-006 se acerca: quedan 3 personas antes que tú. Vuelve a la sucursal."), texts)
}

func TestDeadLetterAfterThreeRetries(t *testing.T) {
	e := newEnv(t, telegramtest.Options{FailRate: 1})
	e.say(3001, "es", "/ayuda")
	run(t, e.worker(29))
	require.Eventually(t, func() bool { return e.jobCounts()["dead"] == 1 }, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, 4, e.fake.Stats().Failed, "first try and 3 retries")
	dead, err := e.store.DeadJobs(context.Background(), nil, 10)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Equal(t, "reply", dead[0].Kind)
	assert.Equal(t, 4, dead[0].Attempts)
	assert.Contains(t, dead[0].LastError, "HTTP 5")
}

func TestRateLimitedSendWaitsRetryAfter(t *testing.T) {
	// The fake allows 5/s per bot; the worker pushes 40/s: it is refused with
	// 429s, pauses retry_after each time, and delivers everything once.
	e := newEnv(t, telegramtest.Options{BotRate: 5, RetryAfter: 1})
	for i := int64(0); i < 15; i++ {
		e.say(4000+i, "es", "/ayuda")
	}
	run(t, e.worker(40))
	require.Eventually(t, func() bool { return e.jobCounts()["sent"] == 15 }, 20*time.Second, 20*time.Millisecond)
	st := e.fake.Stats()
	assert.Positive(t, st.TooMany)
	assert.Zero(t, st.Unhonoured)
	assert.Len(t, e.fake.Sent(), 15)
}

// A /start and the ingest of its ticket committing at the same moment: the
// token's lock makes one see the other, so every chat is linked at once
// (without waiting for the pending-link sweep).
func TestStartRacesIngest(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	const n = 40
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		branch := fmt.Sprintf("RACE-%02d", i)
		ev := e.issued(branch, "r1", "C", 1, 1, fmt.Sprintf("race-%02d", i), "")
		wg.Add(2)
		go func() { defer wg.Done(); e.say(int64(7700+i), "es", fmt.Sprintf("/start race-%02d", i)) }()
		go func() { defer wg.Done(); e.feed(branch, ev) }()
	}
	wg.Wait()
	assert.Equal(t, n, e.count(`SELECT count(*) FROM telegram_ticket_chats`))
	assert.Equal(t, n, e.count(`SELECT count(*) FROM telegram_jobs WHERE kind = 'confirm'`))
}
