// Package sqlite is the branch agent's store on SQLite (mattn/go-sqlite3): WAL,
// synchronous=FULL, one writer connection that takes BEGIN IMMEDIATE and a
// separate read pool. The queue itself is the pure agent.Engine kept in memory;
// every operation runs in the single writer goroutine, which group-commits the
// operations waiting at that moment in one transaction and answers each only
// after the commit. Each transaction writes the changed rows and their events
// to the outbox with a gap-free seq.
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/migrations"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

var (
	_ agent.Outbox       = (*Store)(nil)
	_ agent.ConfigStore  = (*Store)(nil)
	_ agent.CommandStore = (*Store)(nil)
)

// Config is what a store is opened with.
type Config struct {
	// Path is the database file.
	Path string
	// Branch is this branch's ID.
	Branch string
	// TimeZone is the branch's zone until HQ configuration sets one.
	TimeZone string
	// Name and Region are shown on the kiosk, the ticket and the TV until HQ
	// configuration names the branch ("" : the branch ID).
	Name, Region string
	// Counters is how many counters ("Módulo N") the branch has until HQ
	// configuration sets them.
	Counters int
	// DataKey is the 32-byte AES-256 key of personal data at rest.
	DataKey []byte
	// Now and NewID are the clock and the ID source (defaults: time.Now,
	// agent.NewID); NewToken makes link and session tokens (agent.NewToken).
	Now      func() time.Time
	NewID    func() string
	NewToken func() string
	Logger   *slog.Logger
	// MaxBatch is the most operations committed in one transaction (default 256).
	MaxBatch int
	// ReadConns is the size of the read pool (default 4).
	ReadConns int
	// ReportEvery, when positive, makes the store send config.reported after
	// an HQ config is applied and, when the branch's configuration differs
	// from the last report (a new database, the admin command), within
	// ReportEvery plus the writer's 5 s tick (see ReportConfig). Zero reports
	// only when ReportConfig is called.
	ReportEvery time.Duration
	// Sessions bound executive sessions (zero value: agent.DefaultSessionLimits;
	// a negative duration is no limit).
	Sessions agent.SessionLimits
	// Tick is how often the writer looks at the clock and the admin command's
	// log without traffic: the day's close, idle sessions, remote tickets'
	// timers (default 5 s).
	Tick time.Duration
}

// Store is the agent's SQLite store. It implements agent.Outbox,
// agent.ConfigStore and agent.CommandStore and the operations of the LAN API.
type Store struct {
	cfg    Config
	log    *slog.Logger
	w      *sql.DB
	r      *sql.DB
	broker *agent.Broker

	mu  sync.RWMutex // guards eng, rutKey, lastSeq; held by the writer for a whole batch
	eng *agent.Engine
	// rutKey is the box's own RUT hash key (derived from the data key, never
	// HQ's): tickets.rut_hash, which never leaves the box.
	rutKey []byte
	// rutSeal is the cloud's RUT sealing public key (HQ config), nil until
	// configured: ticket.issued then carries no RUT pseudonym.
	rutSeal atomic.Pointer[[seal.RUTSealKeySize]byte]
	// openingHours are HQ's opening hours for the branch ("" until configured).
	openingHours string
	// name and region are HQ's name and region of the branch ("" until set).
	name, region string
	// reported is the hash of the last config.reported this process wrote
	// (writer only; cleared by load: config_report.go).
	reported string
	// rated are the visits already rated on a counter tablet since start
	// (writer only; the cloud keeps the first answer of a visit anyway).
	rated map[string]bool
	box   *seal.Box // seals RUTs at rest

	lastSeq   uint64        // assigned (writer only)
	committed atomic.Uint64 // last seq committed
	acked     atomic.Uint64 // last seq acked

	stmts stmts
	// adminSeen is SQLite's data_version when the writer last looked at
	// admin_log (writer only; -1: look at the next batch).
	adminSeen int64
	txs       atomic.Uint64 // the writer's transactions begun

	ops     chan *op
	written chan struct{}
	quit    chan struct{}
	stopped chan struct{}
	closed  atomic.Bool

	seenMu sync.Mutex
	seen   map[string]time.Time // token hash → last use, for the idle timeout
}

// op is one operation for the writer. run applies it to the engine and writes
// its change in tx; a change is written even when run also returns an error
// (a wrong PIN counts). A writeErr aborts the whole batch.
type op struct {
	run  func(tx *sql.Tx, now time.Time) (agent.Change, error)
	err  error
	done chan struct{}
}

