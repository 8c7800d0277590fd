package telegram_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/postgres/notify"
	"github.com/ticketero/ticketero/cloud/telegram"
	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
	"github.com/ticketero/ticketero/shared/event"
)

// linkTickets issues n tickets linked to chats 20000.. and drops the setup
// messages, so only what the benchmark causes is sent.
func linkTickets(b *testing.B, e *env, branch string, n int) {
	for i := 0; i < n; i++ {
		e.say(int64(20000+i), "es", fmt.Sprintf("/start bk%05d", i))
	}
	var evs []event.Event
	for i := 0; i < n; i++ {
		// Each ticket alone in its queue (its own day) so no pre-notice fires:
		// the benchmarks measure your-turn messages only.
		evs = append(evs, e.ev(branch, event.TicketIssued, event.Issued{TicketRef: benchRef(i), Priority: "normal",
			QueuedAt: time.Now(), Position: 1, Token: fmt.Sprintf("bk%05d", i)}))
	}
	for i := 0; i < n; i += 100 {
		e.feed(branch, evs[i:min(i+100, n)]...)
	}
	e.exec(`UPDATE telegram_jobs SET status = 'dropped' WHERE status = 'pending'`)
}

func benchRef(i int) event.TicketRef {
	return event.TicketRef{Ticket: fmt.Sprintf("b%05d", i), Service: "C", Number: i + 1,
		Day: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format(time.DateOnly)}
}

func benchCalled(e *env, branch string, i int) event.Event {
	r := benchRef(i)
	r.Counter, r.Executive = 1+i%8, "e1"
	return e.ev(branch, event.TicketCalled, event.Called{TicketRef: r, ExecutiveName: "Ana"})
}

// BenchmarkThousandTickets sends the your-turn messages of 1,000 tickets called
// in bursts against a fake Bot API with Telegram's limits (30/s per bot, 1/s
// per chat, 429 with retry_after): reports the send rate and the 429s.
func BenchmarkThousandTickets(b *testing.B) {
	const n = 1000
	for it := 0; it < b.N; it++ {
		b.StopTimer()
		e := newEnv(b, telegramtest.Options{BotRate: 30, ChatGap: time.Second, RetryAfter: 1})
		const branch = "BEN-001"
		linkTickets(b, e, branch, n)
		w := &telegram.Worker{Store: e.store, Bot: telegram.NewClient(e.fake.URL, testToken, nil), Keys: e.keys,
			Limiter: telegram.NewLimiter(29)}
		b.StartTimer()
		start := time.Now()
		stop := run(b, w)
		for i := 0; i < n; i += 50 {
			var evs []event.Event
			for j := i; j < i+50; j++ {
				evs = append(evs, benchCalled(e, branch, j))
			}
			e.feed(branch, evs...)
		}
		require.Eventually(b, func() bool { return e.jobCounts()["sent"] == n }, 120*time.Second, 50*time.Millisecond)
		elapsed := time.Since(start)
		stop()
		b.StopTimer()
		st := e.fake.Stats()
		b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(float64(st.TooMany), "429s")
		b.ReportMetric(float64(st.Unhonoured), "unhonoured-429s")
		b.ReportMetric(float64(st.MaxSentPerSec), "max-msgs-in-1s")
		require.Zero(b, st.Unhonoured)
		require.Len(b, e.fake.Sent(), n)
	}
}

// BenchmarkCallToSend measures ticket.called ingested (the cloud's commit) →
// sendMessage received at the fake Bot API, one call at a time, with the
// worker's production poll interval.
func BenchmarkCallToSend(b *testing.B) {
	e := newEnv(b, telegramtest.Options{})
	const branch = "BEN-002"
	n := b.N
	linkTickets(b, e, branch, n)
	w := &telegram.Worker{Store: e.store, Bot: telegram.NewClient(e.fake.URL, testToken, nil), Keys: e.keys,
		Limiter: telegram.NewLimiter(29), Pacing: notify.Pacing{Private: 1100 * time.Millisecond,
			Group: 3100 * time.Millisecond, Lease: time.Minute}}
	// As in the Service: LISTEN wakes the idle worker at commit.
	wake := make(chan struct{}, 1)
	w.Wake = wake
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_ = e.store.Listen(ctx, func() {
			select {
			case wake <- struct{}{}:
			default:
			}
		})
	}()
	run(b, w)
	time.Sleep(100 * time.Millisecond) // the listener is up
	lat := make([]time.Duration, 0, n)
	b.ResetTimer()
	for i := 0; i < n; i++ {
		chat := int64(20000 + i)
		t0 := time.Now()
		e.feed(branch, benchCalled(e, branch, i))
		var at time.Time
		for at.IsZero() {
			time.Sleep(time.Millisecond)
			for _, s := range e.fake.Sent() {
				if s.ChatID == chat {
					at = s.At
				}
			}
		}
		lat = append(lat, at.Sub(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
