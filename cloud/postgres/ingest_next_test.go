package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/eventgen"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

// Two replicas take turns on one branch, so each one's remembered sync state
// is stale on every other batch: the stale prediction must be rolled back and
// the batch applied once on the locked path, the hook seeing each event once.
func TestIngestReplicasTakingTurns(t *testing.T) {
	if dbErr != nil {
		pgtest.Skip(t, dbErr)
	}
	hook := &hookJobs{}
	a := postgres.NewEventStore(testDB, nil, postgres.WithJobs(hook))
	b := postgres.NewEventStore(testDB, nil, postgres.WithJobs(hook))
	ctx := context.Background()
	evs := eventgen.New("TURN-001", 11).Take(200)
	for i := 0; i < len(evs); i += 20 {
		st := a
		if (i/20)%2 == 1 {
			st = b
		}
		res, err := st.Ingest(ctx, batch("TURN-001", evs[i:i+20]))
		require.NoError(t, err)
		assert.Equal(t, uint64(i+20), res.Applied)
		assert.Equal(t, 20, res.Stored)
		assert.Zero(t, res.Gap)
		// The other replica gets the same batch again (redelivery): it last
		// saw the branch right before it, so its prediction says "next" and
		// the lock proves it stale.
		other := b
		if st == b {
			other = a
		}
		if i > 0 {
			res, err = other.Ingest(ctx, batch("TURN-001", evs[i:i+20]))
			require.NoError(t, err)
			assert.Equal(t, uint64(i+20), res.Applied)
			assert.Zero(t, res.Stored)
		}
	}
	// Both replicas resend an old batch: nothing written, nothing hooked.
	for _, st := range []*postgres.EventStore{a, b} {
		res, err := st.Ingest(ctx, batch("TURN-001", evs[100:140]))
		require.NoError(t, err)
		assert.Equal(t, uint64(200), res.Applied)
		assert.Zero(t, res.Stored)
	}
	want := make([]uint64, len(evs))
	for i := range want {
		want[i] = uint64(i + 1)
	}
	assert.Equal(t, want, hook.got)
	assert.Equal(t, eventgen.Statuses(evs), ticketStatuses(t, "TURN-001"))
	assert.Equal(t, 200, count(t, `SELECT applied_seq FROM branch_sync WHERE branch = 'TURN-001'`))
}

// On the pipelined path: a merged batch with a hole projects only up to the
// hole, and a failing hook keeps nothing of the batch and leaves the next try
// to apply it once.
func TestIngestNextHoleAndFailingHook(t *testing.T) {
	if dbErr != nil {
		pgtest.Skip(t, dbErr)
	}
	hook := &hookJobs{}
	s := postgres.NewEventStore(testDB, nil, postgres.WithJobs(hook))
	ctx := context.Background()
	evs := eventgen.New("NEXT-001", 12).Take(60)
	_, err := s.Ingest(ctx, batch("NEXT-001", evs[:10]))
	require.NoError(t, err)

	hook.fail = true
	_, err = s.Ingest(ctx, batch("NEXT-001", evs[10:20]))
	require.Error(t, err)
	assert.Equal(t, 10, count(t, `SELECT count(*) FROM events WHERE branch = 'NEXT-001'`))
	assert.Equal(t, 10, count(t, `SELECT applied_seq FROM branch_sync WHERE branch = 'NEXT-001'`))

	holed := append(append([]event.Event{}, evs[10:20]...), evs[30:40]...)
	res, err := s.Ingest(ctx, batch("NEXT-001", holed))
	require.NoError(t, err)
	assert.Equal(t, uint64(20), res.Applied)
	assert.Equal(t, uint64(21), res.Gap)
	assert.Equal(t, uint64(40), res.MaxSeq)
	assert.Equal(t, eventgen.Statuses(evs[:20]), ticketStatuses(t, "NEXT-001"))

	res, err = s.Ingest(ctx, batch("NEXT-001", evs[20:30]))
	require.NoError(t, err)
	assert.Equal(t, uint64(40), res.Applied)
	res, err = s.Ingest(ctx, batch("NEXT-001", evs[40:60]))
	require.NoError(t, err)
	assert.Equal(t, uint64(60), res.Applied)
	assert.Zero(t, res.Gap)

	want := make([]uint64, 60)
	for i := range want {
		want[i] = uint64(i + 1)
	}
	assert.Equal(t, want, hook.got)
	assert.Equal(t, eventgen.Statuses(evs), ticketStatuses(t, "NEXT-001"))
}

