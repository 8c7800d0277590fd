package telegram_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/commands"
	"github.com/ticketero/ticketero/cloud/postgres/appt"
	"github.com/ticketero/ticketero/cloud/postgres/notify"
	"github.com/ticketero/ticketero/cloud/telegram"
	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
	"github.com/ticketero/ticketero/shared/event"
)

func replies(e *env, chat int64) []string {
	e.t.Helper()
	rows, err := e.pool.Query(context.Background(), `SELECT j.params->>'key' FROM telegram_jobs j
		JOIN telegram_chats c ON c.id = j.chat_id WHERE c.chat_hash = $1 ORDER BY j.id`, e.keys.ChatHash(chat))
	require.NoError(e.t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		require.NoError(e.t, rows.Scan(&k))
		out = append(out, k)
	}
	return out
}

func TestCommands(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	ctx := context.Background()
	const b = "SCL-003"
	e.say(5001, "es", "/estado")
	e.say(5001, "es", "/cancelar")
	e.say(5001, "es", "hola")
	e.say(5001, "es", "/start ../../etc/passwd")
	assert.Equal(t, []string{"telegram.no_ticket", "telegram.no_ticket", "telegram.unknown_command",
		"telegram.token_invalid"}, replies(e, 5001))

	e.feed(b, e.issued(b, "a1", "C", 1, 1, "", ""), e.issued(b, "a2", "C", 2, 2, "tok-a2", ""),
		e.issued(b, "a3", "C", 3, 3, "tok-a3", "rut-hash-77"))
	e.say(5001, "es", "/start@TicketeroBot tok-a3")
	e.say(5001, "es", "/estado")
	run(t, e.worker(29))
	texts := e.waitTexts(5001, 7)
	assert.Contains(t, texts[6], "Número C-003: en espera. Personas antes que tú: 2. Espera estimada: entre 15 y 21 min.")

	// A redelivered update is answered once.
	n := len(replies(e, 5001))
	u := telegram.Update{UpdateID: 9999, Message: &telegram.Message{Text: "/ayuda", Chat: telegram.Chat{ID: 5001, Type: "private"}}}
	require.NoError(t, e.bot.Handle(ctx, u))
	require.NoError(t, e.bot.Handle(ctx, u))
	assert.Len(t, replies(e, 5001), n+1)

	// /cancelar: one pending command, published now and re-published until the
	// branch's ticket.cancelled names it.
	e.say(5001, "es", "/cancelar")
	e.say(5001, "es", "/cancelar")
	cmds := e.pub.published()
	require.Len(t, cmds, 2)
	assert.Equal(t, cmds[0].ID, cmds[1].ID, "one command per ticket")
	assert.Equal(t, event.Command{V: 1, Branch: b, ID: cmds[0].ID, Type: event.CommandCancelTicket, Ticket: "a3",
		At: cmds[0].At}, cmds[0])
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM branch_commands WHERE status = 'pending'`))
	require.NoError(t, commands.Republish(ctx, appt.NewCommandQueue(e.pool, e.store.Now, nil), e.pub, 0))
	assert.Len(t, e.pub.published(), 3)
	cancelled := e.ev(b, event.TicketCancelled, event.Cancelled{TicketRef: ref("a3", "C", 3), By: "telegram",
		Request: cmds[0].ID})
	e.feed(b, cancelled)
	st, err := e.store.CommandStatus(ctx, cmds[0].ID)
	require.NoError(t, err)
	assert.Equal(t, "applied", st)
	require.NoError(t, commands.Republish(ctx, appt.NewCommandQueue(e.pool, e.store.Now, nil), e.pub, 0))
	assert.Len(t, e.pub.published(), 3, "applied: not re-published")
	texts = e.waitTexts(5001, 11)
	assert.True(t, contains(texts, "Tu número C-003 fue anulado."), texts)
	e.say(5001, "es", "/cancelar")
	assert.Equal(t, "telegram.cancel_closed", last(replies(e, 5001)))

	// Broker down: the command is kept and published by the re-publisher later.
	// (a2 was issued before a3: its figure may be overtaken, so its link
	// asks the branch where it stands now, a ticket.locate.)
	e.say(5002, "es", "/start tok-a2")
	require.Len(t, e.pub.published(), 4)
	assert.Equal(t, event.CommandLocateTicket, e.pub.published()[3].Type)
	e.pub.fail = true
	e.say(5002, "es", "/cancelar")
	e.pub.fail = false
	assert.Len(t, e.pub.published(), 4)
	require.NoError(t, commands.Republish(ctx, appt.NewCommandQueue(e.pool, e.store.Now, nil), e.pub, time.Hour))
	var cancels []event.Command
	for _, c := range e.pub.published()[4:] {
		if c.Type == event.CommandCancelTicket {
			cancels = append(cancels, c)
		}
	}
	require.Len(t, cancels, 1)
	assert.Equal(t, "a2", cancels[0].Ticket)

	// /recordar: the next ticket with the same RUT notifies this chat unscanned.
	e.say(5001, "es", "/recordar")
	assert.Equal(t, "telegram.remember_ok", last(replies(e, 5001)))
	assert.Zero(t, e.count(`SELECT count(*) FROM telegram_chats WHERE rut_lookup LIKE '%rut-hash-77%'`))
	e.feed("SCL-009", e.issued("SCL-009", "z1", "E", 4, 1, "", "rut-hash-77"))
	assert.Equal(t, "telegram.confirm", last(replies(e, 5001)))

	// /stop: unlinked; later events of its tickets send nothing.
	e.say(5001, "es", "/stop")
	assert.Equal(t, "telegram.stopped", last(replies(e, 5001)))
	k := len(replies(e, 5001))
	e.feed("SCL-009", e.called("SCL-009", "z1", "E", 4, 2, "Rosa", 0))
	e.feed("SCL-009", e.issued("SCL-009", "z2", "E", 5, 1, "", "rut-hash-77"))
	assert.Len(t, replies(e, 5001), k)
}

func last(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

func TestWebhook(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	h := &telegram.Webhook{Bot: e.bot, Secret: "s3cret-s3cret-s3cret"}
	post := func(secret, body string) int {
		r := httptest.NewRequest(http.MethodPost, "/telegram/webhook", strings.NewReader(body))
		if secret != "" {
			r.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	upd := `{"update_id": 77, "message": {"message_id": 1, "text": "/ayuda", "chat": {"id": 6001, "type": "private"},
		"from": {"id": 6001, "language_code": "en"}}}`
	assert.Equal(t, http.StatusUnauthorized, post("", upd))
	assert.Equal(t, http.StatusUnauthorized, post("wrong", upd))
	assert.Empty(t, replies(e, 6001))
	assert.Equal(t, http.StatusOK, post("s3cret-s3cret-s3cret", upd))
	assert.Equal(t, http.StatusOK, post("s3cret-s3cret-s3cret", upd), "redelivered")
	assert.Equal(t, []string{"telegram.help"}, replies(e, 6001))
	assert.Equal(t, http.StatusOK, post("s3cret-s3cret-s3cret", `{not json`))
	r := httptest.NewRequest(http.MethodGet, "/telegram/webhook", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)

	run(t, e.worker(29))
	texts := e.waitTexts(6001, 1)
	assert.Contains(t, texts[0], "I let you know when your turn is near")
}

func TestPollerAndWrongToken(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &telegram.Poller{API: telegram.NewClient(e.fake.URL, testToken, nil), Bot: e.bot, Timeout: time.Second}
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	e.fake.AddUpdate(telegramtest.TextUpdate(7001, "es", "/ayuda"))
	e.fake.AddUpdate(telegramtest.TextUpdate(7002, "es", "/estado"))
	require.Eventually(t, func() bool { return len(replies(e, 7002)) == 1 }, 10*time.Second, 10*time.Millisecond)
	cancel()
	<-done
	assert.Equal(t, []string{"telegram.help"}, replies(e, 7001))

	// A restarted poller resumes after the last update: nothing answered twice.
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan struct{})
	go func() { defer close(done2); _ = p.Run(ctx2) }()
	e.fake.AddUpdate(telegramtest.TextUpdate(7001, "es", "/stop"))
	require.Eventually(t, func() bool { return len(replies(e, 7001)) == 2 }, 10*time.Second, 10*time.Millisecond)
	cancel2()
	<-done2
	assert.Len(t, replies(e, 7002), 1)

	// The fake checks the bot token like Telegram.
	_, err := telegram.NewClient(e.fake.URL, "123:wrong", nil).SendMessage(context.Background(), 1, "x")
	var ae *telegram.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusUnauthorized, ae.Status)
	assert.NotContains(t, err.Error(), "wrong", "the token never appears in errors")
}

func TestAlertDigest(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	ctx := context.Background()
	var alerts []cloud.Alert
	for i := 1; i <= 40; i++ {
		alerts = append(alerts, cloud.Alert{ID: int64(i), Branch: "SCL-0" + string(rune('0'+i%10)),
			Kind: "queue_long", Value: int64(15 + i)})
	}
	src := func(_ context.Context, after int64, limit int) ([]cloud.Alert, error) {
		var out []cloud.Alert
		for _, a := range alerts {
			if a.ID > after && len(out) < limit {
				a.Shown = cloud.FormatAlertValue(a.Kind, a.Value) // as notify.Store.AlertsAfter shows it
				out = append(out, a)
			}
		}
		return out, nil
	}
	sealed, err := e.keys.SealChat(-100123)
	require.NoError(t, err)
	row, err := e.store.EnsureChat(ctx, e.keys.ChatHash(-100123), sealed, "group", "es")
	require.NoError(t, err)
	d := &telegram.Digester{Store: e.store, Source: src, ChatRow: row, Lang: "es", MaxLines: 10}
	require.NoError(t, d.Once(ctx))
	require.NoError(t, d.Once(ctx), "nothing new: no second digest")
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM telegram_jobs WHERE kind = 'digest'`))
	alerts = append(alerts, cloud.Alert{ID: 41, Branch: "SCL-777", Kind: "agent_offline", Value: 979})
	require.NoError(t, d.Once(ctx))
	assert.Equal(t, 2, e.count(`SELECT count(*) FROM telegram_jobs WHERE kind = 'digest'`))

	w := e.worker(29)
	run(t, w)
	texts := e.waitTexts(-100123, 1)
	assert.Contains(t, texts[0], "Alertas de sucursales")
	assert.Contains(t, texts[0], "… y 30 alertas más en el panel.")
	assert.Equal(t, 11, strings.Count(texts[0], "\n"), "10 lines and the rest counted")
	// The second digest waits for the group's pacing (3.1 s, under 20/min).
	time.Sleep(time.Second)
	assert.Len(t, e.fake.SentTo(-100123), 1)
	texts = e.waitTexts(-100123, 2)
	assert.Contains(t, texts[1], "SCL-777: agente sin conexión (16:19)", "durations as m:ss, not seconds")
	sent := e.fake.Sent()
	var at []time.Time
	for _, s := range sent {
		if s.ChatID == -100123 {
			at = append(at, s.At)
		}
	}
	assert.GreaterOrEqual(t, at[1].Sub(at[0]), 3*time.Second)
}

