package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	agentmqtt "github.com/ticketero/ticketero/agent/mqtt"
	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/shared/queue"
)

// childSpec is one branch process's share of the fleet.
type childSpec struct {
	CA, URL, Dir string
	Ramp         time.Duration
	Duration     time.Duration
	PeakTickets  float64
	Executives   int
	Storm        bool
	Branches     []branchSpec
}

type branchSpec struct {
	ID, Cert, Key string
	Cut           bool
	Delay         time.Duration
	Seed          uint64
}

type childReport struct {
	Tickets, OpErrors int64
	Connected         int
	Converged         bool
	DrainS            float64
	Resends           map[string]uint64 // the relays' resends by reason
	States            []branchState
}

// branchState is what a branch holds at the end, for the invariant check.
type branchState struct {
	ID               string
	LastSeq, LastAck uint64
	Tickets          map[string]string // ticket id → status
}

// runChild runs the branches of spec file f and writes f + ".out".
func runChild(f string) error {
	raw, err := os.ReadFile(f) // #nosec G304 G703 -- written by the parent process
	if err != nil {
		return err
	}
	var sp childSpec
	if err := json.Unmarshal(raw, &sp); err != nil {
		return err
	}
	ctx := context.Background()
	c := Config{Duration: sp.Duration, PeakTickets: sp.PeakTickets, Executives: sp.Executives, Dir: sp.Dir, Storm: sp.Storm}
	branches := make([]*branch, len(sp.Branches))
	var setup sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU()*2)
	var setupErr atomic.Value
	for i, bs := range sp.Branches {
		b := &branch{id: bs.ID, cut: bs.Cut}
		branches[i] = b
		setup.Add(1)
		sem <- struct{}{}
		go func() {
			defer setup.Done()
			defer func() { <-sem }()
			if err := b.open(ctx, c, sp.URL, bs.Cert, bs.Key, sp.CA); err != nil {
				setupErr.Store(err)
			}
		}()
	}
	setup.Wait()
	if err, ok := setupErr.Load().(error); ok {
		return err
	}
	// Ready; the parent answers with the common start time.
	fmt.Println("ready")
	var startNS int64
	if _, err := fmt.Scanln(&startNS); err != nil {
		return fmt.Errorf("start time: %w", err)
	}
	start := time.Unix(0, startNS)
	stopProfile, err := profileDay(f)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The parent's second line is the doors' opening: at once for --storm,
	// otherwise once the whole network is online and its sign-ins are in the
	// cloud. The day ends --duration after it.
	dayCtx, endDay := context.WithCancel(ctx)
	defer endDay()
	doors := newDoors()
	go func() {
		var ns int64
		if _, err := fmt.Scanln(&ns); err != nil {
			ns = start.Add(sp.Ramp).UnixNano()
		}
		at := time.Unix(0, ns)
		doors.openAt(at)
		t := time.NewTimer(time.Until(at.Add(sp.Duration)))
		defer t.Stop()
		select {
		case <-t.C:
			endDay()
		case <-dayCtx.Done():
		}
	}()
	var tickets, opErrs atomic.Int64
	var wg sync.WaitGroup
	for i, b := range branches {
		wg.Add(1)
		bs := sp.Branches[i]
		go func() {
			defer wg.Done()
			select {
			case <-dayCtx.Done():
				return
			case <-time.After(time.Until(start.Add(bs.Delay))):
			}
			b.startRelay(log)
			// The day starts once the branch is online (events written
			// before the first connection would measure the connect).
			for t0 := time.Now(); !b.relay.State().Connected && time.Since(t0) < time.Minute && dayCtx.Err() == nil; {
				time.Sleep(20 * time.Millisecond)
			}
			b.day(dayCtx, c, bs.Seed, doors, &tickets, &opErrs)
		}()
	}
	wg.Wait()
	stopProfile()
	dayEnd := time.Now()
	rep := childReport{Tickets: tickets.Load(), OpErrors: opErrs.Load(), Resends: map[string]uint64{}}
	for _, b := range branches {
		if b.relay.State().Connected {
			rep.Connected++
		}
	}
	// Drain: every outbox acked.
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		rep.Converged = true
		for _, b := range branches {
			if s, _ := b.store.SyncState(ctx); s.LastAck < s.LastSeq {
				rep.Converged = false
				break
			}
		}
		if rep.Converged {
			break
		}
	}
	rep.DrainS = time.Since(dayEnd).Seconds()
	for _, b := range branches {
		b.stopRelay()
		for reason, n := range b.relay.State().Resends {
			rep.Resends[reason] += n
		}
		st, err := b.state(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", b.id, err)
		}
		rep.States = append(rep.States, st)
		_ = b.store.Close()
	}
	out, _ := json.Marshal(rep)
	return os.WriteFile(f+".out", out, 0o600) // #nosec G703 -- beside the spec file the parent process wrote
}