// Open opens (creating if needed) and migrates the database, seeds the
// defaults on first start, loads the engine, closes a business day left open,
// and starts the writer.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewID == nil {
		cfg.NewID = agent.NewID
	}
	if cfg.NewToken == nil {
		cfg.NewToken = agent.NewToken
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.ReadConns <= 0 {
		cfg.ReadConns = 4
	}
	def := agent.DefaultSessionLimits()
	if cfg.Sessions.Idle == 0 {
		cfg.Sessions.Idle = def.Idle
	}
	if cfg.Sessions.Max == 0 {
		cfg.Sessions.Max = def.Max
	}
	cfg.Sessions.Idle, cfg.Sessions.Max = max(cfg.Sessions.Idle, 0), max(cfg.Sessions.Max, 0)
	if cfg.TimeZone == "" {
		cfg.TimeZone = "America/Santiago"
	}
	if cfg.Counters <= 0 {
		cfg.Counters = 6
	}
	if _, err := queue.ParseBranchID(cfg.Branch); err != nil {
		return nil, fmt.Errorf("sqlite: branch: %w", err)
	}
	if _, err := time.LoadLocation(cfg.TimeZone); err != nil {
		return nil, fmt.Errorf("sqlite: time zone %q: %w", cfg.TimeZone, err)
	}
	box, err := seal.New(cfg.DataKey)
	if err != nil {
		return nil, fmt.Errorf("sqlite: data key: %w", err)
	}
	w, r, err := openDBs(ctx, cfg.Path, cfg.ReadConns)
	if err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg, adminSeen: -1, log: cfg.Logger.With("component", "store"), w: w, r: r, box: box,
		broker: agent.NewBroker(), ops: make(chan *op, 1024), written: make(chan struct{}, 1), seen: map[string]time.Time{},
		quit: make(chan struct{}), stopped: make(chan struct{})}
	if err := s.prepare(ctx); err != nil {
		_ = w.Close()
		_ = r.Close()
		return nil, err
	}
	if err := s.init(ctx); err != nil {
		_ = w.Close()
		_ = r.Close()
		return nil, err
	}
	go s.loop()
	return s, nil
}

// openDBs opens the writer (one connection, BEGIN IMMEDIATE) and the read
// pool (query-only), and migrates.
func openDBs(ctx context.Context, path string, readConns int) (*sql.DB, *sql.DB, error) {
	if err := privateFile(path); err != nil {
		return nil, nil, err
	}
	base := "file:" + url.PathEscape(path)
	common := "_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=1"
	// secure_delete: what the writer deletes or overwrites (a RUT anonymised,
	// an old key dropped) is zeroed in the file, not left in free space.
	w, err := sql.Open("sqlite3", base+"?"+common+"&_synchronous=FULL&_txlock=immediate&_secure_delete=on")
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		_ = w.Close()
		return nil, nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrations.UpSQLite(ctx, w); err != nil {
		_ = w.Close()
		return nil, nil, err
	}
	r, err := sql.Open("sqlite3", base+"?"+common+"&_query_only=1")
	if err != nil {
		_ = w.Close()
		return nil, nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(readConns)
	r.SetMaxIdleConns(readConns)
	return w, r, nil
}

// privateFile creates the database file owner-only (0600) before SQLite
// opens it, whatever the umask and even when its directory already exists,
// and takes group and other access away from one an older version created.
// SQLite gives the -wal and -shm files the database file's mode.
func privateFile(path string) error {
	if path == ":memory:" || path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600) // #nosec G304 -- the database file in the operator's data directory
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("sqlite: stat %s: %w", path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(fi.Mode().Perm() &^ 0o077); err != nil {
			return fmt.Errorf("sqlite: chmod %s: %w", path, err)
		}
	}
	for _, side := range []string{path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(side); err == nil && fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(side, fi.Mode().Perm()&^0o077); err != nil {
				return fmt.Errorf("sqlite: chmod %s: %w", side, err)
			}
		}
	}
	return nil
}

// Close stops the writer (answering the operations already queued) and closes
// the database.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.quit)
	<-s.stopped
	return errors.Join(s.r.Close(), s.w.Close())
}

// Broker is the live stream of committed changes.
func (s *Store) Broker() *agent.Broker { return s.broker }

