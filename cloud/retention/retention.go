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

	"github.com/ticketero/ticketero/cloud"
)

// AuditAction is the hq_audit action of a retention run. It is stored and
// exported: never rename it.
const AuditAction = "personal.anonymise"

// AuditActor is the actor of a retention run in hq_audit.
const AuditActor = "system:retention"

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
	store cloud.Anonymiser
	audit cloud.Auditor
	log   *slog.Logger
}

// New returns a job that anonymises through store and audits through audit.
func New(store cloud.Anonymiser, audit cloud.Auditor, cfg Config) (*Job, error) {
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
	if store == nil || audit == nil {
		return nil, errors.New("retention: nil store or auditor")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Job{cfg: cfg, store: store, audit: audit, log: cfg.Logger.With("component", "retention")}, nil
}

// Result counts the rows a run changed.
type Result = cloud.AnonymiseResult

// RunOnce anonymises everything past the retention, batch by batch, and
// audits the run. Only one replica runs at a time; the others return
// Skipped. A second run finds nothing.
func (j *Job) RunOnce(ctx context.Context) (Result, error) {
	now := j.cfg.Now()
	res, runErr := j.store.Anonymise(ctx, now, j.cfg.Days, j.cfg.Batch)
	if res.Skipped {
		return res, runErr
	}
	detail := fmt.Sprintf("%s retention_days=%d", res, j.cfg.Days)
	if runErr != nil {
		detail += " error=" + errors.Unwrap(runErr).Error()
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := j.audit.Audit(actx, cloud.AuditEntry{At: now, Actor: AuditActor, Action: AuditAction, Detail: detail}); err != nil {
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
