package sqlite_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// clock is a settable clock for tests.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.ns.Store(t.UnixNano()); return c }
func (c *clock) Now() time.Time   { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Add(d time.Duration) {
	c.ns.Add(int64(d))
}

var t0 = time.Date(2026, 11, 28, 13, 0, 0, 0, time.UTC)

type env struct {
	path  string
	key   []byte
	clock *clock
	st    *sqlite.Store
}

func MustKey(tb testing.TB) []byte {
	tb.Helper()
	k := make([]byte, sqlite.KeySize)
	_, _ = rand.Read(k)
	return k
}

// MustStore opens a store on a fresh file with counters counters.
func MustStore(tb testing.TB, counters int) *env {
	tb.Helper()
	e := &env{path: filepath.Join(tb.TempDir(), "agent.db"), key: MustKey(tb), clock: newClock(t0)}
	e.open(tb, counters)
	return e
}

func (e *env) open(tb testing.TB, counters int) {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: e.path, Branch: "SCL-001", Counters: counters,
		DataKey: e.key, Now: e.clock.Now})
	require.NoError(tb, err)
	e.st = st
	tb.Cleanup(func() { _ = st.Close() })
}

func (e *env) reopen(tb testing.TB, counters int) {
	tb.Helper()
	require.NoError(tb, e.st.Close())
	e.open(tb, counters)
}

// TestPIN is the PIN of the executives MustExecutive adds.
const TestPIN = "240681"

// MustExecutive adds an executive (PIN TestPIN) through the admin API.
func MustExecutive(tb testing.TB, path, id string, services ...string) {
	tb.Helper()
	a, err := sqlite.OpenAdmin(context.Background(), path)
	require.NoError(tb, err)
	defer a.Close()
	a.Cost = bcrypt.MinCost
	require.NoError(tb, a.AddExecutive(context.Background(), queue.Executive{ID: id, Name: "Ejecutivo " + id, Services: services}, TestPIN))
}

func (e *env) login(tb testing.TB, id string, counter int) string {
	tb.Helper()
	tok, _, err := e.st.Login(context.Background(), id, TestPIN, counter, "10.0.0.1")
	require.NoError(tb, err)
	return tok
}

// outboxSeqs returns every outbox seq in order.
func outboxSeqs(tb testing.TB, st *sqlite.Store) []uint64 {
	tb.Helper()
	evs, err := st.Pending(context.Background(), 0, 1_000_000)
	require.NoError(tb, err)
	out := make([]uint64, len(evs))
	for i, e := range evs {
		out[i] = e.Seq
	}
	return out
}

func assertGapFree(tb testing.TB, seqs []uint64, from uint64) {
	tb.Helper()
	for i, s := range seqs {
		if !assert.Equal(tb, from+uint64(i), s, "seq at %d", i) {
			return
		}
	}
}

func TestOpenSeedsDefaults(t *testing.T) {
	e := MustStore(t, 6)
	svcs := e.st.Services(context.Background())
	require.Len(t, svcs, 4)
	assert.Equal(t, "C", svcs[0].Code)
	assert.Equal(t, "Caja", svcs[0].Name)
	assert.Equal(t, 300, svcs[0].MeanServiceS)
	assert.Equal(t, "G", svcs[3].Code)
	assert.Equal(t, 3, svcs[3].Priority)
	cs := e.st.Counters(context.Background())
	require.Len(t, cs, 6)
	assert.Equal(t, "Módulo 6", cs[5].Name)
	e.reopen(t, 4)
	assert.Len(t, e.st.Services(context.Background()), 4, "seeded once")
	assert.Len(t, e.st.Counters(context.Background()), 4, "counters follow the flag until HQ config")
	var mode string
	require.NoError(t, e.st.DB().QueryRow("PRAGMA journal_mode").Scan(&mode))
	assert.Equal(t, "wal", mode)
}