// Branch is the branch ID.
func (s *Store) Branch() string { return s.cfg.Branch }

// Ready checks that the database answers.
func (s *Store) Ready(ctx context.Context) error {
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT 1").Scan(&n); err != nil {
		return queue.Errorf(queue.CodeUnavailable, "unavailable")
	}
	return nil
}

// Writable proves the single writer is alive and the database takes a
// commit: it writes the probe's time to meta through the writer (batched with
// whatever waits). The systemd watchdog and an update's trial use it.
func (s *Store) Writable(ctx context.Context) error {
	return s.do(ctx, func(tx *sql.Tx, now time.Time) (agent.Change, error) {
		if err := setMeta(context.Background(), tx, metaHealthProbe, ts(now)); err != nil { // queued: it runs whatever ctx does
			return agent.Change{}, &writeError{err}
		}
		return agent.Change{}, nil
	})
}

// DB returns the read pool (for tests and diagnostics; query-only).
func (s *Store) DB() *sql.DB { return s.r }

// errClosed is returned for operations submitted after Close.
var errClosed = queue.Errorf(queue.CodeUnavailable, "unavailable")

// do submits an operation to the writer and waits for its commit.
func (s *Store) do(ctx context.Context, run func(tx *sql.Tx, now time.Time) (agent.Change, error)) error {
	if s.closed.Load() {
		return errClosed
	}
	o := &op{run: run, done: make(chan struct{})}
	select {
	case s.ops <- o:
	case <-s.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, the operation commits or fails regardless of ctx: the
	// caller waits for the outcome so a 201 is never sent for a rolled-back
	// ticket and a committed one is never reported as failed.
	<-o.done
	return o.err
}

// call is do for an operation with a result: run's value once the writer
// committed it, the zero value with the error otherwise. The writer sets out
// before it closes the operation's done channel, which do waits for, so the
// hand-over needs no lock.
func call[T any](ctx context.Context, s *Store, run func(tx *sql.Tx, now time.Time) (T, agent.Change, error)) (T, error) {
	var out T
	err := s.do(ctx, func(tx *sql.Tx, now time.Time) (agent.Change, error) {
		res, ch, err := run(tx, now)
		out = res
		return ch, err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// loop is the single writer: it takes the operations waiting, applies them
// in one transaction and answers them after the commit. A tick every few
// seconds closes the business day at midnight without traffic.
func (s *Store) loop() {
	defer close(s.stopped)
	tick := time.NewTicker(cmp.Or(s.cfg.Tick, 5*time.Second))
	defer tick.Stop()
	batch := make([]*op, 0, s.cfg.MaxBatch)
	reported := time.Now() // the first check is ReportEvery after start-up
	for {
		batch = batch[:0]
		select {
		case o := <-s.ops:
			batch = append(batch, o)
		case <-tick.C:
			if s.cfg.ReportEvery > 0 && time.Since(reported) >= s.cfg.ReportEvery {
				batch = append(batch, s.reportOp())
				reported = time.Now()
			}
		case <-s.quit:
			s.drain()
			return
		}
	fill:
		for len(batch) < s.cfg.MaxBatch {
			select {
			case o := <-s.ops:
				batch = append(batch, o)
			default:
				break fill
			}
		}
		s.process(batch)
	}
}

// drain answers the operations queued at Close.
func (s *Store) drain() {
	for {
		select {
		case o := <-s.ops:
			s.process([]*op{o})
		default:
			return
		}
	}
}

type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

func (s *Store) process(batch []*op) {
	var notices []agent.Notice
	wrote := false
	s.mu.Lock()
	now := s.cfg.Now()
	roll := s.eng.Roll(now)
	roll.By(agent.SystemActor(), 0)
	// A tick with no operation opens no transaction unless the clock or the
	// admin command decided something: an idle box takes no write lock and
	// runs no statement but one pragma per tick.
	var clock []agent.Change
	if len(batch) == 0 && roll.Empty() {
		if unchanged, _ := s.adminUnchanged(s.stmts.dataVersion); unchanged {
			clock = []agent.Change{s.eng.ExpireSessions(now, s.cfg.Sessions, s.lastUse), s.eng.Timers(now)}
			if clock[0].Empty() && clock[1].Empty() {
				s.mu.Unlock()
				return
			}
		}
	}
	err := func() (err error) {
		tx, err := s.w.Begin()
		if err != nil {
			return fmt.Errorf("sqlite: begin: %w", err)
		}
		s.txs.Add(1)
		defer func() {
			if err != nil {
				_ = tx.Rollback()
			}
		}()
		if err := s.write(tx, roll, &notices); err != nil {
			return err
		}
		if clock == nil {
			if err := s.drainAdminLog(tx, &notices); err != nil {
				return err
			}
			// Sessions idle too long, then remote tickets' slides and
			// expiries and missed bookings (appointment.go).
			clock = []agent.Change{s.eng.ExpireSessions(now, s.cfg.Sessions, s.lastUse), s.eng.Timers(now)}
		}
		for _, ch := range clock {
			if err := s.write(tx, ch, &notices); err != nil {
				return err
			}
		}
		if len(roll.Events) > 0 {
			// A new day: idempotency keys of two days ago can no longer be retried.
			if _, err := tx.Exec("DELETE FROM idempotency WHERE created_at < ?", ts(now.Add(-48*time.Hour))); err != nil {
				return fmt.Errorf("sqlite: prune idempotency: %w", err)
			}
		}
		for _, o := range batch {
			ch, opErr := o.run(tx, s.cfg.Now())
			var we *writeError
			if errors.As(opErr, &we) {
				return we.err
			}
			if err := s.write(tx, ch, &notices); err != nil {
				return err
			}
			o.err = opErr
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: commit: %w", err)
		}
		wrote = len(notices) > 0
		return nil
	}()
	if err != nil {
		s.adminSeen = -1 // what was drained was rolled back: look again
		s.log.Error("write failed, batch rolled back", "err", err, "ops", len(batch))
		if lerr := s.reload(); lerr != nil {
			s.log.Error("reload after failed write", "err", lerr)
		}
		for _, o := range batch {
			o.err = queue.Errorf(queue.CodeUnavailable, "unavailable")
		}
		notices = nil
		wrote = false
	} else if len(notices) > 0 {
		s.committed.Store(notices[len(notices)-1].Seq)
	}
	s.mu.Unlock()
	if wrote {
		select {
		case s.written <- struct{}{}:
		default:
		}
		s.broker.Publish(notices)
	}
	for _, o := range batch {
		close(o.done)
	}
}

// used records that the session of token hash h was used now (idle timeout).
func (s *Store) used(h string) {
	s.seenMu.Lock()
	s.seen[h] = s.cfg.Now()
	s.seenMu.Unlock()
}

// lastUse is when the session of token hash h was last used (zero: not since
// the agent started); it forgets sessions that ended.
func (s *Store) lastUse(h string) time.Time {
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	if len(s.seen) > 4*maxCounters {
		for k := range s.seen {
			if _, ok := s.eng.SessionByToken(k); !ok {
				delete(s.seen, k)
			}
		}
	}
	return s.seen[h]
}

// maxCounters bounds the sessions that can exist (one per counter).
const maxCounters = 999

// drainAdminLog moves the events the admin command logged (admin_log) to the
// outbox, in the writer's transaction: only the writer numbers events.
func (s *Store) drainAdminLog(tx *sql.Tx, notices *[]agent.Notice) error {
	unchanged, version := s.adminUnchanged(tx.Stmt(s.stmts.dataVersion))
	if unchanged {
		return nil
	}
	defer func() { s.adminSeen = version }() // undone by process if the batch rolls back
	rows, err := tx.Query("SELECT id, type, at, data FROM admin_log ORDER BY id")
	if err != nil {
		return fmt.Errorf("sqlite: admin log: %w", err)
	}
	var ch agent.Change
	var last int64
	for rows.Next() {
		var typ, at, data string
		if err := rows.Scan(&last, &typ, &at, &data); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: admin log: %w", err)
		}
		t, err := time.Parse(timeLayout, at)
		if err != nil {
			t = s.cfg.Now()
		}
		ch.Events = append(ch.Events, agent.Emitted{Type: event.Type(typ), At: t, Data: json.RawMessage(data)})
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return fmt.Errorf("sqlite: admin log: %w", err)
	}
	rows.Close()
	if len(ch.Events) == 0 {
		return nil
	}
	if _, err := tx.Exec("DELETE FROM admin_log WHERE id <= ?", last); err != nil {
		return fmt.Errorf("sqlite: admin log: %w", err)
	}
	if err := s.write(tx, ch, notices); err != nil {
		return err
	}
	if s.cfg.ReportEvery <= 0 {
		return nil
	}
	// What the admin changed reaches HQ's view of the branch now, not at the
	// next periodic check (config_report.go).
	rep, err := s.reportChange(context.Background(), tx, s.cfg.Now())
	if err != nil {
		return err
	}
	return s.write(tx, rep, notices)
}

// adminUnchanged tells whether no other connection (the admin command, which
// logs into admin_log) has committed since the writer last drained that log,
// by SQLite's data_version, which the writer's own commits leave as it is. It
// returns the version it read (-1 when it could not: then it is not sure).
// Only the writer calls it, under s.mu.
func (s *Store) adminUnchanged(dataVersion *sql.Stmt) (bool, int64) {
	var v int64
	if err := dataVersion.QueryRow().Scan(&v); err != nil {
		return false, -1
	}
	return v == s.adminSeen, v
}

// reload rebuilds the engine and seq from the database after a failed write.
func (s *Store) reload() error {
	return s.load(s.w)
}

// querier is what loading and writing need from *sql.DB and *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// write writes a change and its events (outbox, next seqs) in tx.
func (s *Store) write(tx *sql.Tx, ch agent.Change, notices *[]agent.Notice) error {
	if ch.Empty() {
		return nil
	}
	ctx := context.Background()
	for _, t := range ch.Tickets {
		if _, err := tx.Stmt(s.stmts.ticket).Exec(ticketArgs(t)...); err != nil {
			return ticketErr(t, err)
		}
	}
	for _, a := range ch.Appointments {
		if err := upsertAppointment(tx, a); err != nil {
			return err
		}
	}
	for _, h := range ch.EndedSessions {
		if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE token_hash = ?", h); err != nil {
			return fmt.Errorf("sqlite: end session: %w", err)
		}
	}
	for _, ss := range ch.Sessions {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, executive, counter, paused, pause_reason, started_at, changed_at, pause_code)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (token_hash) DO UPDATE SET paused = excluded.paused, pause_reason = excluded.pause_reason,
				changed_at = excluded.changed_at, pause_code = excluded.pause_code`,
			ss.TokenHash, ss.Executive, ss.Counter, b2i(ss.Paused), ss.PauseReason, ts(ss.StartedAt), ts(ss.ChangedAt), ss.PauseCode); err != nil {
			return fmt.Errorf("sqlite: session: %w", err)
		}
	}
	for _, x := range ch.Executives {
		if _, err := tx.ExecContext(ctx, "UPDATE executives SET pin_weak = ? WHERE id = ?", b2i(x.WeakPIN), x.ID); err != nil {
			return fmt.Errorf("sqlite: executive: %w", err)
		}
	}
	for _, n := range ch.Numbering {
		if _, err := tx.Stmt(s.stmts.numbering).Exec(n.Day, n.Service, n.Last); err != nil {
			return fmt.Errorf("sqlite: numbering: %w", err)
		}
	}
	for k, v := range ch.Meta {
		if _, err := tx.Stmt(s.stmts.meta).Exec(k, v); err != nil {
			return fmt.Errorf("sqlite: meta %s: %w", k, err)
		}
	}
	for _, e := range ch.Events {
		data, err := json.Marshal(e.Data)
		if err != nil {
			return fmt.Errorf("sqlite: event %s: %w", e.Type, err)
		}
		seq := s.lastSeq + 1
		if _, err := tx.Stmt(s.stmts.outbox).Exec(int64(seq), s.cfg.NewID(), string(e.Type), ts(e.At), string(data)); err != nil {
			return fmt.Errorf("sqlite: outbox: %w", err)
		}
		s.lastSeq = seq
		if e.Ticket != nil {
			if err := logTicket(tx, seq, e); err != nil {
				return err
			}
		}
		n := agent.Notice{Seq: seq, Type: e.Type, Ticket: e.Ticket, Executive: e.Executive}
		if e.Ticket != nil || e.Type == event.DayClosed {
			n.Waiting = s.eng.WaitingCounts()
		}
		*notices = append(*notices, n)
	}
	return nil
}

// upsertTicketSQL writes a ticket's row; a second write of the same ticket
// updates what changes.
const upsertTicketSQL = `INSERT INTO tickets (id, day, origin_service, number, service, priority, status,
		counter, executive, recalls, outcome, rut_enc, rut_hash, token, channel, queued_at, first_in_line,
		created_at, called_at, recalled_at, started_at, ended_at, quoted_typical_s, quoted_upper_s, near,
		target_counter, target_executive, name_enc, appointment, due, join_cmd, present, hold_until, slides,
		checkin_code, rut_check)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET service = excluded.service, status = excluded.status,
		counter = excluded.counter, executive = excluded.executive, recalls = excluded.recalls,
		outcome = excluded.outcome, queued_at = excluded.queued_at, first_in_line = excluded.first_in_line,
		called_at = excluded.called_at, recalled_at = excluded.recalled_at, started_at = excluded.started_at,
		ended_at = excluded.ended_at, near = excluded.near, target_counter = excluded.target_counter,
		target_executive = excluded.target_executive, due = excluded.due, present = excluded.present,
		hold_until = excluded.hold_until, slides = excluded.slides`

func ticketArgs(t agent.Ticket) []any {
	return []any{t.ID, t.Day, t.OriginService, t.Number, t.Service, string(t.Priority), string(t.Status),
		nullInt(t.Counter), nullStr(t.Executive), t.Recalls, t.Outcome, t.RUTEnc, t.RUTHash, t.Token, t.Channel,
		ts(t.QueuedAt), b2i(t.FirstInLine), ts(t.CreatedAt), nullTime(t.CalledAt), nullTime(t.RecalledAt),
		nullTime(t.StartedAt), nullTime(t.EndedAt), t.QuotedTypical, t.QuotedUpper, b2i(t.Near),
		t.TargetCounter, t.TargetExecutive, t.NameEnc, t.Appointment, nullTime(t.Due), t.Join, b2i(!t.Unchecked),
		nullTime(t.HoldUntil), t.Slides, t.Code, t.RUTCheck}
}

func upsertTicket(ctx context.Context, q querier, t agent.Ticket) error {
	_, err := q.ExecContext(ctx, upsertTicketSQL, ticketArgs(t)...)
	return ticketErr(t, err)
}

func ticketErr(t agent.Ticket, err error) error {
	if err != nil {
		if isConstraint(err) {
			return queue.Errorf(queue.CodeConflict, "internal")
		}
		return fmt.Errorf("sqlite: ticket %s: %w", t.ID, err)
	}
	return nil
}

// stmts are the writer's hot statements, prepared once on its connection.
type stmts struct {
	ticket, numbering, meta, outbox, idemGet, idemPut, dataVersion *sql.Stmt
}

func (s *Store) prepare(ctx context.Context) error {
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&s.stmts.ticket, upsertTicketSQL},
		{&s.stmts.numbering, "INSERT INTO numbering (day, service, last) VALUES (?, ?, ?) ON CONFLICT (day, service) DO UPDATE SET last = excluded.last"},
		{&s.stmts.meta, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"},
		{&s.stmts.outbox, "INSERT INTO outbox (seq, id, type, at, data) VALUES (?, ?, ?, ?, ?)"},
		{&s.stmts.idemGet, "SELECT ticket, request FROM idempotency WHERE key = ?"},
		{&s.stmts.idemPut, "INSERT INTO idempotency (key, ticket, request, created_at) VALUES (?, ?, ?, ?)"},
		{&s.stmts.dataVersion, "PRAGMA data_version"},
	} {
		st, err := s.w.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("sqlite: prepare: %w", err)
		}
		*p.dst = st
	}
	return nil
}

func setMeta(ctx context.Context, q querier, k, v string) error {
	if _, err := q.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", k, v); err != nil {
		return fmt.Errorf("sqlite: meta %s: %w", k, err)
	}
	return nil
}

func getMeta(ctx context.Context, q querier, k string) (string, bool, error) {
	var v string
	err := q.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", k).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("sqlite: meta %s: %w", k, err)
	}
	return v, true, nil
}

func isConstraint(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint
}

// Time columns are RFC 3339 UTC text with nanoseconds; NULL for zero.
const timeLayout = time.RFC3339Nano

func ts(t time.Time) string { return t.UTC().Format(timeLayout) }

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func parseTime(s sql.NullString) time.Time {
	if !s.Valid || s.String == "" {
		return time.Time{}
	}
	t, err := time.Parse(timeLayout, s.String)
	if err != nil {
		return time.Time{}
	}
	return t
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }
