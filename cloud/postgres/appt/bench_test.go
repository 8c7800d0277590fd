package appt_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/commands"
	"github.com/ticketero/ticketero/cloud/postgres/appt"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

// BenchmarkSlots: the public page's slot list under 1,000 concurrent
// callers (b.SetParallelism), a day of 36 slots with 200 bookings, the day
// read from PostgreSQL again every second (slotsTTL); reports p50 and p99
// per call. docs/performance.md ("Appointments").
func BenchmarkSlots(b *testing.B) {
	ctx := context.Background()
	pool := hqtest.MustPool(b, dsn)
	s := appt.New(pool, nil)
	s.Now = func() time.Time { return now }
	id := fmt.Sprintf("BENCH-%d", time.Now().UnixNano()%1_000_000)
	_, err := pool.Exec(ctx, `INSERT INTO hq_services (branch, code, name, target_wait_s, mean_service_s) VALUES ($1, 'C', 'Caja', 600, 300)`, id)
	require.NoError(b, err)
	require.NoError(b, s.SaveSchedule(ctx, cloud.BookingSchedule{Branch: id, Service: "C", SlotMin: 15, ReservePct: 0, HorizonDays: 14,
		Weekly: map[string][]cloud.BookingHours{"wed": {{From: "09:00", To: "18:00", Executives: 8}}}}, "bench"))
	slots, err := s.Slots(ctx, id, "C", day)
	require.NoError(b, err)
	for i := range 200 {
		body := 10_000_000 + i
		_, err := s.Book(ctx, cloud.BookRequest{Branch: id, Service: "C", Start: slots[i%len(slots)].Start,
			RUT: fmt.Sprintf("%d-%c", body, queue.CheckDigit(body)), Channel: "web"})
		require.NoError(b, err)
	}
	// One reader, every call a read of PostgreSQL (the clock jumps past the
	// cache's second each time): the statement's own cost.
	b.Run("query", func(b *testing.B) {
		var tick time.Duration
		s.Now = func() time.Time { tick += 2 * time.Second; return now.Add(tick) }
		lat := make([]time.Duration, 0, b.N)
		for b.Loop() {
			t0 := time.Now()
			if _, err := s.Slots(ctx, id, "C", day); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		report(b, lat)
	})
	// 1,000 concurrent callers, the clock running: the day is read again
	// every second, as in production.
	b.Run("1000", func(b *testing.B) {
		t0 := time.Now()
		s.Now = func() time.Time { return now.Add(time.Since(t0)) }
		var mu sync.Mutex
		var lat []time.Duration
		b.SetParallelism(500) // 1,000 goroutines on 2 cores
		b.RunParallel(func(pb *testing.PB) {
			var mine []time.Duration
			for pb.Next() {
				t0 := time.Now()
				if _, err := s.Slots(ctx, id, "C", day); err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
		report(b, lat)
	})
}

// report adds the p50 and p99 of lat to the benchmark's line.
func report(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// BenchmarkBook: one booking after another with the cloud's RUT keys (as in
// production: HMAC and sealed RUT, no argon2id), a day of 36 slots; the
// time per call is the booking's transaction with its round trips, and
// "publish-20-ms" the command queue's first listing of 20 of these orders,
// each completed with its check-in hash (argon2id, GOMAXPROCS at a time). docs/performance.md ("Booking
// page").
func BenchmarkBook(b *testing.B) {
	ctx := context.Background()
	s, _, id, slots := keyedBranch(b, dsn, "BOOK")
	lat := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		body := 20_000_000 + i
		t0 := time.Now()
		if _, err := s.Book(ctx, cloud.BookRequest{Branch: id, Service: "C", Start: slots[i%len(slots)].Start,
			RUT: fmt.Sprintf("%d-%c", body, queue.CheckDigit(body)), Channel: "web"}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		i++
	}
	b.StopTimer()
	report(b, lat)
	t0 := time.Now()
	pending, err := s.PendingCommands(ctx, 0, 20)
	require.NoError(b, err)
	require.NotEmpty(b, pending)
	b.ReportMetric(float64(time.Since(t0).Microseconds())/1000, "publish-20-ms")
}

// keyedBranch is a new branch (prefix and a number) in the database at dbURL
// whose Caja is bookable on day 09:00-18:00 in 15-minute slots of 50
// places, over a store with the cloud's RUT keys as in production; it
// returns the day's slots.
func keyedBranch(b *testing.B, dbURL, prefix string) (*appt.Store, *pgxpool.Pool, string, []cloud.Slot) {
	ctx := context.Background()
	pool := hqtest.MustPool(b, dbURL)
	keys, err := seal.NewRUTKeys([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(b, err)
	s := appt.New(pool, keys)
	s.Now = func() time.Time { return now }
	id := fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()%1_000_000)
	_, err = pool.Exec(ctx, `INSERT INTO hq_services (branch, code, name, target_wait_s, mean_service_s) VALUES ($1, 'C', 'Caja', 600, 300)`, id)
	require.NoError(b, err)
	require.NoError(b, s.SaveSchedule(ctx, cloud.BookingSchedule{Branch: id, Service: "C", SlotMin: 15, ReservePct: 0, HorizonDays: 14,
		Weekly: map[string][]cloud.BookingHours{"wed": {{From: "09:00", To: "18:00", Executives: 50}}}}, "bench"))
	slots, err := s.Slots(ctx, id, "C", day)
	require.NoError(b, err)
	return s, pool, id, slots
}

// BenchmarkRepublishBurst: one pass of the republisher (cloud/commands)
// over 199 bookings just made with the cloud's RUT keys (each order still
// waiting for its argon2id check-in hash) and a Telegram ticket.cancel
// queued after them, as in a burst. It reports when the cancel went out
// ("cancel-ms", from the start of the pass), when the first booking did
// ("first-booking-ms") and the whole pass ("pass-ms": what the cancel
// waited when a pass hashed every order before publishing any).
// docs/performance.md ("Booking page"). The branch has a database of its
// own: a pass claims every due command of the database.
func BenchmarkRepublishBurst(b *testing.B) {
	ctx := context.Background()
	s, pool, id, slots := keyedBranch(b, ownDatabase(b), "BURST")
	for i := range 199 {
		body := 30_000_000 + i
		_, err := s.Book(ctx, cloud.BookRequest{Branch: id, Service: "C", Start: slots[i%len(slots)].Start,
			RUT: fmt.Sprintf("%d-%c", body, queue.CheckDigit(body)), Channel: "web"})
		require.NoError(b, err)
	}
	_, err := pool.Exec(ctx, `INSERT INTO branch_commands (id, branch, type, ticket, created_at) VALUES ($1 || '-cancel', $1, 'ticket.cancel', 'T1', $2)`,
		id, now.Add(time.Minute))
	require.NoError(b, err)
	// Each pass starts from the orders as booked (no check yet).
	orig, err := pool.Query(ctx, `SELECT id, payload FROM branch_commands WHERE branch = $1 AND payload ? 'check_day'`, id)
	require.NoError(b, err)
	type row struct {
		id      string
		payload []byte
	}
	var rows []row
	for orig.Next() {
		var r row
		require.NoError(b, orig.Scan(&r.id, &r.payload))
		rows = append(rows, r)
	}
	require.NoError(b, orig.Err())
	require.Len(b, rows, 199)
	var cancelMS, firstMS, passMS []time.Duration
	for b.Loop() {
		b.StopTimer()
		for _, r := range rows {
			_, err := pool.Exec(ctx, `UPDATE branch_commands SET payload = $2 WHERE id = $1`, r.id, r.payload)
			require.NoError(b, err)
		}
		_, err := pool.Exec(ctx, `UPDATE branch_commands SET published_at = NULL, publishes = 0 WHERE branch = $1`, id)
		require.NoError(b, err)
		pub := &timedPublisher{t0: time.Now(), at: map[string]time.Duration{}}
		b.StartTimer()
		require.NoError(b, commands.Republish(ctx, s, pub, time.Hour))
		pass := time.Since(pub.t0)
		require.Len(b, pub.at, 200)
		cancelMS = append(cancelMS, pub.at[id+"-cancel"])
		firstMS = append(firstMS, pub.first)
		passMS = append(passMS, pass)
	}
	for _, m := range []struct {
		name string
		d    []time.Duration
	}{{"cancel-ms", cancelMS}, {"first-booking-ms", firstMS}, {"pass-ms", passMS}} {
		slices.Sort(m.d)
		b.ReportMetric(float64(m.d[len(m.d)/2].Microseconds())/1000, m.name)
	}
}

// timedPublisher records when each command went out after t0, and when the
// first booking did.
type timedPublisher struct {
	t0    time.Time
	mu    sync.Mutex
	at    map[string]time.Duration
	first time.Duration
}

func (p *timedPublisher) PublishCommand(_ context.Context, c event.Command) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := time.Since(p.t0)
	p.at[c.ID] = d
	if c.Type == event.CommandBookAppointment && p.first == 0 {
		p.first = d
	}
	return nil
}