func TestIssueWritesTicketAndOutbox(t *testing.T) {
	e := MustStore(t, 6)
	ctx := context.Background()
	tk, replay, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C", RUT: "12.345.678-5", Priority: "preferential"})
	require.NoError(t, err)
	assert.False(t, replay)
	assert.Equal(t, "C-001", tk.Display())
	assert.Equal(t, 1, tk.Position)
	assert.Equal(t, "Caja", tk.ServiceName)
	assert.Equal(t, agent.Estimate{TypicalS: 300, UpperS: 600}, tk.Estimate)
	assert.Regexp(t, `^[A-Za-z0-9_-]{1,64}$`, tk.Token)

	// The RUT is encrypted at rest and hashed, never plain.
	var enc []byte
	var hash string
	require.NoError(t, e.st.DB().QueryRow("SELECT rut_enc, rut_hash FROM tickets WHERE id = ?", tk.ID).Scan(&enc, &hash))
	assert.NotContains(t, string(enc), "12345678")
	assert.NotEmpty(t, hash)
	assert.NotContains(t, hash, "12345678")

	evs, err := e.st.Pending(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, uint64(1), evs[0].Seq)
	assert.Equal(t, event.TicketIssued, evs[0].Type)
	p, err := evs[0].Payload()
	require.NoError(t, err)
	iss := p.(*event.Issued)
	assert.Equal(t, tk.ID, iss.Ticket)
	assert.Empty(t, iss.RUTHash, "the box's own hash never leaves it")
	assert.Empty(t, iss.RUTSealed, "no sealing key configured: no RUT pseudonym at all")
	assert.NotContains(t, string(evs[0].Data), "12345678")

	// Bad input writes nothing.
	for _, r := range []agent.TicketRequest{{Service: "X"}, {Service: "C", RUT: "12.345.678-6"}, {Service: "C", Priority: "vip"}} {
		_, _, err := e.st.Issue(ctx, r)
		require.Error(t, err)
		assert.Equal(t, queue.CodeInvalid, queue.ErrorCode(err))
	}
	assert.Equal(t, []uint64{1}, outboxSeqs(t, e.st))
	st, err := e.st.SyncState(ctx)
	require.NoError(t, err)
	assert.Equal(t, agent.SyncState{LastSeq: 1}, st)
}

func TestIdempotency(t *testing.T) {
	e := MustStore(t, 6)
	ctx := context.Background()
	r := agent.TicketRequest{Service: "P", IdempotencyKey: "kiosk-1-0001"}
	a, replay, err := e.st.Issue(ctx, r)
	require.NoError(t, err)
	assert.False(t, replay)
	b, replay, err := e.st.Issue(ctx, r)
	require.NoError(t, err)
	assert.True(t, replay)
	assert.Equal(t, a.ID, b.ID)
	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "C", IdempotencyKey: "kiosk-1-0001"})
	assert.Equal(t, "idempotency.mismatch", queue.ErrorReason(err))
	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "C", IdempotencyKey: string(make([]byte, 129))})
	assert.Equal(t, "idempotency.key_invalid", queue.ErrorReason(err))
	assert.Equal(t, []uint64{1}, outboxSeqs(t, e.st))
	// Concurrent retries of one key: one ticket.
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Go(func() {
			tk, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "E", IdempotencyKey: "same"})
			assert.NoError(t, err)
			ids[i] = tk.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		assert.Equal(t, ids[0], id)
	}
	assert.Len(t, outboxSeqs(t, e.st), 2)
}

