package appt_test

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for goose
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/commands"
	"github.com/ticketero/ticketero/cloud/postgres/appt"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
	"github.com/ticketero/ticketero/migrations"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/seal"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

// ownDatabase is a migrated database of the caller's own: the package's is
// shared, and a pass claims every due command of its database.
func ownDatabase(tb testing.TB) string {
	tb.Helper()
	u := pgtest.New(tb)
	db, err := sql.Open("pgx", u)
	require.NoError(tb, err)
	defer db.Close()
	require.NoError(tb, migrations.UpPostgres(context.Background(), db))
	return u
}

// replica is one cloud replica's command queue: its own pool on the shared
// database, the cloud's RUT keys, the tests' clock; it counts the check-in
// hashes it computes.
type replica struct {
	*appt.Store
	hashes atomic.Int64
}

func newReplica(t *testing.T, dbURL string, keys *seal.RUTKeys) *replica {
	s := appt.New(hqtest.MustPool(t, dbURL), keys)
	s.Now = func() time.Time { return now }
	return &replica{Store: s}
}

func (r *replica) CompleteCommand(ctx context.Context, p commands.Pending) (event.Command, error) {
	r.hashes.Add(1)
	return r.Store.CompleteCommand(ctx, p)
}

// held is a recorder whose first publish waits until open is closed (a
// minute at most); entered is closed when it starts waiting.
type held struct {
	recorder
	once    sync.Once
	entered chan struct{}
	open    chan struct{}
}

func (h *held) PublishCommand(ctx context.Context, c event.Command) error {
	h.once.Do(func() {
		close(h.entered)
		select {
		case <-h.open:
		case <-time.After(time.Minute):
		}
	})
	return h.recorder.PublishCommand(ctx, c)
}

// Two replicas on one database: a pass claims the commands it lists, so the
// other replica's pass in the same period neither hashes nor publishes
// them. Replica A's first publish waits until B's whole pass is over; B
// used to list, hash and publish everything A had listed.
func TestReplicasClaimEachCommandOnce(t *testing.T) {
	ctx := context.Background()
	u := ownDatabase(t)
	keys, err := seal.NewRUTKeys([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	a, b := newReplica(t, u, keys), newReplica(t, u, keys)
	e := &env{t: t, pool: hqtest.MustPool(t, u), store: a.Store, keys: keys}
	e.branch("RPL-1", 4, 0)
	const orders, cancels = 12, 5
	for i := range orders {
		_, err := a.Book(ctx, req("RPL-1", []string{"09:00", "09:30", "10:00", "10:30"}[i%4], rut(40_000_000+i)))
		require.NoError(t, err)
	}
	_, err = e.pool.Exec(ctx, `INSERT INTO branch_commands (id, branch, type, ticket, created_at)
		SELECT 'rpl-cancel-' || i, 'RPL-1', 'ticket.cancel', 'T' || i, $1 FROM generate_series(1, $2::int) i`, now, cancels)
	require.NoError(t, err)

	pubA := &held{entered: make(chan struct{}), open: make(chan struct{})}
	errA := make(chan error, 1)
	go func() { errA <- commands.Republish(ctx, a, pubA, time.Hour) }()
	select {
	case <-pubA.entered: // A has claimed its pass and publishes its first command
	case <-time.After(time.Minute):
		t.Fatal("replica A never published")
	}
	pubB := &recorder{}
	require.NoError(t, commands.Republish(ctx, b, pubB, time.Hour))
	close(pubA.open)
	require.NoError(t, <-errA)

	assert.Empty(t, pubB.of("RPL-1"), "A claimed every command of the period")
	assert.Zero(t, b.hashes.Load(), "B computed no check-in hash")
	assert.Equal(t, int64(orders), a.hashes.Load())
	ids := map[string]int{}
	for _, c := range pubA.of("RPL-1") {
		ids[c.ID]++
	}
	assert.Len(t, ids, orders+cancels)
	for id, n := range ids {
		assert.Equal(t, 1, n, id)
	}
	assert.Equal(t, orders+cancels, e.count(`SELECT count(*) FROM branch_commands WHERE branch = 'RPL-1' AND publishes = 1`))

	// A replica that claims a pass and stops (killed before publishing)
	// holds its commands one period only: the other replica publishes them
	// once it is over.
	_, err = e.pool.Exec(ctx, `INSERT INTO branch_commands (id, branch, type, ticket, created_at)
		VALUES ('rpl-lost', 'RPL-1', 'ticket.cancel', 'T-lost', $1)`, now)
	require.NoError(t, err)
	claimed, err := a.ClaimCommands(ctx, time.Hour, 200)
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	assert.Equal(t, "rpl-lost", claimed[0].Command.ID)
	require.NoError(t, commands.Republish(ctx, b, pubB, time.Hour))
	assert.Empty(t, pubB.of("RPL-1"), "claimed by A within the period")
	b.Now = func() time.Time { return now.Add(time.Hour) }
	require.NoError(t, commands.Republish(ctx, b, pubB, time.Hour))
	got := map[string]bool{}
	for _, c := range pubB.of("RPL-1") {
		got[c.ID] = true
	}
	assert.True(t, got["rpl-lost"], "the lapsed claim is B's to publish")
	assert.Len(t, got, orders+cancels+1, "a period later, every pending command again, once")
	assert.Zero(t, b.hashes.Load(), "the checks A computed were stored")
}

// Two replicas' loops running together over a burst of five batches: each
// command goes out once across the cluster, not once per replica.
func TestReplicaLoopsShareABurst(t *testing.T) {
	u := ownDatabase(t)
	a, b := newReplica(t, u, nil), newReplica(t, u, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const n = 1000
	_, err := hqtest.MustPool(t, u).Exec(ctx, `INSERT INTO branch_commands (id, branch, type, ticket, created_at)
		SELECT 'share-' || i, 'SHARE-1', 'ticket.cancel', 'T' || i, $1 FROM generate_series(1, $2::int) i`, now, n)
	require.NoError(t, err)
	pubs := []*recorder{{}, {}}
	var wg sync.WaitGroup
	for i, q := range []*replica{a, b} {
		wg.Go(func() { commands.Run(ctx, q, pubs[i], time.Hour, nil) })
	}
	counts := func() (distinct, total int) {
		seen := map[string]bool{}
		for _, p := range pubs {
			for _, c := range p.of("SHARE-1") {
				seen[c.ID] = true
				total++
			}
		}
		return len(seen), total
	}
	require.Eventually(t, func() bool { d, _ := counts(); return d == n }, time.Minute, 20*time.Millisecond,
		"the tick is an hour away")
	// Both loops are idle until the hour's tick: nothing more goes out.
	time.Sleep(200 * time.Millisecond)
	cancel()
	wg.Wait()
	_, total := counts()
	assert.Equal(t, n, total, "each command once, not once per replica")
	t.Logf("replica A published %d, B %d", len(pubs[0].of("SHARE-1")), len(pubs[1].of("SHARE-1")))
}