// doors is the day's opening, known once the parent sends it.
type doors struct {
	open chan struct{}
	at   time.Time
}

func newDoors() *doors { return &doors{open: make(chan struct{})} }

func (d *doors) openAt(at time.Time) { d.at = at; close(d.open) }

// known waits until the opening time is known; false if ctx ends first.
func (d *doors) known(ctx context.Context) (time.Time, bool) {
	select {
	case <-d.open:
		return d.at, true
	case <-ctx.Done():
		return time.Time{}, false
	}
}

// open makes the branch's store with its executives, and its relay.
func (b *branch) open(ctx context.Context, c Config, url, certFile, keyFile, caFile string) error {
	path := filepath.Join(c.Dir, b.id, "agent.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	a, err := sqlite.OpenAdmin(ctx, path)
	if err != nil {
		return err
	}
	a.Cost = 4 // bcrypt's minimum: PIN hashing is not what is measured
	for k := range c.Executives {
		if err := a.AddExecutive(ctx, queue.Executive{ID: fmt.Sprintf("E%02d", k+1), Name: fmt.Sprintf("Ejecutivo %d", k+1),
			Services: []string{"C", "P"}}, pin(k)); err != nil {
			_ = a.Close()
			return fmt.Errorf("%s: %w", b.id, err)
		}
	}
	_ = a.Close()
	key := make([]byte, sqlite.KeySize)
	b.store, err = sqlite.Open(ctx, sqlite.Config{Path: path, Branch: b.id, DataKey: key, ReadConns: 1,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("%s: %w", b.id, err)
	}
	b.relay, err = agentmqtt.New(agentmqtt.Config{Branch: b.id, URL: url, CertFile: certFile, KeyFile: keyFile, CAFile: caFile,
		AgentVersion: "fleet", AckTimeout: 10 * time.Second}, b.store, b.store, b.store, slog.New(slog.DiscardHandler))
	return err
}

// state reads the branch's outbox marks and its tickets' statuses.
func (b *branch) state(ctx context.Context) (branchState, error) {
	s, err := b.store.SyncState(ctx)
	if err != nil {
		return branchState{}, err
	}
	st := branchState{ID: b.id, LastSeq: s.LastSeq, LastAck: s.LastAck, Tickets: map[string]string{}}
	rows, err := b.store.DB().QueryContext(ctx, `SELECT id, status FROM tickets`)
	if err != nil {
		return st, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, status string
		if err := rows.Scan(&id, &status); err != nil {
			return st, err
		}
		st.Tickets[id] = status
	}
	return st, rows.Err()
}

// profileDay writes the branch process's CPU profile of the day into the
// directory TICKETERO_FLEET_CPUPROFILE names, when set (child-N.json.cpu.pprof
// for spec file child-N.json): where the simulator's own CPU goes, since on one
// machine it competes with the cloud it measures.
func profileDay(f string) (stop func(), err error) {
	dir := os.Getenv(profileEnv)
	if dir == "" {
		return func() {}, nil
	}
	out, err := os.Create(filepath.Join(dir, filepath.Base(f)+".cpu.pprof")) // #nosec G304 G703 -- the operator's directory
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		_ = out.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); _ = out.Close() }, nil
}

// profileEnv names the directory for the branch processes' CPU profiles.
const profileEnv = "TICKETERO_FLEET_CPUPROFILE"

func pin(k int) string { return fmt.Sprintf("%06d", 240681+k*111111) }
