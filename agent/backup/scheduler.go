package backup

import (
	"context"
	"log/slog"
	"time"

	"github.com/ticketero/ticketero/shared/backoff"
)

// Scheduler makes the nightly backup: every day at Hour:Minute in Location
// (03:00 in the branch's zone by default, when no branch is open).
type Scheduler struct {
	Config   Config
	Hour     int
	Minute   int
	Location *time.Location
	// Sleep waits for d or ctx (a timer when nil; tests inject one).
	Sleep func(ctx context.Context, d time.Duration) error
	// Done, when set, is called after each attempt (tests, metrics).
	Done func(Result, error)
}

// Next is the first run time strictly after now.
func (s *Scheduler) Next(now time.Time) time.Time {
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	l := now.In(loc)
	next := time.Date(l.Year(), l.Month(), l.Day(), s.Hour, s.Minute, 0, 0, loc)
	if !next.After(l) {
		next = time.Date(l.Year(), l.Month(), l.Day()+1, s.Hour, s.Minute, 0, 0, loc)
	}
	return next
}

// Run makes a backup at every scheduled time until ctx ends. A failure is
// logged and the next night tries again.
func (s *Scheduler) Run(ctx context.Context) error {
	log := s.Config.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "backup")
	sleep := s.Sleep
	if sleep == nil {
		sleep = backoff.Sleep
	}
	for {
		now := s.Config.now()
		if err := sleep(ctx, s.Next(now).Sub(now)); err != nil {
			return nil
		}
		res, err := Run(ctx, s.Config)
		if err != nil {
			log.Error("nightly backup failed", "err", err)
		} else {
			log.Info("nightly backup", "path", res.Path, "bytes", res.Size, "uploaded", res.Uploaded, "pruned", len(res.Removed))
		}
		if s.Done != nil {
			s.Done(res, err)
		}
	}
}