func TestPurgeKeepsOnlyWhatRetentionAllows(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	ctx := context.Background()
	const b = "SCL-PUR"
	e.feed(b, e.issued(b, "o1", "C", 1, 1, "tok-old", "rut-old"), e.issued(b, "n1", "C", 2, 2, "tok-new", ""))
	e.say(8001, "es", "/start tok-old")
	e.say(8001, "es", "/recordar") // consent: kept
	e.say(8002, "es", "/start tok-new")
	e.say(8003, "es", "/ayuda")
	e.exec(`UPDATE telegram_jobs SET status = 'sent'`)
	old := time.Now().Add(-40 * 24 * time.Hour)
	e.exec(`UPDATE telegram_chats SET created_at = $1`, old)
	e.exec(`UPDATE telegram_jobs SET created_at = $1`, old)
	e.exec(`UPDATE telegram_updates SET received_at = $1`, old)
	e.exec(`UPDATE telegram_token_links SET created_at = $1 WHERE token = 'tok-old'`, old)
	e.exec(`UPDATE telegram_ticket_chats SET created_at = $1 WHERE ticket = 'o1'`, old)

	n, err := e.store.Purge(ctx, notify.DefaultRetention)
	require.NoError(t, err)
	assert.Positive(t, n)
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM telegram_chats WHERE chat_hash = $1`, e.keys.ChatHash(8001)), "consented")
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM telegram_chats WHERE chat_hash = $1`, e.keys.ChatHash(8002)), "still linked")
	assert.Zero(t, e.count(`SELECT count(*) FROM telegram_chats WHERE chat_hash = $1`, e.keys.ChatHash(8003)))
	assert.Zero(t, e.count(`SELECT count(*) FROM telegram_ticket_chats WHERE ticket = 'o1'`))
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM telegram_ticket_chats WHERE ticket = 'n1'`))
	assert.Zero(t, e.count(`SELECT count(*) FROM telegram_jobs`))
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM telegram_updates`), "the newest update ID stays for getUpdates")
}