func TestConcurrentKiosksNumbersGapFree(t *testing.T) {
	e := MustStore(t, 6)
	ctx := context.Background()
	const kiosks, per = 10, 100
	codes := []string{"C", "P", "E", "G"}
	var mu sync.Mutex
	numbers := map[string][]int{}
	var wg sync.WaitGroup
	for k := range kiosks {
		wg.Go(func() {
			for i := range per {
				svc := codes[(k+i)%len(codes)]
				tk, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: svc, IdempotencyKey: fmt.Sprintf("k%d-%d", k, i)})
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				numbers[svc] = append(numbers[svc], tk.Number)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	total := 0
	for svc, ns := range numbers {
		seen := map[int]bool{}
		for _, n := range ns {
			assert.False(t, seen[n], "%s-%03d twice", svc, n)
			seen[n] = true
		}
		for n := 1; n <= len(ns); n++ {
			assert.True(t, seen[n], "%s-%03d missing", svc, n)
		}
		total += len(ns)
	}
	assert.Equal(t, kiosks*per, total)
	seqs := outboxSeqs(t, e.st)
	assert.Len(t, seqs, kiosks*per)
	assertGapFree(t, seqs, 1)
	// The database agrees after a restart.
	e.reopen(t, 6)
	var n int
	require.NoError(t, e.st.DB().QueryRow("SELECT COUNT(DISTINCT origin_service || number) FROM tickets").Scan(&n))
	assert.Equal(t, kiosks*per, n)
	tk, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C"})
	require.NoError(t, err)
	assert.Equal(t, len(numbers["C"])+1, tk.Number)
}

func TestConcurrentCallNextServesEachOnce(t *testing.T) {
	const execs, tickets = 20, 1000
	e := MustStore(t, execs)
	ctx := context.Background()
	for i := 1; i <= execs; i++ {
		MustExecutive(t, e.path, fmt.Sprintf("E%02d", i), "C", "P", "E", "G")
	}
	codes := []string{"C", "P", "E", "G"}
	for i := range tickets {
		prio := "normal"
		if i%5 == 0 {
			prio = "preferential"
		}
		_, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: codes[i%4], Priority: prio})
		require.NoError(t, err)
	}
	tokens := make([]string, execs)
	for i := range tokens {
		tokens[i] = e.login(t, fmt.Sprintf("E%02d", i+1), i+1)
	}
	var mu sync.Mutex
	served := map[string]int{}
	var wg sync.WaitGroup
	for i := range execs {
		wg.Go(func() {
			for {
				tk, err := e.st.CallNext(ctx, tokens[i], i+1)
				if !assert.NoError(t, err) || tk == nil {
					return
				}
				mu.Lock()
				served[tk.ID]++
				mu.Unlock()
				_, err = e.st.Act(ctx, tokens[i], agent.Act{Ticket: tk.ID, Action: queue.ActionStart})
				assert.NoError(t, err)
				_, err = e.st.Act(ctx, tokens[i], agent.Act{Ticket: tk.ID, Action: queue.ActionComplete})
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	assert.Len(t, served, tickets)
	for id, n := range served {
		assert.Equal(t, 1, n, "ticket %s served %d times", id, n)
	}
	st, err := e.st.StatsToday(ctx)
	require.NoError(t, err)
	assert.Equal(t, tickets, st.Issued)
	assert.Equal(t, tickets, st.Served)
	assert.Zero(t, st.Waiting)
	seqs := outboxSeqs(t, e.st)
	evs, err := e.st.Pending(ctx, 0, 1_000_000)
	require.NoError(t, err)
	near := 0
	for _, ev := range evs {
		if ev.Type == event.TicketNear {
			near++
		}
	}
	// issued, called, started, completed + admin adds and logins + one
	// pre-notice at most per ticket
	assert.LessOrEqual(t, near, tickets)
	assert.Len(t, seqs, tickets*4+execs*2+near)
	assertGapFree(t, seqs, 1)
}

func TestSessionsPersistAndThrottle(t *testing.T) {
	e := MustStore(t, 6)
	ctx := context.Background()
	MustExecutive(t, e.path, "E01", "C", "P")
	const evil = "10.0.0.66"
	for range agent.FreePINFailures - 1 {
		_, _, err := e.st.Login(ctx, "E01", "999999", 1, evil)
		assert.Equal(t, "session.bad_pin", queue.ErrorReason(err))
	}
	_, _, err := e.st.Login(ctx, "E01", "999999", 1, evil)
	assert.Equal(t, "session.locked", queue.ErrorReason(err))
	_, _, err = e.st.Login(ctx, "E01", TestPIN, 1, evil)
	assert.Equal(t, "session.locked", queue.ErrorReason(err), "the guessing address waits")
	// Every failure and the wait are events for HQ, naming the address.
	evs, err := e.st.Pending(ctx, 0, 100)
	require.NoError(t, err)
	var types []event.Type
	for _, ev := range evs {
		types = append(types, ev.Type)
	}
	assert.Equal(t, []event.Type{event.ExecutiveAdmin, event.ExecutiveLoginFailed, event.ExecutiveLoginFailed, event.ExecutiveLoginFailed, event.ExecutiveLocked}, types)
	p, err := evs[4].Payload()
	require.NoError(t, err)
	assert.Equal(t, evil, p.(*event.SignIn).Address)
	assert.Equal(t, agent.FreePINFailures, p.(*event.SignIn).Failures)

	tok := e.login(t, "E01", 1) // his own terminal is not held up
	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "C"})
	require.NoError(t, err)
	tk, err := e.st.CallNext(ctx, tok, 1)
	require.NoError(t, err)
	require.NotNil(t, tk)
	e.reopen(t, 6)
	si, err := e.st.Session(ctx, tok)
	require.NoError(t, err, "the session survives a restart")
	assert.Equal(t, 1, si.Counter)
	require.NotNil(t, si.Current)
	assert.Equal(t, tk.ID, si.Current.ID)
	_, err = e.st.Act(ctx, tok, agent.Act{Ticket: tk.ID, Action: queue.ActionNoShow})
	require.NoError(t, err)
	// A closed ticket answers with an illegal transition, not "not found".
	_, err = e.st.Act(ctx, tok, agent.Act{Ticket: tk.ID, Action: queue.ActionStart})
	assert.Equal(t, "ticket.illegal_transition", queue.ErrorReason(err))
	require.NoError(t, e.st.Logout(ctx, tok))
	_, err = e.st.Session(ctx, tok)
	assert.Equal(t, "session.required", queue.ErrorReason(err))
}

func TestDayCloseAtRestartAndTick(t *testing.T) {
	e := MustStore(t, 6)
	ctx := context.Background()
	_, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C", IdempotencyKey: "day1"})
	require.NoError(t, err)
	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "C"})
	require.NoError(t, err)
	e.clock.Add(24 * time.Hour)
	e.reopen(t, 6)
	evs, err := e.st.Pending(ctx, 0, 100)
	require.NoError(t, err)
	var types []event.Type
	for _, ev := range evs {
		types = append(types, ev.Type)
	}
	assert.Equal(t, []event.Type{event.TicketIssued, event.TicketIssued, event.TicketAbandoned, event.TicketAbandoned, event.DayClosed}, types)
	tk, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C", IdempotencyKey: "day2"})
	require.NoError(t, err)
	assert.Equal(t, "C-001", tk.Display())
	assert.Equal(t, "2026-11-29", tk.Day)

	// Two days on, the old day's keys are pruned at the day change.
	e.clock.Add(48 * time.Hour)
	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "C"})
	require.NoError(t, err)
	var keys string
	require.NoError(t, e.st.DB().QueryRow("SELECT group_concat(key) FROM idempotency").Scan(&keys))
	assert.Equal(t, "day2", keys, "day1's key is pruned, day2's (48 h old) kept")
	_, qs := e.st.Queues(ctx)
	assert.Equal(t, 1, qs[0].Waiting)
}

