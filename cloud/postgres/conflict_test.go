package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/eventgen"
)

// A box that restarted its sequence (wiped or replaced without resuming) sends
// seqs the cloud already holds with other events: they are refused, never
// taken for duplicates and dropped; a true duplicate is still acked.
func TestIngestRefusesSeqConflict(t *testing.T) {
	s := store(t)
	ctx := context.Background()
	old := eventgen.New("CNF-001", 1).Take(10)
	res, err := s.Ingest(ctx, batch("CNF-001", old))
	require.NoError(t, err)
	require.Equal(t, uint64(10), res.Applied)

	res, err = s.Ingest(ctx, batch("CNF-001", old[3:7]))
	require.NoError(t, err, "a resend of the same events is a duplicate")
	assert.Equal(t, uint64(10), res.Applied)

	reset := eventgen.New("CNF-001", 99).Take(12) // same seqs 1..12, other events
	for i := range reset {
		reset[i].ID = "wiped-box-" + reset[i].ID
	}
	for _, tc := range []struct {
		name string
		evs  []event.Event
	}{{"only old seqs", reset[:5]}, {"old and new seqs", reset}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Ingest(ctx, batch("CNF-001", tc.evs))
			var de *event.DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, event.RejectSeqConflict, de.Reason)
		})
	}
	var n int
	require.NoError(t, testDB.QueryRow(ctx, `SELECT count(*) FROM events WHERE branch = 'CNF-001'`).Scan(&n))
	assert.Equal(t, 10, n, "nothing of the conflicting batch was stored")
	st, err := s.BranchSync(ctx, "CNF-001")
	require.NoError(t, err)
	assert.Equal(t, uint64(10), st.LastSeq)
}
