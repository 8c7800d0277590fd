package sqlite_test

import (
	"context"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/ticketero/ticketero/agent"
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
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2])/1e6, "p50_ms")
	b.ReportMetric(float64(lat[(len(lat)*99+99)/100-1])/1e6, "p99_ms")
}
