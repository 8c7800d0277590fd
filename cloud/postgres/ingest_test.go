package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/testkit/eventgen"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

var (
	dbURL  string
	dbErr  error
	testDB *pgxpool.Pool
)

func TestMain(m *testing.M) {
	ctx := context.Background()
	var drop func()
	dbURL, drop, dbErr = pgtest.Create(ctx, "ticketero_cloud_postgres")
	if dbErr == nil {
		testDB, dbErr = postgres.Open(ctx, dbURL)
		if dbErr == nil {
			dbErr = postgres.Migrate(ctx, testDB)
		}
	}
	code := m.Run()
	if testDB != nil {
		testDB.Close()
	}
	if drop != nil {
		drop()
	}
	os.Exit(code)
}

func store(t *testing.T) *postgres.EventStore {
	t.Helper()
	if dbErr != nil {
		pgtest.Skip(t, dbErr)
	}
	s := postgres.NewEventStore(testDB, nil)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func batch(branch string, evs []event.Event) event.Batch {
	return event.Batch{V: event.Version, Branch: branch, Events: evs}
}

func ticketStatuses(t *testing.T, branch string) map[string]string {
	t.Helper()
	rows, err := testDB.Query(context.Background(), `SELECT id, status FROM tickets WHERE branch = $1`, branch)
	require.NoError(t, err)
	out := map[string]string{}
	for rows.Next() {
		var id, st string
		require.NoError(t, rows.Scan(&id, &st))
		out[id] = st
	}
	require.NoError(t, rows.Err())
	return out
}

func count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, testDB.QueryRow(context.Background(), q, args...).Scan(&n))
	return n
}

func TestIngestInOrderAndDuplicates(t *testing.T) {
	s := store(t)
	ctx := context.Background()
	g := eventgen.New("ORD-001", 1)
	evs := g.Take(300)
	for i := 0; i < len(evs); i += 50 {
		res, err := s.Ingest(ctx, batch("ORD-001", evs[i:i+50]))
		require.NoError(t, err)
		assert.Equal(t, uint64(i+50), res.Applied)
		assert.Equal(t, 50, res.Stored)
		assert.Zero(t, res.Gap)
	}
	// The same batches again (the agent resent after a lost ack): acked, no effect.
	for i := 0; i < len(evs); i += 100 {
		res, err := s.Ingest(ctx, batch("ORD-001", evs[i:i+100]))
		require.NoError(t, err)
		assert.Equal(t, uint64(300), res.Applied)
		assert.Zero(t, res.Stored)
	}
	assert.Equal(t, 300, count(t, `SELECT count(*) FROM events WHERE branch = 'ORD-001'`))
	assert.Equal(t, eventgen.Statuses(evs), ticketStatuses(t, "ORD-001"))
	assert.Equal(t, 1, count(t, `SELECT count(*) FROM branches WHERE id = 'ORD-001'`))
	assert.Equal(t, 1, count(t, `SELECT count(*) FROM executive_sessions WHERE branch = 'ORD-001' AND state = 'available'`))

	sync, err := s.BranchSync(ctx, "ORD-001")
	require.NoError(t, err)
	assert.Equal(t, uint64(300), sync.LastSeq)
	assert.Empty(t, sync.Gaps)
}

func TestIngestGapHoldsAck(t *testing.T) {
	s := store(t)
	ctx := context.Background()
	evs := eventgen.New("GAP-001", 2).Take(40)
	res, err := s.Ingest(ctx, batch("GAP-001", evs[0:10]))
	require.NoError(t, err)
	assert.Equal(t, uint64(10), res.Applied)

	res, err = s.Ingest(ctx, batch("GAP-001", evs[20:30]))
	require.NoError(t, err)
	assert.Equal(t, uint64(10), res.Applied, "a gap holds the ack")
	assert.Equal(t, uint64(11), res.Gap)
	res, err = s.Ingest(ctx, batch("GAP-001", evs[35:40]))
	require.NoError(t, err)
	assert.Equal(t, uint64(10), res.Applied)

	sync, err := s.BranchSync(ctx, "GAP-001")
	require.NoError(t, err)
	assert.Equal(t, []cloud.SeqRange{{From: 11, To: 20}, {From: 31, To: 35}}, sync.Gaps)
	assert.Equal(t, uint64(40), sync.MaxSeq)
	// Events beyond the gap are stored but not projected yet.
	assert.Equal(t, eventgen.Statuses(evs[:10]), ticketStatuses(t, "GAP-001"))

	res, err = s.Ingest(ctx, batch("GAP-001", evs[10:20]))
	require.NoError(t, err)
	assert.Equal(t, uint64(30), res.Applied, "filling the first gap projects what waited behind it")
	assert.Equal(t, uint64(31), res.Gap)
	res, err = s.Ingest(ctx, batch("GAP-001", evs[28:36]))
	require.NoError(t, err)
	assert.Equal(t, uint64(40), res.Applied)
	assert.Zero(t, res.Gap)
	assert.Equal(t, eventgen.Statuses(evs), ticketStatuses(t, "GAP-001"))
	assert.Equal(t, 40, count(t, `SELECT count(*) FROM events WHERE branch = 'GAP-001'`))
}

