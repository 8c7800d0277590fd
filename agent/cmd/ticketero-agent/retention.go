package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ticketero/ticketero/shared/envflag"
)

// RetentionConfig is how long personal data is kept (Ley 19.628 / 21.719).
type RetentionConfig struct {
	Days  int           // --retention-days: tickets' RUT is cleared after this many business days
	Every time.Duration // how often the job runs (hourly; tests shorten it)
}

// DefaultRetentionConfig keeps personal data 30 days, checked hourly.
func DefaultRetentionConfig() RetentionConfig { return RetentionConfig{Days: 30, Every: time.Hour} }

func (c *RetentionConfig) flags(s *envflag.Set) {
	s.Int(&c.Days, "retention-days", "", "days a ticket's RUT is kept before it is anonymised")
}

// Validate checks the retention.
func (c RetentionConfig) Validate() error {
	if c.Days < 1 || c.Days > 3650 {
		return fmt.Errorf("retention-days: %d must be 1 to 3650", c.Days)
	}
	if c.Every <= 0 {
		return fmt.Errorf("retention: interval %s must be positive", c.Every)
	}
	return nil
}

// startRetention anonymises old tickets at start and then every
// Retention.Every until Close. Failures are logged and retried next time.
func (m *Main) startRetention() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	m.retention = &linkRun{cancel: cancel, done: done}
	log := m.Logger.With("component", "retention")
	go func() {
		defer close(done)
		t := time.NewTicker(m.Config.Retention.Every)
		defer t.Stop()
		for {
			start := time.Now()
			n, err := m.Store.Anonymise(ctx, m.Config.Retention.Days)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				log.Error("anonymise old tickets", "err", err)
			case n > 0:
				log.Info("old tickets anonymised", "tickets", n, "retention_days", m.Config.Retention.Days,
					"ms", time.Since(start).Milliseconds())
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

func (m *Main) stopRetention() {
	if m.retention != nil {
		m.retention.cancel()
		<-m.retention.done
		m.retention = nil
	}
}
