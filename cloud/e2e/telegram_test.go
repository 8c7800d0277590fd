package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
)

const tgToken = "777000:e2e-fake-token"

// telegramEnv starts the real agent and cloud with Telegram on in polling mode
// against a fake Bot API in this process.
func telegramEnv(t testing.TB, e *env, extra ...string) *telegramtest.Server {
	fake := telegramtest.New(tgToken, telegramtest.Options{})
	t.Cleanup(fake.Close)
	for k, v := range map[string]string{
		"TICKETERO_TELEGRAM_TOKEN": tgToken,
		"TICKETERO_TELEGRAM_MODE":  "polling",
		"TICKETERO_TELEGRAM_API":   fake.URL,
		"TICKETERO_DATA_KEY":       base64.StdEncoding.EncodeToString([]byte("e2e-data-key-0123456789abcdef-32")),
	} {
		e.setenv(k, v)
	}
	e.setenv(extra...)
	e.startCloud()
	e.startAgent()
	return fake
}

type issuedTicket struct {
	ID     string `json:"id"`
	Token  string `json:"token"`
	Number string `json:"number"` // display number, "C-001"
}

func (e *env) issueOne(service string) issuedTicket {
	e.t.Helper()
	var tk issuedTicket
	code, err := e.do("POST", "/api/v1/tickets", "", map[string]string{"service": service}, &tk)
	require.NoError(e.t, err)
	require.Equal(e.t, 201, code)
	require.NotEmpty(e.t, tk.Token, "the ticket carries a Telegram token")
	return tk
}

func (e *env) login() {
	e.t.Helper()
	var s struct {
		Token string `json:"token"`
	}
	code, err := e.do("POST", "/api/v1/sessions", "", map[string]any{"executive": "E01", "pin": "240681", "counter": 1}, &s)
	require.NoError(e.t, err)
	require.Contains(e.t, []int{200, 201}, code)
	e.token = s.Token
}

func waitTexts(t testing.TB, fake *telegramtest.Server, chat int64, n int) []string {
	t.Helper()
	var got []string
	require.Eventually(t, func() bool { got = fake.SentTo(chat); return len(got) >= n }, 30*time.Second,
		10*time.Millisecond, "chat %d: want %d messages, got %v", chat, n, got)
	return got
}

// Full stack: a customer links his chat by /start <token> (getUpdates), a call
// at the agent reaches the fake Bot API as the your-turn sendMessage through
// the relay, the broker and the cloud, and /cancelar travels back to the agent
// as an MQTT command, applied once, confirmed by its ticket.cancelled.
func TestTelegramFullStack(t *testing.T) {
	parallel(t)
	e := newEnv(t, "E2E-TG")
	fake := telegramEnv(t, e)

	first := e.issueOne("C")
	second := e.issueOne("C")
	fake.AddUpdate(telegramtest.TextUpdate(9001, "es", "/start "+first.Token))
	fake.AddUpdate(telegramtest.TextUpdate(9002, "en", "/start "+second.Token))
	got := waitTexts(t, fake, 9001, 2)
	assert.True(t, strings.Contains(strings.Join(got, "\n"), first.Number), got)
	waitTexts(t, fake, 9002, 2)

	// /cancelar from the second chat: the agent cancels the ticket once.
	fake.AddUpdate(telegramtest.TextUpdate(9002, "en", "/cancelar"))
	got = waitTexts(t, fake, 9002, 4)
	assert.True(t, strings.Contains(strings.Join(got, "\n"), "Your number "+second.Number+" was cancelled."), got)
	var st string
	require.NoError(t, e.db.QueryRow(t.Context(), `SELECT status FROM tickets WHERE id = $1`, second.ID).Scan(&st))
	assert.Equal(t, "cancelled", st)
	// Only the cancel counts: on a loaded machine the /start confirmation may
	// find the ticket's place stale and send a ticket.locate command too.
	var applied, cancelled int
	require.NoError(t, e.db.QueryRow(t.Context(), `SELECT count(*) FROM branch_commands WHERE status = 'applied' AND type = 'ticket.cancel'`).Scan(&applied))
	require.NoError(t, e.db.QueryRow(t.Context(), `SELECT count(*) FROM events WHERE type = 'ticket.cancelled'`).Scan(&cancelled))
	assert.Equal(t, 1, applied)
	assert.Equal(t, 1, cancelled)

	// The call: your turn, with the counter and the executive's first name.
	e.login()
	var called issuedTicket
	code, err := e.do("POST", "/api/v1/counters/1/call-next", e.token, nil, &called)
	require.NoError(t, err)
	require.Equal(t, 200, code)
	require.Equal(t, first.ID, called.ID)
	want := "¡Es tu turno! Número " + first.Number + ": dirígete al módulo 1, te atiende Ana."
	require.Eventually(t, func() bool { return slices.Contains(fake.SentTo(9001), want) }, 30*time.Second,
		10*time.Millisecond, "your turn: %v", fake.SentTo(9001))
	// The first was next from its issue (within the pre-notice threshold): its
	// confirmation said so and no separate come-back notice was sent.
	// (When the second ticket reached the cloud before the first's link, the
	// figure is told with its time: the branch issued a later ticket.)
	assert.True(t, slices.Contains(fake.SentTo(9001),
		"Tu número es "+first.Number+". Personas antes que tú: 0. Espera estimada: entre 5 y 10 min. Te avisaremos cuando falte poco; puedes salir y volver a tiempo.") ||
		slicesContainsPrefix(fake.SentTo(9001), "Tu número es "+first.Number+". A las ") &&
			strings.Contains(strings.Join(fake.SentTo(9001), "\n"), " tenías 0 personas antes que tú; espera estimada entonces: entre 5 y 10 min."), fake.SentTo(9001))
	for _, m := range fake.SentTo(9001) {
		assert.NotContains(t, m, "se acerca")
	}
	assert.Zero(t, fake.Stats().TooMany)
}