// On the pipelined path a row that should not exist yet does (the branch
// re-issued a ticket ID, number or token): the batch is applied once on the
// locked path, which skips the duplicate ticket as it always did.
func TestIngestNextDuplicateTicketFallsBack(t *testing.T) {
	s := store(t)
	ctx := context.Background()
	const b = "DUP-001"
	issue := func(seq uint64, ticket string, number int, token string) event.Event {
		return issueEvent(t, b, seq, ticket, number, token)
	}
	res, err := s.Ingest(ctx, batch(b, []event.Event{issue(1, "t1", 1, "tok-1")}))
	require.NoError(t, err)
	require.Equal(t, uint64(1), res.Applied)
	for i, dup := range []event.Event{issue(2, "t1", 2, "tok-2"), issue(3, "t3", 1, "tok-3"), issue(4, "t4", 4, "tok-1")} {
		res, err = s.Ingest(ctx, batch(b, []event.Event{dup}))
		require.NoError(t, err, "duplicate %d", i)
		assert.Equal(t, dup.Seq, res.Applied)
		assert.Equal(t, 1, res.Stored)
	}
	res, err = s.Ingest(ctx, batch(b, []event.Event{issue(5, "t5", 5, "tok-5")}))
	require.NoError(t, err)
	assert.Equal(t, uint64(5), res.Applied)
	assert.Equal(t, 5, count(t, `SELECT count(*) FROM events WHERE branch = 'DUP-001'`))
	assert.Equal(t, 2, count(t, `SELECT count(*) FROM tickets WHERE branch = 'DUP-001'`), "t1 (first issue) and t5")
	assert.Equal(t, 1, count(t, `SELECT number FROM tickets WHERE branch = 'DUP-001' AND id = 't1'`))
}

// On the pipelined path an executive activity row already stored at one of
// the batch's seqs (written by hand, or by a replica that went astray) makes
// the activity insert fail: the batch is applied once on the locked path,
// which keeps the stored row and adds the others.
func TestIngestNextDuplicateActivityFallsBack(t *testing.T) {
	s := store(t)
	ctx := context.Background()
	const b = "DUPACT-001"
	evs := eventgen.New(b, 13).Take(40)
	_, err := s.Ingest(ctx, batch(b, evs[:20]))
	require.NoError(t, err)
	before := count(t, `SELECT count(*) FROM executive_activity WHERE branch = 'DUPACT-001'`)
	var seq int64 // the first activity-making event of the next batch
	for _, e := range evs[20:] {
		if e.Type == event.TicketCalled || e.Type == event.TicketStarted || e.Type == event.TicketCompleted {
			seq = int64(e.Seq)
			break
		}
	}
	require.NotZero(t, seq)
	_, err = testDB.Exec(ctx, `INSERT INTO executive_activity (branch, executive, seq, at, state, reason)
		VALUES ($1, 'E01', $2, now(), 'paused', 'stored-before')`, b, seq)
	require.NoError(t, err)

	res, err := s.Ingest(ctx, batch(b, evs[20:]))
	require.NoError(t, err)
	assert.Equal(t, uint64(40), res.Applied)
	assert.Equal(t, 20, res.Stored)
	assert.Equal(t, eventgen.Statuses(evs), ticketStatuses(t, b))
	assert.Equal(t, 1, count(t, `SELECT count(*) FROM executive_activity WHERE branch = 'DUPACT-001' AND reason = 'stored-before'`))
	fresh := newActivityRows(evs[20:])
	assert.Equal(t, before+fresh, count(t, `SELECT count(*) FROM executive_activity WHERE branch = 'DUPACT-001'`),
		"every activity of the batch once, the stored one kept")
}

// newActivityRows counts the executive activity rows evs make (eventgen's
// calls, recalls, starts, completions, no-shows and transfers by E01).
func newActivityRows(evs []event.Event) int {
	n := 0
	for _, e := range evs {
		switch e.Type {
		case event.TicketCalled, event.TicketRecalled, event.TicketStarted, event.TicketCompleted,
			event.TicketNoShow, event.TicketTransferred:
			n++
		}
	}
	return n
}

