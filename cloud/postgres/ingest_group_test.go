package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/eventgen"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

func group(bs ...event.Batch) []cloud.BranchBatch {
	out := make([]cloud.BranchBatch, len(bs))
	for i, b := range bs {
		out[i] = cloud.BranchBatch{Batch: b}
	}
	return out
}

// Several branches stored together: each branch's events, projections, sync
// state and jobs are what storing it alone gives, the jobs handed over once.
func TestIngestGroupAsAlone(t *testing.T) {
	if dbErr != nil {
		pgtest.Skip(t, dbErr)
	}
	hook := &hookJobs{}
	s := postgres.NewEventStore(testDB, nil, postgres.WithJobs(hook))
	ctx := context.Background()
	names := []string{"GRP-003", "GRP-001", "GRP-002"}
	// The same events stored alone, batch by batch, under another name
	// (then deleted: ticket tokens are unique across branches), as the
	// reference of what the projections must hold.
	alone := postgres.NewEventStore(testDB, nil)
	reference := make([]map[string]string, len(names))
	for i, b := range names {
		twin := "ALONE-" + b
		evs := eventgen.New(b, uint64(20+i)).Take(300)
		for j := 0; j < 300; j += 58 {
			if j == 0 {
				j = -48 // the first batch is 10 events, as below
			}
			_, err := alone.Ingest(ctx, batch(twin, evs[max(j, 0):min(j+58, 300)]))
			require.NoError(t, err)
		}
		reference[i] = map[string]string{}
		for _, q := range []string{
			`SELECT coalesce(string_agg(concat_ws('/', executive, seq, at, state, reason), ',' ORDER BY seq), '') FROM executive_activity WHERE branch = $1`,
			`SELECT coalesce(string_agg(concat_ws('/', executive, name, counter, state, reason, since), ',' ORDER BY executive), '') FROM executive_sessions WHERE branch = $1`,
			`SELECT coalesce(string_agg(concat_ws('/', id, status, service, counter, executive, called_at, started_at, ended_at, outcome,
				recalls, last_seq, place_position, place_at), ',' ORDER BY id), '') FROM tickets WHERE branch = $1`,
		} {
			var want string
			require.NoError(t, testDB.QueryRow(ctx, q, twin).Scan(&want))
			reference[i][q] = want
		}
		require.Len(t, reference[i], 3)
		_, err := testDB.Exec(ctx, `DELETE FROM tickets WHERE branch = $1`, twin)
		require.NoError(t, err)
	}
	evs := map[string][]event.Event{}
	for i, b := range names {
		evs[b] = eventgen.New(b, uint64(20+i)).Take(300)
		// First contact: each alone, on the locked path.
		res, errs := s.IngestGroup(ctx, group(batch(b, evs[b][:10])))
		require.NoError(t, errs[0])
		require.Equal(t, uint64(10), res[0].Applied)
	}
	for i := 10; i < 300; i += 58 {
		var bs []event.Batch
		for _, b := range names {
			bs = append(bs, batch(b, evs[b][i:min(i+58, 300)]))
		}
		res, errs := s.IngestGroup(ctx, group(bs...))
		for k, b := range names {
			require.NoError(t, errs[k])
			assert.Equal(t, b, res[k].Branch)
			assert.Equal(t, uint64(min(i+58, 300)), res[k].Applied)
			assert.Equal(t, min(58, 300-i), res[k].Stored)
			assert.Zero(t, res[k].Gap)
		}
	}
	for i, b := range names {
		assert.Equal(t, eventgen.Statuses(evs[b]), ticketStatuses(t, b))
		assert.Equal(t, 300, count(t, `SELECT applied_seq FROM branch_sync WHERE branch = $1`, b))
		for q, want := range reference[i] {
			var got string
			require.NoError(t, testDB.QueryRow(ctx, q, b).Scan(&got))
			assert.Equal(t, want, got, q)
		}
	}
	assert.Len(t, hook.got, 900, "every event handed to the hook once")
}

