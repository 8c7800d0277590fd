package ingest_test

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/ingest"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/postgrestest"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/eventgen"
)

type acks struct {
	mu  sync.Mutex
	got []event.Ack
}

func (a *acks) Ack(_ context.Context, ack event.Ack) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, ack)
	return nil
}

// newStore migrates a fresh database of the test's own and returns its pool
// (closed at the end) and event store.
func newStore(t *testing.T) (*pgxpool.Pool, *postgres.EventStore) {
	t.Helper()
	pool := postgrestest.MustPool(t)
	return pool, postgres.NewEventStore(pool, nil)
}

func msg(t *testing.T, branch string, evs []event.Event) cloud.Message {
	t.Helper()
	b, err := event.EncodeBatch(branch, evs)
	require.NoError(t, err)
	return cloud.Message{Topic: event.EventsTopic(branch), Payload: b}
}

// Several queued messages: each refused one is counted on its own; the valid
// batches of a branch are merged (reordered, overlapping) into one
// transaction and acked once per branch.
func TestHandleMergesPerBranch(t *testing.T) {
	ctx := context.Background()
	_, store := newStore(t)
	a := &acks{}
	reg := prometheus.NewRegistry()
	p := ingest.New(store, store, a, reg, nil)

	x := eventgen.New("MRG-001", 1).Take(30)
	y := eventgen.New("MRG-002", 2).Take(10)
	err := p.Handle(ctx,
		msg(t, "MRG-001", x[20:30]),
		msg(t, "MRG-002", y),
		cloud.Message{Topic: event.EventsTopic("MRG-001"), Payload: []byte(`{"v":1`)},
		msg(t, "MRG-001", x[0:15]),
		msg(t, "MRG-001", x[10:20]),
	)
	require.NoError(t, err)
	assert.Equal(t, []event.Ack{{V: 1, Branch: "MRG-001", Seq: 30}, {V: 1, Branch: "MRG-002", Seq: 10}}, a.got)
	assert.Equal(t, 1.0, testutil.ToFloat64(p.Metrics.Rejected.WithLabelValues(event.RejectMalformed)))
	assert.Equal(t, 40.0, testutil.ToFloat64(p.Metrics.Events))
	assert.Equal(t, 2.0, testutil.ToFloat64(p.Metrics.Batches), "one merged batch per branch")
}

// Messages of several known branches are stored together, and each branch
// is acked as if stored alone: the next seqs, a gap that holds the ack, and a
// branch that restarted its sequence (refused, never acked) beside them.
func TestHandleStoresBranchesTogether(t *testing.T) {
	ctx := context.Background()
	_, store := newStore(t)
	a := &acks{}
	p := ingest.New(store, store, a, prometheus.NewRegistry(), nil)
	evs := map[string][]event.Event{}
	names := []string{"TOG-001", "TOG-002", "TOG-003", "TOG-004"}
	var first []cloud.Message
	for i, b := range names {
		evs[b] = eventgen.New(b, uint64(i+1)).Take(40)
		first = append(first, msg(t, b, evs[b][:10]))
	}
	require.NoError(t, p.Handle(ctx, first...))
	a.got = nil

	restarted := eventgen.New("TOG-004", 99).Take(20)
	for i := range restarted {
		restarted[i].ID += "-new" // other IDs at stored seqs
	}
	require.NoError(t, p.Handle(ctx,
		msg(t, "TOG-001", evs["TOG-001"][10:20]),
		msg(t, "TOG-002", evs["TOG-002"][10:25]),
		msg(t, "TOG-003", evs["TOG-003"][15:30]), // 11..15 missing
		msg(t, "TOG-004", restarted[5:20]),
		msg(t, "TOG-001", evs["TOG-001"][20:40]),
	))
	assert.ElementsMatch(t, []event.Ack{
		{V: 1, Branch: "TOG-001", Seq: 40},
		{V: 1, Branch: "TOG-002", Seq: 25},
		{V: 1, Branch: "TOG-003", Seq: 10, Gap: 11},
	}, a.got)
	assert.Equal(t, 1.0, testutil.ToFloat64(p.Metrics.Rejected.WithLabelValues(event.RejectSeqConflict)))

	// The gap filled: TOG-003 applies to 30 and acks it.
	a.got = nil
	require.NoError(t, p.Handle(ctx, msg(t, "TOG-003", evs["TOG-003"][10:15]), msg(t, "TOG-002", evs["TOG-002"][25:40])))
	assert.ElementsMatch(t, []event.Ack{{V: 1, Branch: "TOG-003", Seq: 30}, {V: 1, Branch: "TOG-002", Seq: 40}}, a.got)
}
