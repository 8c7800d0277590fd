package telegram_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"
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
	assert.True(t, contains(texts, "Your number is P-001. People ahead of you: 0. Estimated wait: between 5 and 7 min."), texts)

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
	// A 429 from the per-chat limit can happen when the machine stalls the worker
	// between two sends; what must never happen is sending again before
	// retry_after.
	assert.Zero(t, e.fake.Stats().Unhonoured)
}

// TestPreNoticeFromTheBranch: the cloud orders nothing. Calls alone write no
// pre-notice; the branch's ticket.near does, once, with the branch's figure
// and the printed number (a transferred C-006 stays C-006).
func TestPreNoticeFromTheBranch(t *testing.T) {
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
	for i := 1; i <= 4; i++ {
		e.feed(b, e.called(b, "c"+string(rune('0'+i)), "C", i, 1, "Luis", 0))
	}
	assert.Zero(t, pre(), "the cloud does not count who is ahead")

	// The branch transferred C-006 to P, where the calling rule puts it 4th
	// (3 ahead, the threshold): ticket.near.
	moved := ref("c6", "C", 6)
	moved.Printed = "C-006"
	moved.Place = &event.Place{Position: 2, TypicalS: 900, UpperS: 1500}
	e.feed(b, e.ev(b, event.TicketTransferred, event.Transferred{TicketRef: moved, To: "P", ToName: "Personal Banker", QueuedAt: time.Now()}))
	near := ref("c6", "P", 6)
	near.Printed = "C-006"
	near.Place = &event.Place{Position: 4, TypicalS: 2700, UpperS: 4050}
	nearEv := e.ev(b, event.TicketNear, event.Near{TicketRef: near, Threshold: 3})
	e.feed(b, nearEv)
	assert.Equal(t, 1, pre())
	// A redelivered batch writes nothing twice.
	ctx := context.Background()
	tx, err := e.pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, e.store.EnqueueEvents(ctx, tx, b, []event.Event{nearEv}))
	require.NoError(t, tx.Commit(ctx))
	assert.Equal(t, 1, pre())

	// HQ shows the printed number and the branch's figure; /estado tells it.
	var printed, service string
	var pos int
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT printed, service, place_position FROM tickets WHERE branch = $1 AND id = 'c6'`, b).
		Scan(&printed, &service, &pos))
	assert.Equal(t, "C-006", printed)
	assert.Equal(t, "P", service)
	assert.Equal(t, 4, pos)
	e.say(2001, "es", "/estado")

	run(t, e.worker(29))
	texts := e.waitTexts(2001, 5) // link pending, confirm, transferred, pre-notice, status
	assert.True(t, contains(texts, "Tu número C-006 fue derivado a Personal Banker. Personas antes que tú: 1. Espera estimada: entre 15 y 25 min."), texts)
	assert.True(t, contains(texts, "Tu número C-006 se acerca: quedan 3 personas antes que tú. Vuelve a la sucursal."), texts)
	assert.True(t, contains(texts, "Número C-006: en espera. Personas antes que tú: 3. Espera estimada: entre 45 y 68 min."), texts)
}

// TestStatusOldFigure: a figure older than a couple of minutes is told with
// its time, in the branch's time zone.
func TestStatusOldFigure(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	const b = "SCL-003"
	ev := e.issued(b, "s1", "C", 1000, 5, "toks1", "")
	ev.At = ev.At.Add(-10 * time.Minute) // the branch quoted it ten minutes ago
	e.feed(b, ev)
	e.say(2101, "es", "/start toks1")
	e.say(2101, "es", "/estado")
	run(t, e.worker(29))
	texts := e.waitTexts(2101, 3)
	loc, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	at := ev.At.In(loc).Format("15:04")
	assert.True(t, contains(texts, "Tu número es C-1000. A las "+at+" tenías 4 personas antes que tú; espera estimada entonces: entre 25 y 35 min. Te avisaremos cuando falte poco; puedes salir y volver a tiempo."), texts)
	assert.True(t, contains(texts, "Número C-1000: en espera. A las "+at+" había 4 personas antes que tú; espera estimada entonces: entre 25 y 35 min. Te avisaremos cuando falte poco."), texts)

	// The link and /estado each asked the branch where the ticket stands now
	// (the figure was old both times); its answer is told as it is.
	e.pub.mu.Lock()
	cmds := append([]event.Command(nil), e.pub.cmds...)
	e.pub.mu.Unlock()
	require.Len(t, cmds, 2)
	for _, c := range cmds {
		assert.Equal(t, event.CommandLocateTicket, c.Type)
		assert.Equal(t, "s1", c.Ticket)
	}
	r := ref("s1", "C", 1000)
	r.Printed = "C-1000"
	r.Place = &event.Place{Position: 2, TypicalS: 300, UpperS: 600}
	e.feed(b, e.ev(b, event.TicketPlaced, event.Placed{TicketRef: r, Request: cmds[0].ID}))
	texts = e.waitTexts(2101, 4)
	assert.Equal(t, "Número C-1000 ahora: personas antes que tú: 1. Espera estimada: entre 5 y 10 min.", texts[3])
	st, err := e.store.CommandStatus(context.Background(), cmds[0].ID)
	require.NoError(t, err)
	assert.Equal(t, "applied", st)
}

// TestLinkAfterOvertaken: the customer scans his QR a few seconds after his
// ticket was issued, but a later arrival was issued in between (a
// preferential customer the branch ranks ahead). The figure at issue is
// recent yet no longer the truth: it is told with its time and the branch is
// asked where the ticket stands now, as for an old figure.
func TestLinkAfterOvertaken(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	const b = "SCL-004"
	first := e.issued(b, "o1", "C", 1, 1, "toko1", "")
	e.feed(b, first)
	pref := e.issued(b, "o2", "C", 2, 1, "toko2", "")
	pref.At = first.At.Add(time.Second)
	e.feed(b, pref)
	e.say(2201, "es", "/start toko1")
	run(t, e.worker(29))
	texts := e.waitTexts(2201, 2)
	loc, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	at := first.At.In(loc).Format("15:04")
	assert.True(t, contains(texts, "Tu número es C-001. A las "+at+" tenías 0 personas antes que tú; espera estimada entonces: entre 5 y 7 min. Te avisaremos cuando falte poco; puedes salir y volver a tiempo."), texts)
	assert.False(t, contains(texts, "Tu número es C-001. Personas antes que tú: 0. Espera estimada: entre 5 y 7 min. Te avisaremos cuando falte poco; puedes salir y volver a tiempo."), texts)
	e.pub.mu.Lock()
	cmds := append([]event.Command(nil), e.pub.cmds...)
	e.pub.mu.Unlock()
	require.Len(t, cmds, 1, "the branch is asked where the ticket stands now")
	assert.Equal(t, event.CommandLocateTicket, cmds[0].Type)
	assert.Equal(t, "o1", cmds[0].Ticket)

	// The later ticket, linked with nothing issued after it, is told as current.
	e.say(2202, "es", "/start toko2")
	texts = e.waitTexts(2202, 2)
	assert.True(t, contains(texts, "Tu número es C-002. Personas antes que tú: 0. Espera estimada: entre 5 y 7 min. Te avisaremos cuando falte poco; puedes salir y volver a tiempo."), texts)
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

// TestLinkAfterCalled: a customer whose chat links only after his ticket was
// called (a slow scan, a loaded long poll) is told it is his turn, once.
func TestLinkAfterCalled(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	run(t, e.worker(29))
	const b = "SCL-007"
	e.feed(b, e.issued(b, "lc1", "C", 9, 1, "toklc1", ""))
	e.feed(b, e.called(b, "lc1", "C", 9, 3, "Ana María Pérez", 0))
	e.say(3001, "es", "/start toklc1")
	texts := e.waitTexts(3001, 2)
	assert.True(t, contains(texts, "Listo: te avisaremos por aquí sobre el número C-009. Comandos: /estado, /cancelar, /recordar, /stop, /ayuda."), texts)
	var turn []string
	for _, s := range texts {
		if strings.HasPrefix(s, "¡Es tu turno! Número C-009") {
			turn = append(turn, s)
		}
	}
	require.Len(t, turn, 1, texts)
	assert.Contains(t, turn[0], "módulo 3")
	// Linking again (the same /start twice) sends nothing more.
	e.say(3001, "es", "/start toklc1")
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM telegram_jobs WHERE kind = 'called' AND ticket = 'lc1'`))
}