// TestTelegramCallLatency measures branch call-next → your-turn sendMessage at
// the fake Bot API through agent, relay, broker, cloud ingest and worker, for
// 60 calls. It is a measurement, not a timed assertion: run it with
// TICKETERO_BENCH=1 (see docs/performance.md, "Telegram").
func TestTelegramCallLatency(t *testing.T) {
	if os.Getenv("TICKETERO_BENCH") == "" {
		t.Skip("measurement: set TICKETERO_BENCH=1")
	}
	const n = 60
	e := newEnv(t, "E2E-TGL")
	fake := telegramEnv(t, e)
	var tickets []issuedTicket
	for i := 0; i < n; i++ {
		tk := e.issueOne("C")
		tickets = append(tickets, tk)
		fake.AddUpdate(telegramtest.TextUpdate(int64(9100+i), "es", "/start "+tk.Token))
	}
	for i := 0; i < n; i++ {
		waitTexts(t, fake, int64(9100+i), 2) // linked + confirmation (pre-notices may follow)
	}
	e.login()
	lat := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		chat := int64(9100 + i)
		t0 := time.Now()
		var called issuedTicket
		code, err := e.do("POST", "/api/v1/counters/1/call-next", e.token, nil, &called)
		require.NoError(t, err)
		require.Equal(t, 200, code)
		require.Equal(t, tickets[i].ID, called.ID)
		var at time.Time
		require.Eventually(t, func() bool {
			for _, s := range fake.Sent() {
				if s.ChatID == chat && strings.HasPrefix(s.Text, "¡Es tu turno!") {
					at = s.At
					return true
				}
			}
			return false
		}, 30*time.Second, time.Millisecond)
		lat = append(lat, at.Sub(t0))
		e.do("POST", "/api/v1/tickets/"+called.ID+"/start", e.token, nil, nil)
		e.do("POST", "/api/v1/tickets/"+called.ID+"/complete", e.token, map[string]string{"outcome": "ok"}, nil)
	}
	slices.Sort(lat)
	st := fake.Stats()
	t.Logf("call-next → your-turn sendMessage over %d calls: p50 %v, p99 %v, max %v; fake: %d sent, %d 429s, %d unhonoured",
		n, lat[n/2], lat[n*99/100], lat[n-1], len(fake.Sent()), st.TooMany, st.Unhonoured)
	assert.Zero(t, st.Unhonoured)
}

