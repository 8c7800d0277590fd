package sqlite_test

import (
	"context"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

// BenchmarkIssueSerial: one durable issue at a time straight on the store
// (one transaction, one fsync each): the floor under the HTTP figures.
func BenchmarkIssueSerial(b *testing.B) {
	e := MustStore(b, 6)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if _, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C", IdempotencyKey: strconv.Itoa(i)}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportLatency(b, lat)
}

// BenchmarkCheckInRUT: a kiosk check-in by RUT among 200 bookings of the
// day, straight on the store: seal.CheckInHash (argon2id, deliberately
// slow, computed outside the writer), the lookup, the ticket and its two
// events in one transaction. Each iteration checks a new booking in.
func BenchmarkCheckInRUT(b *testing.B) {
	e := MustStore(b, 6)
	ctx := context.Background()
	day := t0.In(santiago).Format(time.DateOnly)
	ruts := make([]string, b.N)
	for i := range b.N + 200 {
		body := 10_000_000 + i
		rut := strconv.Itoa(body) + "-" + string(queue.CheckDigit(body))
		o := &event.AppointmentOrder{Appointment: "A" + strconv.Itoa(i), Rev: 1, Service: "P", Start: t0.Add(10 * time.Minute),
			End: t0.Add(30 * time.Minute), Code: strconv.Itoa(100000 + i), RUTCheck: seal.CheckInHash("SCL-001", day, rut)}
		if err := e.st.ApplyCommand(ctx, event.Command{V: 1, Branch: "SCL-001", ID: "c" + strconv.Itoa(i),
			Type: event.CommandBookAppointment, Appointment: o}); err != nil {
			b.Fatal(err)
		}
		if i < b.N {
			ruts[i] = rut
		}
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if _, err := e.st.CheckIn(ctx, "", ruts[i]); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportLatency(b, lat)
}

// reportLatency reports the p50 and p99 of lat (milliseconds).
func reportLatency(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2])/1e6, "p50_ms")
	b.ReportMetric(float64(lat[(len(lat)*99+99)/100-1])/1e6, "p99_ms")
}
