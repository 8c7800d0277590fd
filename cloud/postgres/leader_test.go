package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

// replica is one Elector with a job that counts its passes and records
// how many replicas run it at once.
type replica struct {
	e      *postgres.Elector
	passes atomic.Int64
	starts atomic.Int64
}

// TestElectorOneLeaderAndHandover: two replicas campaign on the real
// database; only one runs the job, and killing its session
// (pg_terminate_backend, as an operator or a database failover would) hands
// the job to the other within a few intervals; the old leader's job stops.
// (During the handover the two may overlap for up to one interval: the
// Elector does not fence, see its comment.)
func TestElectorOneLeaderAndHandover(t *testing.T) {
	if dbErr != nil {
		pgtest.Skip(t, dbErr)
	}
	const key = 0x7465_7374_6c65_6164 // a key of this test's own
	const every = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	var running, most atomic.Int64
	var wg sync.WaitGroup
	rs := [2]*replica{}
	for i := range rs {
		r := &replica{e: &postgres.Elector{Pool: testDB, Key: key, Every: every}}
		rs[i] = r
		job := func(ctx context.Context) {
			r.starts.Add(1)
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			defer running.Add(-1)
			tick := time.NewTicker(every / 4)
			defer tick.Stop()
			for {
				r.passes.Add(1)
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
		}
		wg.Go(func() { r.e.Run(ctx, job) })
	}
	defer func() {
		cancel()
		wg.Wait()
		require.False(t, rs[0].e.Leading() || rs[1].e.Leading(), "nobody leads once stopped")
	}()

	leader := func() int {
		switch {
		case rs[0].e.Leading() && !rs[1].e.Leading():
			return 0
		case rs[1].e.Leading() && !rs[0].e.Leading():
			return 1
		}
		return -1
	}
	require.Eventually(t, func() bool { return leader() >= 0 }, 5*time.Second, 10*time.Millisecond, "one replica leads")
	first := leader()
	// Ten intervals: the other replica tries the lock ten times and never runs the job.
	time.Sleep(10 * every)
	require.Equal(t, first, leader(), "the leadership stays put")
	other := 1 - first
	require.Zero(t, rs[other].passes.Load(), "the replica that does not lead never runs the job")
	require.Positive(t, rs[first].passes.Load())
	require.Equal(t, int64(1), most.Load(), "never two replicas running the job at once")

	// The lock is visible in pg_locks with the leader's backend; kill it.
	var pid int32
	require.NoError(t, testDB.QueryRow(ctx, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND classid = ($1::bigint >> 32)::oid AND objid = ($1::bigint & 4294967295)::oid AND objsubid = 1
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, int64(key)).Scan(&pid))
	var killed bool
	require.NoError(t, testDB.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&killed))
	require.True(t, killed)

	require.Eventually(t, func() bool { return leader() == other }, 5*time.Second, 10*time.Millisecond,
		"the other replica takes over once the leader's session is gone")
	require.Equal(t, int64(1), rs[other].starts.Load())
	require.Eventually(t, func() bool { return rs[other].passes.Load() > 0 }, time.Second, 10*time.Millisecond)
	before := rs[first].passes.Load()
	time.Sleep(5 * every)
	require.Equal(t, before, rs[first].passes.Load(), "the old leader's job stopped")
	require.Equal(t, other, leader(), "the old leader campaigns again and waits")
	require.Equal(t, int64(1), running.Load(), "one replica runs the job after the handover")
}
