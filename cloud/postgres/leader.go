package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ticketero/ticketero/shared/backoff"
)

// LeaderLockKey is the session-level advisory lock whose holder is the
// cluster's leader: the one replica that runs the jobs which must run once
// per cluster (the HQ alert evaluation, Telegram's getUpdates poller in
// polling mode). pg_locks shows it as
// locktype 'advisory', classid 1953063787, objid 1818583396, objsubid 1.
const LeaderLockKey int64 = 0x7469636b_6c656164 // "ticklead"

// DefaultLeaderEvery is how often an Elector tries the lock and the leader
// checks its session when Every is not set.
const DefaultLeaderEvery = 5 * time.Second

// Elector elects one leader among the replicas sharing a database: the
// replica whose dedicated session holds the advisory lock Key
// (pg_try_advisory_lock, session level). The others try again every Every.
// The leader checks its session every Every; when the check fails (the
// connection was killed, the database restarted, the network broke) it
// stops its jobs and campaigns again after two intervals, and the server,
// which released the lock with the session, lets the next replica take it
// at its next try: a handover within about one interval. A check or a
// try that takes longer than max(interval, 5 s) counts as a lost session.
// The session is also given an idle_session_timeout of three intervals (at
// least 15 s), so a leader that stops checking (a frozen process, a
// half-open connection) loses the lock on the server without waiting for
// TCP to notice. The session must be a real one (PostgreSQL directly, or a
// pooler in session mode).
//
// A job of a leader that loses its session is cancelled, not fenced: a
// pass already under way may finish while the next leader starts, so a
// job must stay correct if two passes overlap once (it only must not run
// everywhere all the time).
type Elector struct {
	Pool *pgxpool.Pool
	// Key is the advisory lock (LeaderLockKey when 0).
	Key int64
	// Every is the campaign and check interval (DefaultLeaderEvery when 0).
	Every time.Duration
	Log   *slog.Logger

	leading atomic.Bool
}

// Leading reports whether this replica holds the lock and runs the jobs.
func (e *Elector) Leading() bool { return e.leading.Load() }

// Run campaigns until ctx ends and runs every job, each on its own
// goroutine, while this replica leads; each job's context ends when the
// leadership does, and Run waits for the jobs before it lets the lock go.
func (e *Elector) Run(ctx context.Context, jobs ...func(context.Context)) {
	key, every, log := e.Key, e.Every, e.Log
	if key == 0 {
		key = LeaderLockKey
	}
	if every <= 0 {
		every = DefaultLeaderEvery
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "leader")
	bo := backoff.New(every, 6*every)
	for ctx.Err() == nil {
		conn, err := e.connect(ctx, every)
		if err != nil {
			wait := bo.Next()
			if ctx.Err() == nil {
				log.Warn("leader election: no session", "err", err, "retry_in", wait)
			}
			_ = backoff.Sleep(ctx, wait)
			continue
		}
		bo.Reset()
		led, err := e.campaign(ctx, conn, key, every, log, jobs)
		if err != nil && ctx.Err() == nil {
			log.Warn("leader election: session lost", "err", err)
		}
		cctx, cancel := context.WithTimeout(context.Background(), every)
		_ = conn.Close(cctx) // a closed session drops its lock
		cancel()
		if led {
			// Stand back two intervals: the others, which try every
			// interval, take the lock first, so a leader whose session
			// was killed hands over instead of taking it straight back.
			_ = backoff.Sleep(ctx, 2*every)
		}
	}
}

// queryTimeout bounds a try of the lock and a check of the session: an
// interval, at least 5 s, so a busy database or machine (a short interval
// in tests) does not pass for a lost session.
func queryTimeout(every time.Duration) time.Duration { return max(every, 5*time.Second) }

// idleTimeout is the session's idle_session_timeout: three intervals, at
// least 15 s, so a leader delayed between two checks keeps its lock.
func idleTimeout(every time.Duration) time.Duration { return max(3*every, 15*time.Second) }

// connect opens the dedicated session.
func (e *Elector) connect(ctx context.Context, every time.Duration) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, max(every, 5*time.Second))
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, e.Pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(cctx, fmt.Sprintf("SET idle_session_timeout = %d", idleTimeout(every).Milliseconds())); err != nil {
		_ = conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// campaign tries the lock every interval; once it holds it, it leads until
// the session fails or ctx ends. It reports whether it led, and the
// session's error.
func (e *Elector) campaign(ctx context.Context, conn *pgx.Conn, key int64, every time.Duration, log *slog.Logger,
	jobs []func(context.Context)) (bool, error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		var got bool
		qctx, cancel := context.WithTimeout(ctx, queryTimeout(every))
		err := conn.QueryRow(qctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got)
		cancel()
		if err != nil {
			return false, err
		}
		if got {
			return true, e.lead(ctx, conn, every, log, jobs)
		}
		select {
		case <-ctx.Done():
			return false, nil
		case <-t.C:
		}
	}
}

// lead runs the jobs and checks the session every interval; it stops the
// jobs and returns when the check fails or ctx ends.
func (e *Elector) lead(ctx context.Context, conn *pgx.Conn, every time.Duration, log *slog.Logger, jobs []func(context.Context)) error {
	var pid uint32
	if conn.PgConn() != nil {
		pid = conn.PgConn().PID()
	}
	e.leading.Store(true)
	log.Info("leading: this replica runs the cluster's singleton jobs", "leader", true, "backend_pid", pid)
	jctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, job := range jobs {
		wg.Go(func() { job(jctx) })
	}
	defer func() {
		stop()
		wg.Wait() // the jobs end before the lock can go to another replica
		e.leading.Store(false)
		log.Info("not leading: another replica may take the singleton jobs", "leader", false)
	}()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		qctx, cancel := context.WithTimeout(ctx, queryTimeout(every))
		_, err := conn.Exec(qctx, "SELECT 1")
		cancel()
		if err != nil {
			return err
		}
	}
}
