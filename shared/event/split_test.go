package event_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
)

// issuedEvents is n ticket.issued events from seq 1.
func issuedEvents(tb testing.TB, n int) []event.Event {
	tb.Helper()
	evs := make([]event.Event, n)
	for i := range evs {
		var err error
		evs[i], err = event.New(uint64(i+1), "01JDZ8EVT"+itoa(uint64(i+1)), event.TicketIssued, at, samples[event.TicketIssued])
		require.NoError(tb, err)
	}
	return evs
}

// TestSplitBatchWireBytes pins SplitBatch's messages to EncodeBatch's bytes
// for the same events: splitting marshals each event once and joins the
// results, and the wire must not notice.
func TestSplitBatchWireBytes(t *testing.T) {
	evs := issuedEvents(t, 3000)
	for _, branch := range []string{"SCL-001", `A<&>"\`} {
		for _, limit := range []int{0, 1500, 40_000} {
			msgs, last, replaced, err := event.SplitBatch(branch, evs, limit)
			require.NoError(t, err)
			require.Empty(t, replaced)
			first := uint64(1)
			for i, m := range msgs {
				want, err := event.EncodeBatch(branch, evs[first-1:last[i]])
				require.NoError(t, err)
				assert.Equal(t, string(want), string(m), "branch %q, limit %d, message %d", branch, limit, i)
				first = last[i] + 1
			}
			assert.Equal(t, uint64(3001), first)
		}
	}
}

// BenchmarkSplitBatch is the agent's encoding cost for one outbox read of
// 1000 events (the relay's BatchEvents).
func BenchmarkSplitBatch(b *testing.B) {
	evs := issuedEvents(b, 1000)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := event.SplitBatch("SCL-001", evs, 0); err != nil {
			b.Fatal(err)
		}
	}
}