// A ticket issued on the pipelined path (the branch's next events, its
// tickets inserted by the ingest's own transaction) is found by its pending
// token link, and told both its confirmation and its call, though the
// recipients' read does not look its older links up (it can have none).
func TestPendingLinkOnPipelinedIngest(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	const b = "SCL-031"
	e.feed(b, e.issued(b, "pl0", "C", 1, 1, "", "")) // the branch's first batch: the locked path
	e.say(3101, "es", "/start tokpl1")
	require.Zero(t, e.count(`SELECT count(*) FROM telegram_ticket_chats`), "the ticket is not there yet")
	e.feed(b, e.issued(b, "pl1", "C", 2, 1, "tokpl1", ""), e.called(b, "pl1", "C", 2, 4, "Ana Pérez", 0))
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM telegram_ticket_chats WHERE branch = $1 AND ticket = 'pl1'`, b))
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM telegram_jobs WHERE ticket = 'pl1' AND kind = 'confirm'`))
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM telegram_jobs WHERE ticket = 'pl1' AND kind = 'called'`))
	// The next batch recalls it: its link, now committed, is read.
	e.feed(b, e.called(b, "pl1", "C", 2, 4, "Ana Pérez", 1))
	assert.Equal(t, 3, e.count(`SELECT count(*) FROM telegram_jobs WHERE ticket = 'pl1'`))
}

// A ticket issued, called and completed in one batch whose token a chat
// scanned before is linked by the ingest and told all of it: the new link is
// written before the survey of the completed ticket looks it up.
func TestPendingLinkWholeVisitInOneBatch(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	const b = "SCL-032"
	e.feed(b, e.issued(b, "pv0", "C", 1, 1, "", "")) // the branch's first batch: the locked path
	e.say(3201, "es", "/start tokpv1")
	r := ref("pv1", "C", 2)
	r.Counter, r.Executive = 4, "ex-Ana"
	e.feed(b, e.issued(b, "pv1", "C", 2, 1, "tokpv1", ""), e.called(b, "pv1", "C", 2, 4, "Ana Pérez", 0),
		e.ev(b, event.TicketStarted, r), e.ev(b, event.TicketCompleted, event.Completed{TicketRef: r, Outcome: "ok"}))
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM telegram_ticket_chats WHERE branch = $1 AND ticket = 'pv1'`, b))
	for _, kind := range []string{"confirm", "called", "survey"} {
		assert.Equal(t, 1, e.count(`SELECT count(*) FROM telegram_jobs WHERE ticket = 'pv1' AND kind = $1`, kind), kind)
	}
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM feedback WHERE branch = $1 AND ticket = 'pv1' AND channel = 'telegram'`, b))
}
