// Package retention anonymises the cloud's personal data once it is no longer
// needed (Chile's Ley 19.628, reformed by Ley 21.719): the RUT hash of
// tickets and of their events, Telegram links of closed days, and RUT
// consents nobody has used within the retention. The operational record
// (tickets, events, times, counts) stays for the statistics.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ticketero/ticketero/cloud/postgres/hq"
)

// AuditAction is the hq_audit action of a retention run. It is stored and
// exported: never rename it.
const AuditAction = "personal.anonymise"

// AuditActor is the actor of a retention run in hq_audit.
const AuditActor = "system:retention"

// lockKey is the advisory lock that lets one replica run at a time.
const lockKey int64 = 0x7469636b_72657465 // "tickrete"

// Auditor records a run (hq.Store).
type Auditor interface {
	Audit(ctx context.Context, e hq.AuditEntry) error
}

var _ Auditor = (*hq.Store)(nil)

// Config is what a Job is built from.
type Config struct {
	// Days is how long personal data is kept (default 30).
	Days int
	// Batch is the most rows one statement changes (default 5,000), so a big
	// backlog never holds row locks long nor blocks the ingest.
	Batch int
	// Every is the interval of Run (default one hour).
	Every  time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// Validate names the field and the bad value.
func (c Config) Validate() error {
	if c.Days < 1 || c.Days > 3650 {
		return fmt.Errorf("retention: days %d must be 1 to 3650", c.Days)
	}
	if c.Batch < 1 {
		return fmt.Errorf("retention: batch %d must be positive", c.Batch)
	}
	if c.Every <= 0 {
		return fmt.Errorf("retention: interval %s must be positive", c.Every)
	}
	return nil
}

// Job is the cloud's retention job.
type Job struct {
	cfg   Config
	pool  *pgxpool.Pool
	audit Auditor
	log   *slog.Logger
}

// New returns a job on pool that audits through audit.
func New(pool *pgxpool.Pool, audit Auditor, cfg Config) (*Job, error) {
	if cfg.Days == 0 {
		cfg.Days = 30
	}
	if cfg.Batch == 0 {
		cfg.Batch = 5000
	}
	if cfg.Every == 0 {
		cfg.Every = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if pool == nil || audit == nil {
		return nil, errors.New("retention: nil pool or auditor")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Job{cfg: cfg, pool: pool, audit: audit, log: cfg.Logger.With("component", "retention")}, nil
}

// Result counts the rows a run changed.
type Result struct {
	Tickets     int64 // tickets whose rut_hash was cleared
	Events      int64 // events whose data lost rut_hash
	TicketChats int64 // chat-to-ticket links of closed days deleted
	TokenLinks  int64 // scanned-token links of closed days deleted
	Consents    int64 // RUT consents (rut_lookup) unused within the retention, cleared
	// Quarantined: quarantined events (raw, possibly with personal data)
	// older than the retention, deleted.
	Quarantined int64
	// Skipped is true when another replica held the run.
	Skipped bool
}

// Total is the number of rows changed.
func (r Result) Total() int64 {
	return r.Tickets + r.Events + r.TicketChats + r.TokenLinks + r.Consents + r.Quarantined
}

func (r Result) String() string {
	return fmt.Sprintf("tickets=%d events=%d ticket_chats=%d token_links=%d consents=%d quarantined=%d",
		r.Tickets, r.Events, r.TicketChats, r.TokenLinks, r.Consents, r.Quarantined)
}

// step is one batched statement: $1 the clock, $2 the retention in days,
// $3 the batch size (the link steps, which go by closed days, only check $2
// so every statement takes the same three parameters). Each statement picks its rows with SKIP LOCKED so it
// never waits on the ingest, and each commits on its own.
type step struct {
	name string
	sql  string
	n    func(*Result) *int64
}

var steps = []step{
	// Consents first: the links deleted below are part of the evidence of use.
	{"consents", `UPDATE telegram_chats c SET rut_lookup = NULL
		FROM (SELECT c2.id FROM telegram_chats c2
			WHERE c2.rut_lookup IS NOT NULL
			AND c2.created_at < $1::timestamptz - make_interval(days => $2::int)
			AND NOT EXISTS (SELECT 1 FROM telegram_ticket_chats l WHERE l.chat_id = c2.id
				AND l.created_at >= $1::timestamptz - make_interval(days => $2::int))
			AND NOT EXISTS (SELECT 1 FROM telegram_jobs j WHERE j.chat_id = c2.id
				AND j.created_at >= $1::timestamptz - make_interval(days => $2::int))
			LIMIT $3 FOR UPDATE OF c2 SKIP LOCKED) x
		WHERE c.id = x.id`, func(r *Result) *int64 { return &r.Consents }},
	{"tickets", `UPDATE tickets t SET rut_hash = NULL
		FROM (SELECT t2.branch, t2.id FROM tickets t2 LEFT JOIN branches b ON b.id = t2.branch
			WHERE t2.rut_hash IS NOT NULL
			AND t2.day < (($1::timestamptz AT TIME ZONE COALESCE(b.time_zone, 'America/Santiago'))::date - $2::int)
			LIMIT $3 FOR UPDATE OF t2 SKIP LOCKED) x
		WHERE t.branch = x.branch AND t.id = x.id`, func(r *Result) *int64 { return &r.Tickets }},
	{"events", `UPDATE events e SET data = e.data - 'rut_hash'
		FROM (SELECT branch, seq FROM events
			WHERE data ? 'rut_hash' AND at < $1::timestamptz - make_interval(days => $2::int)
			LIMIT $3 FOR UPDATE SKIP LOCKED) x
		WHERE e.branch = x.branch AND e.seq = x.seq`, func(r *Result) *int64 { return &r.Events }},
	{"ticket_chats", `DELETE FROM telegram_ticket_chats l USING (
			SELECT l2.ctid AS c FROM telegram_ticket_chats l2
			JOIN tickets t ON t.branch = l2.branch AND t.id = l2.ticket
			LEFT JOIN branches b ON b.id = t.branch
			WHERE t.day < ($1::timestamptz AT TIME ZONE COALESCE(b.time_zone, 'America/Santiago'))::date
			AND $2::int > 0
			LIMIT $3 FOR UPDATE OF l2 SKIP LOCKED) x
		WHERE l.ctid = x.c`, func(r *Result) *int64 { return &r.TicketChats }},
	{"token_links", `DELETE FROM telegram_token_links l USING (
			SELECT l2.ctid AS c FROM telegram_token_links l2
			JOIN tickets t ON t.token = l2.token
			LEFT JOIN branches b ON b.id = t.branch
			WHERE t.day < ($1::timestamptz AT TIME ZONE COALESCE(b.time_zone, 'America/Santiago'))::date
			AND $2::int > 0
			LIMIT $3 FOR UPDATE OF l2 SKIP LOCKED) x
		WHERE l.ctid = x.c`, func(r *Result) *int64 { return &r.TokenLinks }},
	{"quarantine", `DELETE FROM ingest_quarantine q USING (
			SELECT id FROM ingest_quarantine
			WHERE received_at < $1::timestamptz - make_interval(days => $2::int)
			LIMIT $3 FOR UPDATE SKIP LOCKED) x
		WHERE q.id = x.id`, func(r *Result) *int64 { return &r.Quarantined }},
}

// RunOnce anonymises everything past the retention, batch by batch, and
// audits the run. Only one replica runs at a time (an advisory lock); the
// others return Skipped. A second run finds nothing.
func (j *Job) RunOnce(ctx context.Context) (Result, error) {
	var res Result
	conn, err := j.pool.Acquire(ctx)
	if err != nil {
		return res, fmt.Errorf("retention: acquire: %w", err)
	}
	defer conn.Release()
	var locked bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", lockKey).Scan(&locked); err != nil {
		return res, fmt.Errorf("retention: lock: %w", err)
	}
	if !locked {
		res.Skipped = true
		return res, nil
	}
	defer func() {
		// A fresh context: the lock must go back even when ctx is done.
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", lockKey); err != nil {
			conn.Conn().Close(uctx) // a closed session drops its locks
		}
	}()
	now := j.cfg.Now()
	var runErr error
	for _, s := range steps {
		for {
			tag, err := conn.Exec(ctx, s.sql, now, j.cfg.Days, j.cfg.Batch)
			if err != nil {
				runErr = fmt.Errorf("retention: %s: %w", s.name, err)
				break
			}
			*s.n(&res) += tag.RowsAffected()
			if tag.RowsAffected() < int64(j.cfg.Batch) {
				break
			}
		}
		if runErr != nil {
			break
		}
	}
	detail := fmt.Sprintf("%s retention_days=%d", res, j.cfg.Days)
	if runErr != nil {
		detail += " error=" + errors.Unwrap(runErr).Error()
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := j.audit.Audit(actx, hq.AuditEntry{At: now, Actor: AuditActor, Action: AuditAction, Detail: detail}); err != nil {
		return res, errors.Join(runErr, fmt.Errorf("retention: audit: %w", err))
	}
	return res, runErr
}

// Run runs the job at start and then every Every until ctx is done.
// Failures are logged and retried at the next tick.
func (j *Job) Run(ctx context.Context) {
	t := time.NewTicker(j.cfg.Every)
	defer t.Stop()
	for {
		start := time.Now()
		res, err := j.RunOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			j.log.Error("retention run failed", "err", err, "result", res.String())
		case res.Skipped:
			j.log.Debug("retention run held by another replica")
		default:
			j.log.Info("retention run", "rows", res.Total(), "result", res.String(), "retention_days", j.cfg.Days,
				"ms", time.Since(start).Milliseconds())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