func TestOutboxAckAndWritten(t *testing.T) {
	e := MustStore(t, 6)
	ctx := context.Background()
	select {
	case <-e.st.Written():
	default:
	}
	for range 5 {
		_, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "G"})
		require.NoError(t, err)
	}
	select {
	case <-e.st.Written():
	case <-time.After(time.Second):
		t.Fatal("Written not signalled")
	}
	require.NoError(t, e.st.Ack(ctx, 3))
	require.NoError(t, e.st.Ack(ctx, 2), "an old ack is a no-op")
	err := e.st.Ack(ctx, 9)
	assert.Equal(t, queue.CodeConflict, queue.ErrorCode(err))
	st, _ := e.st.SyncState(ctx)
	assert.Equal(t, agent.SyncState{LastSeq: 5, LastAck: 3}, st)
	assert.Equal(t, []uint64{4, 5}, outboxSeqs(t, e.st))
	require.NoError(t, e.st.Ack(ctx, 5))
	e.reopen(t, 6)
	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "G"})
	require.NoError(t, err)
	assert.Equal(t, []uint64{6}, outboxSeqs(t, e.st), "seq continues after every row was acked")
	st, _ = e.st.SyncState(ctx)
	assert.Equal(t, agent.SyncState{LastSeq: 6, LastAck: 5}, st)
}

