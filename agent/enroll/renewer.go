package enroll

import (
	"context"
	"log/slog"
	"time"
)

// Renewer renews the box's certificate before it expires, without a visit:
// every Interval it asks Client to renew when the certificate expires within
// Before. OnRenew (optional) is called after a renewal so the MQTT link can
// reconnect with the new certificate.
type Renewer struct {
	Client   *Client
	Dir      string
	Before   time.Duration // 30 days when zero
	Interval time.Duration // 12 h when zero
	OnRenew  func(State)
	Logger   *slog.Logger
}

// Run checks at start and then every Interval until ctx ends. Failures are
// logged and retried at the next tick (the current certificate stays).
func (r *Renewer) Run(ctx context.Context) error {
	before, every := r.Before, r.Interval
	if before <= 0 {
		before = 30 * 24 * time.Hour
	}
	if every <= 0 {
		every = 12 * time.Hour
	}
	log := slog.New(slog.DiscardHandler)
	if r.Logger != nil {
		log = r.Logger.With("component", "renewer")
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		renewed, st, err := r.Client.Renew(ctx, r.Dir, before)
		switch {
		case err != nil:
			log.Warn("certificate renewal failed; will retry", "err", err)
		case renewed:
			log.Info("certificate renewed", "branch", st.Branch, "not_after", st.NotAfter)
			if r.OnRenew != nil {
				r.OnRenew(st)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