// A branch's first batch (and any batch right after the applied seq with
// nothing stored beyond it) is inserted on the locked path without ON
// CONFLICT; a row that should not exist yet (a token the same batch issues
// twice, an activity row written by hand) makes it store the batch again
// with the inserts that skip such rows, once.
func TestIngestLockedContradictionFallsBack(t *testing.T) {
	ctx := context.Background()
	t.Run("token issued twice in the first batch", func(t *testing.T) {
		hook := &hookJobs{}
		if dbErr != nil {
			pgtest.Skip(t, dbErr)
		}
		s := postgres.NewEventStore(testDB, nil, postgres.WithJobs(hook))
		t.Cleanup(func() { _ = s.Close() })
		const b = "LDUP-001"
		issue := func(seq uint64, ticket string, number int, token string) event.Event {
			return issueEvent(t, b, seq, ticket, number, token)
		}
		res, err := s.Ingest(ctx, batch(b, []event.Event{issue(1, "t1", 1, "ltok-1"), issue(2, "t2", 2, "ltok-1"), issue(3, "t3", 3, "ltok-3")}))
		require.NoError(t, err)
		assert.Equal(t, uint64(3), res.Applied)
		assert.Equal(t, 3, res.Stored)
		assert.Equal(t, 3, count(t, `SELECT count(*) FROM events WHERE branch = $1`, b))
		assert.Equal(t, map[string]string{"t1": "waiting", "t3": "waiting"}, ticketStatuses(t, b))
		assert.Equal(t, []uint64{1, 2, 3}, hook.got, "each event hooked once")
	})
	t.Run("activity stored before the first batch", func(t *testing.T) {
		s := store(t)
		const b = "LDUPACT-001"
		evs := eventgen.New(b, 14).Take(40)
		var seq int64
		for _, e := range evs {
			if e.Type == event.TicketCalled {
				seq = int64(e.Seq)
				break
			}
		}
		require.NotZero(t, seq)
		_, err := testDB.Exec(ctx, `INSERT INTO executive_activity (branch, executive, seq, at, state, reason)
			VALUES ($1, 'E01', $2, now(), 'paused', 'stored-before')`, b, seq)
		require.NoError(t, err)
		res, err := s.Ingest(ctx, batch(b, evs))
		require.NoError(t, err)
		assert.Equal(t, uint64(40), res.Applied)
		assert.Equal(t, 40, res.Stored)
		assert.Equal(t, eventgen.Statuses(evs), ticketStatuses(t, b))
		assert.Equal(t, 1, count(t, `SELECT count(*) FROM executive_activity WHERE branch = $1 AND reason = 'stored-before'`, b))
		assert.Equal(t, 1+newActivityRows(evs), count(t, `SELECT count(*) FROM executive_activity WHERE branch = $1`, b),
			"the sign-in and every other activity once, the stored one kept")
	})
	t.Run("another replica's next batch", func(t *testing.T) {
		// b has no prediction for the branch: the batch after a's takes the
		// locked path without arbiters, and a redelivery of both is a no-op.
		a, b := store(t), store(t)
		const br = "LNEXT-001"
		evs := eventgen.New(br, 15).Take(60)
		_, err := a.Ingest(ctx, batch(br, evs[:30]))
		require.NoError(t, err)
		res, err := b.Ingest(ctx, batch(br, evs[30:]))
		require.NoError(t, err)
		assert.Equal(t, uint64(60), res.Applied)
		assert.Equal(t, 30, res.Stored)
		for _, st := range []*postgres.EventStore{a, b} {
			res, err = st.Ingest(ctx, batch(br, evs))
			require.NoError(t, err)
			assert.Equal(t, uint64(60), res.Applied)
			assert.Zero(t, res.Stored)
		}
		assert.Equal(t, 60, count(t, `SELECT count(*) FROM events WHERE branch = $1`, br))
		assert.Equal(t, eventgen.Statuses(evs), ticketStatuses(t, br))
	})
}

// issueEvent is branch's ticket.issued at seq of ticket (service C, the given
// number and token).
func issueEvent(t *testing.T, branch string, seq uint64, ticket string, number int, token string) event.Event {
	t.Helper()
	e, err := event.New(seq, fmt.Sprintf("%s-e%d", branch, seq), event.TicketIssued, time.Date(2026, 11, 28, 12, 0, int(seq), 0, time.UTC),
		event.Issued{TicketRef: event.TicketRef{Ticket: ticket, Service: "C", Number: number, Day: "2026-11-28"},
			Priority: "normal", Token: token})
	require.NoError(t, err)
	return e
}