// In a group, one branch whose batch the database refuses as data, one
// whose prediction another replica made stale and one whose stream re-issues
// a stored ticket: the transaction cannot be kept, and each branch is stored
// alone with the outcome it gets alone; the fourth, sound, is not lost.
func TestIngestGroupFailuresStayPerBranch(t *testing.T) {
	if dbErr != nil {
		pgtest.Skip(t, dbErr)
	}
	s := postgres.NewEventStore(testDB, nil)
	other := postgres.NewEventStore(testDB, nil)
	ctx := context.Background()
	names := []string{"GRF-DATA", "GRF-STALE", "GRF-DUP", "GRF-OK"}
	evs := map[string][]event.Event{}
	for i, b := range names {
		evs[b] = eventgen.New(b, uint64(40+i)).Take(40)
		_, err := s.Ingest(ctx, batch(b, evs[b][:20]))
		require.NoError(t, err)
	}
	// Another replica stores the next batch of GRF-STALE.
	_, err := other.Ingest(ctx, batch("GRF-STALE", evs["GRF-STALE"][20:30]))
	require.NoError(t, err)
	// A number jsonb cannot hold, in GRF-DATA's next batch.
	bad := evs["GRF-DATA"][25]
	bad.Data = json.RawMessage(`{"extra":1e400000}`)
	evs["GRF-DATA"][25] = bad
	// GRF-DUP issues again a ticket it already issued.
	var issued event.Event
	for _, e := range evs["GRF-DUP"][:20] {
		if e.Type == event.TicketIssued {
			issued = e
			break
		}
	}
	dup := issued
	dup.Seq, dup.ID = 21, "GRF-DUP-again"
	dup.Data = append(json.RawMessage(nil), issued.Data...)
	evs["GRF-DUP"] = append(append(evs["GRF-DUP"][:20:20], dup), evs["GRF-DUP"][21:]...)

	var bs []event.Batch
	for _, b := range names {
		bs = append(bs, batch(b, evs[b][20:40]))
	}
	res, errs := s.IngestGroup(ctx, group(bs...))
	for k, b := range names {
		require.NoError(t, errs[k], b)
		assert.Equal(t, uint64(40), res[k].Applied, b)
		assert.Zero(t, res[k].Gap, b)
	}
	assert.Equal(t, 10, res[1].Stored, "GRF-STALE: the other replica's 10 are duplicates")
	require.Len(t, res[0].Quarantined, 1)
	assert.Equal(t, uint64(26), res[0].Quarantined[0].Seq)
	assert.Equal(t, 20, res[3].Stored)
	for _, b := range names {
		assert.Equal(t, 40, count(t, `SELECT count(*) FROM events WHERE branch = $1`, b), b)
	}
	assert.Equal(t, eventgen.Statuses(evs["GRF-OK"]), ticketStatuses(t, "GRF-OK"))
	assert.Equal(t, eventgen.Statuses(evs["GRF-STALE"]), ticketStatuses(t, "GRF-STALE"))
}

// Workers (and replicas) storing overlapping groups of branches at once
// lock the branches' sync rows in one order: no deadlock, nothing lost.
func TestIngestGroupsOverlapping(t *testing.T) {
	if dbErr != nil {
		pgtest.Skip(t, dbErr)
	}
	ctx := context.Background()
	stores := []*postgres.EventStore{postgres.NewEventStore(testDB, nil), postgres.NewEventStore(testDB, nil)}
	const n, per = 6, 25
	names := make([]string, n)
	evs := make([][]event.Event, n)
	for i := range names {
		names[i] = fmt.Sprintf("GRO-%03d", i)
		evs[i] = eventgen.New(names[i], uint64(60+i)).Take(8 * per)
		for _, s := range stores {
			_, err := s.Ingest(ctx, batch(names[i], evs[i][:0:0]))
			require.NoError(t, err)
		}
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%2]
			for r := range 8 {
				// Each worker sends every branch's rounds, in its own order.
				var bs []event.Batch
				for k := range n {
					i := (k*(w+1) + w) % n
					bs = append(bs, batch(names[i], evs[i][:(r+1)*per]))
				}
				_, errs := s.IngestGroup(ctx, group(bs...))
				for _, err := range errs {
					assert.NoError(t, err)
				}
			}
		}()
	}
	wg.Wait()
	for i, b := range names {
		assert.Equal(t, 8*per, count(t, `SELECT applied_seq FROM branch_sync WHERE branch = $1`, b))
		assert.Equal(t, eventgen.Statuses(evs[i]), ticketStatuses(t, b))
	}
}
