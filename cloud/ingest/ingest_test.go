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
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/eventgen"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
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
	ctx := context.Background()
	pool, err := postgres.Open(ctx, pgtest.New(t))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, postgres.Migrate(ctx, pool))
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
	assert.Equal(t, 2.0, testutil.ToFloat64(p.Metrics.Batches), "one transaction per branch")
}