// A fault run through the real programs: 5 % of Bot API calls fail with 5xx,
// the cloud is stopped (SIGTERM) and later killed (SIGKILL) while the branch
// keeps calling. Every customer gets his turn; nothing is sent twice except
// within the documented window (a kill between Telegram's 200 and the commit
// of "sent"), which is bounded by the sends in flight.
func TestTelegramCloudRestart(t *testing.T) {
	parallel(t)
	const n = 30
	e := newEnv(t, "E2E-TGR")
	fake := telegramEnv(t, e, "TICKETERO_TELEGRAM_RETRIES", "100ms,200ms,400ms", "TICKETERO_TELEGRAM_LEASE", "2s")
	fake.SetFailRate(0.05)
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		ctx := context.Background() // t.Context() is done by now
		var applied, maxSeq int64
		_ = e.db.QueryRow(ctx, `SELECT applied_seq, max_seq FROM branch_sync WHERE branch = $1`, e.branch).
			Scan(&applied, &maxSeq)
		rows, _ := e.db.Query(ctx, `SELECT status || '/' || kind || '/' || attempts || '/' || run_at::text
			|| '/' || last_error FROM telegram_jobs WHERE status <> 'sent' ORDER BY id`)
		var open []string
		for rows != nil && rows.Next() {
			var s string
			_ = rows.Scan(&s)
			open = append(open, s)
		}
		t.Logf("diagnosis: applied %d, max %d; jobs not sent %v; fake %+v", applied, maxSeq, open, fake.Stats())
	})
	var tickets []issuedTicket
	for i := 0; i < n; i++ {
		tk := e.issueOne("C")
		tickets = append(tickets, tk)
		fake.AddUpdate(telegramtest.TextUpdate(int64(9500+i), "es", "/start "+tk.Token))
	}
	// Every customer has linked his chat before the calls begin: this test is
	// about restarts losing or doubling messages, not about a link that races
	// its own call (on a loaded machine the calls can outrun the long poll).
	require.Eventually(t, func() bool {
		var linked int
		_ = e.db.QueryRow(t.Context(), `SELECT count(*) FROM telegram_ticket_chats WHERE branch = $1`, e.branch).Scan(&linked)
		return linked == n
	}, 60*time.Second, 20*time.Millisecond, "every chat linked")
	e.login()
	for i := 0; i < n; i++ {
		switch i {
		case n / 3:
			e.clouds[len(e.clouds)-1].stop()
			e.startCloud()
		case 2 * n / 3:
			e.clouds[len(e.clouds)-1].kill()
			e.startCloud()
		}
		var called issuedTicket
		code, err := e.do("POST", "/api/v1/counters/1/call-next", e.token, nil, &called)
		require.NoError(t, err)
		require.Equal(t, 200, code)
		require.Equal(t, tickets[i].ID, called.ID)
		e.do("POST", "/api/v1/tickets/"+called.ID+"/start", e.token, nil, nil)
		e.do("POST", "/api/v1/tickets/"+called.ID+"/complete", e.token, map[string]string{"outcome": "ok"}, nil)
	}
	for i := 0; i < n; i++ {
		want := "¡Es tu turno! Número " + tickets[i].Number + ": dirígete al módulo 1, te atiende Ana."
		require.Eventually(t, func() bool { return slices.Contains(fake.SentTo(int64(9500+i)), want) }, 60*time.Second,
			20*time.Millisecond, "chat %d never got its turn: %v", i, fake.SentTo(int64(9500+i)))
	}
	var open, sent, dead int
	require.Eventually(t, func() bool {
		err := e.db.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE status IN ('pending', 'sending')),
			count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status = 'dead') FROM telegram_jobs`).
			Scan(&open, &sent, &dead)
		return err == nil && open == 0
	}, 60*time.Second, 50*time.Millisecond)
	dups := 0
	seen := map[string]bool{}
	for _, m := range fake.Sent() {
		k := fmt.Sprint(m.ChatID, m.Text)
		if seen[k] {
			dups++
		}
		seen[k] = true
	}
	st := fake.Stats()
	t.Logf("jobs sent %d, dead %d; fake accepted %d (%d duplicates), 5xx %d, 429 %d, unhonoured %d",
		sent, dead, len(fake.Sent()), dups, st.Failed, st.TooMany, st.Unhonoured)
	assert.GreaterOrEqual(t, float64(sent), 0.999*float64(sent+dead), "delivered")
	assert.LessOrEqual(t, dups, 8, "duplicates only from sends in flight at the kill")
	assert.Equal(t, sent+dups, len(fake.Sent()))
	assert.Positive(t, st.Failed, "5xx were injected")
	assert.Zero(t, st.Unhonoured)
}
