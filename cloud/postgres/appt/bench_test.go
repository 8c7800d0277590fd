package appt_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/appt"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
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
	pool := hqtest.MustPool(b, dsn)
	keys, err := seal.NewRUTKeys([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(b, err)
	s := appt.New(pool, keys)
	s.Now = func() time.Time { return now }
	id := fmt.Sprintf("BOOK-%d", time.Now().UnixNano()%1_000_000)
	_, err = pool.Exec(ctx, `INSERT INTO hq_services (branch, code, name, target_wait_s, mean_service_s) VALUES ($1, 'C', 'Caja', 600, 300)`, id)
	require.NoError(b, err)
	require.NoError(b, s.SaveSchedule(ctx, cloud.BookingSchedule{Branch: id, Service: "C", SlotMin: 15, ReservePct: 0, HorizonDays: 14,
		Weekly: map[string][]cloud.BookingHours{"wed": {{From: "09:00", To: "18:00", Executives: 50}}}}, "bench"))
	slots, err := s.Slots(ctx, id, "C", day)
	require.NoError(b, err)
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
