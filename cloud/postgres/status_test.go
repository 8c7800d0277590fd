package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
)

// RecordStatuses applies a batch of statuses, in any order of branches, as
// RecordStatusAt one by one would: a later session wins, the will ends its
// session, a late old will loses; every branch gets its branches row, and a
// live status is dated by its arrival.
func TestRecordStatusesAsOneByOne(t *testing.T) {
	s := store(t)
	ctx := context.Background()
	s1 := time.Now().UTC().Truncate(time.Millisecond)
	s2 := s1.Add(10 * time.Minute)
	arrived := s2.Add(2 * time.Second)
	will := event.Status{V: 1, Branch: "STB-002", Online: false, At: s1, Since: s1}
	batch := []cloud.StatusUpdate{
		{Status: event.Status{V: 1, Branch: "STB-002", Online: true, At: s1.Add(time.Minute), Since: s1}, Received: arrived},
		{Status: event.Status{V: 1, Branch: "STB-001", Online: true, Backlog: 4, AgentVersion: "2.0.0", At: s1, Since: s1}, Received: arrived},
		{Status: will, Received: arrived},
		{Status: event.Status{V: 1, Branch: "STB-003", Online: true, At: s1, Since: s1}, Retained: true},
		{Status: event.Status{V: 1, Branch: "STB-002", Online: true, At: s2, Since: s2}, Received: arrived},
		{Status: will, Received: arrived}, // delivered again, late
	}
	require.NoError(t, s.RecordStatuses(ctx, batch))

	st1, err := s.BranchSync(ctx, "STB-001")
	require.NoError(t, err)
	assert.True(t, st1.Online)
	assert.Equal(t, int64(4), st1.Backlog)
	assert.Equal(t, "2.0.0", st1.AgentVersion)
	st2, err := s.BranchSync(ctx, "STB-002")
	require.NoError(t, err)
	assert.True(t, st2.Online, "the newer session wins over the old will")
	require.NotNil(t, st2.StatusAt)
	assert.True(t, st2.StatusAt.Equal(s2))

	assert.Equal(t, 3, count(t, `SELECT count(*) FROM branches WHERE id IN ('STB-001', 'STB-002', 'STB-003')`))
	var received time.Time
	var skew int64
	require.NoError(t, testDB.QueryRow(ctx, `SELECT status_received_at, clock_skew_ms FROM branch_sync WHERE branch = 'STB-002'`).
		Scan(&received, &skew))
	assert.True(t, received.Equal(arrived), "dated by its arrival, not by the write: %s", received)
	assert.Equal(t, int64(-2000), skew, "the branch's clock against the arrival")
	assert.Equal(t, 0, count(t, `SELECT count(*) FROM branch_sync WHERE branch = 'STB-003' AND status_received_at IS NOT NULL`),
		"a retained status dates nothing")
	require.NoError(t, s.RecordStatuses(ctx, nil))
}