func TestApplyConfigAndCommand(t *testing.T) {
	e := MustStore(t, 6)
	ctx := context.Background()
	h, _ := bcrypt.GenerateFromPassword([]byte("4321"), bcrypt.MinCost)
	cfg := event.Config{V: 1, Branch: "SCL-001", Version: 7, TimeZone: "America/Punta_Arenas",
		Services: []queue.Service{{Code: "C", Name: "Caja", TargetWaitS: 300, MeanServiceS: 120, Priority: 1},
			{Code: "V", Name: "Ventas", TargetWaitS: 900, MeanServiceS: 600, Priority: 2}},
		Counters:   []queue.Counter{{Number: 1, Name: "Caja 1"}, {Number: 2}},
		Executives: []event.ConfigExecutive{{Executive: queue.Executive{ID: "H01", Name: "Hugo", Services: []string{"V", "C"}}, PINHash: string(h)}},
		Rules:      event.Rules{PreferentialRatio: 3, RecallLimit: 1}, OpeningHours: "09:00-13:30,15:00-17:00"}
	bad := cfg
	bad.Branch = "SCL-002"
	assert.Equal(t, queue.CodeInvalid, queue.ErrorCode(e.st.ApplyConfig(ctx, bad)))
	for _, hours := range []string{"14:00-09:00", "9-14", "09:00-14:00,", "25:00-26:00"} {
		badHours := cfg
		badHours.OpeningHours = hours
		assert.Equal(t, queue.CodeInvalid, queue.ErrorCode(e.st.ApplyConfig(ctx, badHours)), hours)
	}
	assert.Empty(t, e.st.BranchInfo(ctx).OpeningHours, "nothing applied from refused snapshots")
	require.NoError(t, e.st.ApplyConfig(ctx, cfg))
	v, err := e.st.ConfigVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(7), v)
	svcs := e.st.Services(ctx)
	require.Len(t, svcs, 2)
	assert.Equal(t, "V", svcs[1].Code)
	assert.Len(t, e.st.Counters(ctx), 2)
	assert.Equal(t, "America/Punta_Arenas", e.st.BranchInfo(ctx).TimeZone)
	assert.Equal(t, "09:00-13:30,15:00-17:00", e.st.BranchInfo(ctx).OpeningHours)
	older := cfg
	older.Version = 6
	older.Counters = cfg.Counters[:1]
	require.NoError(t, e.st.ApplyConfig(ctx, older))
	assert.Len(t, e.st.Counters(ctx), 2, "an older version is ignored")
	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "P"})
	assert.Equal(t, "service.unknown", queue.ErrorReason(err))
	tok, _, err := e.st.Login(ctx, "H01", "4321", 2, "10.0.0.2")
	require.NoError(t, err)

	a, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "V"})
	require.NoError(t, err)
	b, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "V"})
	require.NoError(t, err)
	called, err := e.st.CallNext(ctx, tok, 2)
	require.NoError(t, err)
	require.Equal(t, a.ID, called.ID)
	cmd := event.Command{V: 1, Branch: "SCL-001", ID: "cmd-1", Type: event.CommandCancelTicket, Ticket: b.ID}
	require.NoError(t, e.st.ApplyCommand(ctx, cmd))
	require.NoError(t, e.st.ApplyCommand(ctx, cmd), "a repeated command is a no-op")
	got, err := e.st.Ticket(ctx, b.ID)
	require.NoError(t, err)
	assert.Equal(t, queue.StatusCancelled, got.Status)
	// A called ticket is cancelled too; a finished one is recorded, not retried.
	require.NoError(t, e.st.ApplyCommand(ctx, event.Command{V: 1, Branch: "SCL-001", ID: "cmd-2", Type: event.CommandCancelTicket, Ticket: a.ID}))
	require.NoError(t, e.st.ApplyCommand(ctx, event.Command{V: 1, Branch: "SCL-001", ID: "cmd-3", Type: event.CommandCancelTicket, Ticket: a.ID}))
	var res string
	require.NoError(t, e.st.DB().QueryRow("SELECT result FROM commands WHERE id = 'cmd-3'").Scan(&res))
	assert.Contains(t, res, "illegal_transition")
	evs, err := e.st.Pending(ctx, 0, 100)
	require.NoError(t, err)
	var types []event.Type
	var cancels int
	for _, ev := range evs {
		types = append(types, ev.Type)
		if ev.Type == event.TicketCancelled {
			p, _ := ev.Payload()
			c := p.(*event.Cancelled)
			assert.Equal(t, "telegram", c.By)
			assert.Contains(t, []string{"cmd-1", "cmd-2"}, c.Request)
			cancels++
		}
	}
	assert.Equal(t, event.ConfigApplied, types[0])
	assert.Equal(t, 2, cancels)
}