// Overlapping, reordered and duplicated batches from several goroutines (two
// replicas) end in the same state as an in-order ingest.
func TestIngestConcurrentReordered(t *testing.T) {
	s := store(t)
	s2 := postgres.NewEventStore(testDB, nil)
	ctx := context.Background()
	const n = 600
	evs := eventgen.New("CON-001", 3).Take(n)
	var batches []event.Batch
	rnd := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < n; {
		size := 1 + rnd.IntN(40)
		end := min(n, i+size)
		batches = append(batches, batch("CON-001", evs[i:end]))
		if rnd.IntN(4) == 0 {
			batches = append(batches, batch("CON-001", evs[max(0, i-10):end])) // overlap
		}
		i = end
	}
	rnd.Shuffle(len(batches), func(i, j int) { batches[i], batches[j] = batches[j], batches[i] })
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := s
			if w%2 == 1 {
				st = s2
			}
			for i := w; i < len(batches); i += 4 {
				_, err := st.Ingest(ctx, batches[i])
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	sync, err := s.BranchSync(ctx, "CON-001")
	require.NoError(t, err)
	assert.Equal(t, uint64(n), sync.LastSeq)
	assert.Equal(t, n, count(t, `SELECT count(*) FROM events WHERE branch = 'CON-001'`))
	assert.Equal(t, eventgen.Statuses(evs), ticketStatuses(t, "CON-001"))
	// Recalls counted exactly once: compare with the stream.
	recalls := map[string]int{}
	for _, e := range evs {
		if e.Type == event.TicketRecalled {
			p, _ := e.Payload()
			recalls[p.(*event.Called).Ticket]++
		}
	}
	for id, want := range recalls {
		assert.Equal(t, want, count(t, `SELECT recalls FROM tickets WHERE branch = 'CON-001' AND id = $1`, id), id)
	}
}

func TestIngestNotifiesOncePerBatch(t *testing.T) {
	s := store(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "LISTEN "+cloud.ChangesChannel)
	require.NoError(t, err)
	evs := eventgen.New("NTF-001", 4).Take(20)
	_, err = s.Ingest(ctx, batch("NTF-001", evs))
	require.NoError(t, err)
	// Other tests' stores may still flush their own branches on the channel.
	ntf := 0
	for _, p := range payloads(t, conn, 500*time.Millisecond) {
		for _, id := range strings.Split(p, cloud.ChangesSeparator) {
			if id == "NTF-001" {
				ntf++
			}
		}
	}
	assert.Equal(t, 1, ntf, "one notification per batch")
}

func TestStatusAndSync(t *testing.T) {
	s := store(t)
	ctx := context.Background()
	_, err := s.BranchSync(ctx, "NOPE-404")
	var qe *queue.Error
	require.ErrorAs(t, err, &qe)
	assert.Equal(t, queue.CodeNotFound, qe.Code)

	at := time.Now().UTC().Truncate(time.Millisecond)
	require.NoError(t, s.RecordStatus(ctx, event.Status{V: 1, Branch: "STA-001", Online: true, Backlog: 7,
		ConfigVersion: 3, AgentVersion: "1.2.3", At: at}))
	// An older status (delivered late) does not win.
	require.NoError(t, s.RecordStatus(ctx, event.Status{V: 1, Branch: "STA-001", Online: false, At: at.Add(-time.Minute)}))
	st, err := s.BranchSync(ctx, "STA-001")
	require.NoError(t, err)
	assert.True(t, st.Online)

	// Sessions: the last will (time fixed at connect) beats the session's
	// online statuses; a newer session beats the will; a late old will loses.
	s1 := at.Add(time.Hour)
	online := event.Status{V: 1, Branch: "STA-002", Online: true, At: s1.Add(time.Minute), Since: s1}
	will := event.Status{V: 1, Branch: "STA-002", Online: false, At: s1, Since: s1}
	require.NoError(t, s.RecordStatus(ctx, online))
	require.NoError(t, s.RecordStatus(ctx, will))
	st2, err := s.BranchSync(ctx, "STA-002")
	require.NoError(t, err)
	assert.False(t, st2.Online, "the will marks the branch offline")
	s2 := s1.Add(10 * time.Minute)
	require.NoError(t, s.RecordStatus(ctx, event.Status{V: 1, Branch: "STA-002", Online: true, At: s2, Since: s2}))
	require.NoError(t, s.RecordStatus(ctx, will)) // delivered late by another replica
	st2, err = s.BranchSync(ctx, "STA-002")
	require.NoError(t, err)
	assert.True(t, st2.Online, "a newer session wins over an old will")
	assert.Equal(t, int64(7), st.Backlog)
	assert.Equal(t, int64(3), st.ConfigVersion)
	assert.Equal(t, "1.2.3", st.AgentVersion)
}

func TestRecordReject(t *testing.T) {
	s := store(t)
	require.NoError(t, s.RecordReject(context.Background(), cloud.Reject{Branch: "REJ-001", Topic: "t",
		Reason: event.RejectMalformed, Detail: fmt.Sprint("x")}))
	assert.Equal(t, 1, count(t, `SELECT count(*) FROM ingest_rejects WHERE branch = 'REJ-001'`))
}

// hookJobs is a job writer that records the seqs it is handed. Its statement
// rides in the ingest's pipeline and must see the batch's events stored (the
// same transaction); fail makes its next Write fail once.
type hookJobs struct {
	mu   sync.Mutex
	got  []uint64
	fail bool
}

func (h *hookJobs) QueueJobs(pb *pgx.Batch, runs []postgres.BranchRun) postgres.JobsPlan {
	var branches []string
	var seqs []int64
	var evs []event.Event
	for _, r := range runs {
		for _, e := range r.Events {
			branches, seqs = append(branches, r.Branch), append(seqs, int64(e.Seq))
		}
		evs = append(evs, r.Events...)
	}
	pb.Queue(`SELECT count(*) FROM events e JOIN unnest($1::text[], $2::bigint[]) AS u(branch, seq)
		ON e.branch = u.branch AND e.seq = u.seq`, branches, seqs)
	return &hookPlan{h: h, evs: evs}
}

type hookPlan struct {
	h      *hookJobs
	evs    []event.Event
	stored int
}

func (p *hookPlan) Read(br pgx.BatchResults) error { return br.QueryRow().Scan(&p.stored) }

func (p *hookPlan) Write(ctx context.Context, tx pgx.Tx) error {
	if p.stored != len(p.evs) {
		return fmt.Errorf("hook sees %d of its %d events stored", p.stored, len(p.evs))
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT 1`).Scan(&n); err != nil {
		return err
	}
	p.h.mu.Lock()
	defer p.h.mu.Unlock()
	if p.h.fail {
		p.h.fail = false
		return fmt.Errorf("hook fails once")
	}
	for _, e := range p.evs {
		_, err := e.Payload()
		if err != nil {
			return err
		}
		p.h.got = append(p.h.got, e.Seq)
	}
	return nil
}

func seqsOf(evs []event.Event) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = int64(e.Seq)
	}
	return out
}

func TestIngestJobsExactlyOnceInTx(t *testing.T) {
	if dbErr != nil {
		pgtest.Skip(t, dbErr)
	}
	hook := &hookJobs{fail: true}
	s := postgres.NewEventStore(testDB, nil, postgres.WithJobs(hook))
	ctx := context.Background()
	evs := eventgen.New("HOOK-001", 5).Take(30)
	_, err := s.Ingest(ctx, batch("HOOK-001", evs[:10]))
	require.Error(t, err, "a failing hook rolls the batch back")
	assert.Zero(t, count(t, `SELECT count(*) FROM events WHERE branch = 'HOOK-001'`))
	for _, r := range [][2]int{{20, 30}, {0, 10}, {0, 10}, {10, 20}, {15, 30}} {
		_, err := s.Ingest(ctx, batch("HOOK-001", evs[r[0]:r[1]]))
		require.NoError(t, err)
	}
	want := make([]uint64, 30)
	for i := range want {
		want[i] = uint64(i + 1)
	}
	assert.Equal(t, want, hook.got, "every event handed to the hook once, in seq order")
}