func TestBrokerGetsCommittedNotices(t *testing.T) {
	e := MustStore(t, 6)
	ch, seq, cancel := e.st.Broker().Subscribe(16)
	defer cancel()
	assert.Zero(t, seq)
	tk, _, err := e.st.Issue(context.Background(), agent.TicketRequest{Service: "C", RUT: "12.345.678-5"})
	require.NoError(t, err)
	select {
	case n := <-ch:
		assert.Equal(t, uint64(1), n.Seq)
		assert.Equal(t, event.TicketIssued, n.Type)
		assert.Equal(t, tk.ID, n.Ticket.ID)
	case <-time.After(time.Second):
		t.Fatal("no notice")
	}
}

// TestStatsCountWaitingPastTarget: a ticket waiting past its service's target
// counts as out of target now, and the mean wait includes current waits.
func TestStatsCountWaitingPastTarget(t *testing.T) {
	e := MustStore(t, 2)
	ctx := context.Background()
	MustExecutive(t, e.path, "E01", "C")
	tok := e.login(t, "E01", 1)
	for range 4 {
		_, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C"}) // Caja: 10 min target
		require.NoError(t, err)
	}
	call := func() {
		tk, err := e.st.CallNext(ctx, tok, 1)
		require.NoError(t, err)
		require.NotNil(t, tk)
		_, err = e.st.Act(ctx, tok, agent.Act{Ticket: tk.ID, Action: queue.ActionStart})
		require.NoError(t, err)
		_, err = e.st.Act(ctx, tok, agent.Act{Ticket: tk.ID, Action: queue.ActionComplete})
		require.NoError(t, err)
	}
	e.clock.Add(2 * time.Minute)
	call() // waited 2 min: within
	e.clock.Add(10 * time.Minute)
	call() // waited 12 min: out
	e.clock.Add(3 * time.Minute)
	st, err := e.st.StatsToday(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, st.Waiting)
	assert.Equal(t, 2, st.WaitingOver, "both waiting 15 min against 10")
	assert.Equal(t, 4, st.Decided)
	assert.Equal(t, 25.0, st.SLAPct, "1 within of 4 decided, not 1 of 2 called")
	assert.Equal(t, 11*time.Minute, st.MeanWait, "(2+12+15+15)/4 min")
	require.NotEmpty(t, st.ByService)
	assert.Equal(t, "C", st.ByService[0].Service)
	assert.Equal(t, 25.0, st.ByService[0].SLAPct)
}

// TestIdleTickOpensNoTransaction: with no operation, no day change, no session
// or timer due and nothing from the admin command, the writer's tick begins no
// transaction; the admin command's log is still drained at the next tick.
func TestIdleTickOpensNoTransaction(t *testing.T) {
	e := &env{path: filepath.Join(t.TempDir(), "agent.db"), key: MustKey(t), clock: newClock(t0)}
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: e.path, Branch: "SCL-001", Counters: 2,
		DataKey: e.key, Now: e.clock.Now, Tick: 10 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	_, _, err = st.Issue(ctx, agent.TicketRequest{Service: "C"})
	require.NoError(t, err)

	before := sqlite.Transactions(st)
	time.Sleep(300 * time.Millisecond) // about 30 ticks
	assert.Equal(t, before, sqlite.Transactions(st), "idle ticks begin no transaction")

	MustExecutive(t, e.path, "E07", "C") // the admin command, another connection
	require.Eventually(t, func() bool {
		evs, err := st.Pending(ctx, 0, 100)
		require.NoError(t, err)
		return slices.ContainsFunc(evs, func(ev event.Event) bool { return ev.Type == event.ExecutiveAdmin })
	}, 5*time.Second, 10*time.Millisecond, "the admin command's event reaches the outbox at a tick")
	var left int
	require.NoError(t, st.DB().QueryRow("SELECT count(*) FROM admin_log").Scan(&left))
	assert.Zero(t, left)
	assert.Greater(t, sqlite.Transactions(st), before)
}
