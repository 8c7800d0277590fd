package main

// HQ's alert evaluation: its own loop in serve, apart from the web's live
// push, so alerts are raised on time whether or not a browser is watching.
// One replica of the cluster runs it, the leader (postgres.Elector, wired
// in newLeader); the store still keeps one open alert per branch and kind if
// two passes overlap during a handover.

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/shared/envflag"
)

// AlertConfig is the alert evaluation's configuration, from env:
// TICKETERO_ALERT_OFFLINE_AFTER (Go duration, default 5m; the older
// TICKETERO_ALERT_OFFLINE_MINUTES is still read), TICKETERO_ALERT_STALLED_AFTER
// (5m; 0 turns the alert off), TICKETERO_ALERT_EVERY (5s),
// TICKETERO_ALERT_LOW_SCORE (2: a customer's satisfaction of 1 or 2 alerts
// the branch's supervisors for an hour; 0 turns it off).
type AlertConfig struct {
	Rules cloud.AlertRules
	Every time.Duration
}

// ParseAlertEnv reads (envflag) and validates the alert configuration.
func ParseAlertEnv(getenv func(string) string) (AlertConfig, error) {
	c := AlertConfig{Rules: cloud.DefaultAlertRules(), Every: 5 * time.Second}
	env := envflag.NewEnv(getenv)
	minutes := 0
	env.Int(&minutes, "TICKETERO_ALERT_OFFLINE_MINUTES")
	if minutes != 0 {
		c.Rules.OfflineAfter = time.Duration(minutes) * time.Minute
	}
	env.Duration(&c.Rules.OfflineAfter, "TICKETERO_ALERT_OFFLINE_AFTER")
	env.Duration(&c.Rules.StalledAfter, "TICKETERO_ALERT_STALLED_AFTER")
	env.Duration(&c.Every, "TICKETERO_ALERT_EVERY")
	env.Int(&c.Rules.LowScore, "TICKETERO_ALERT_LOW_SCORE")
	if err := env.Err(); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	if getenv("TICKETERO_ALERT_OFFLINE_MINUTES") != "" && (minutes < 1 || minutes > 1440) {
		return c, fmt.Errorf("config: TICKETERO_ALERT_OFFLINE_MINUTES %d: want 1..1440", minutes)
	}
	return c, c.Validate()
}

// Validate checks the alert configuration, naming the variable and the value.
func (c AlertConfig) Validate() error {
	if c.Rules.LowScore < 0 || c.Rules.LowScore > 5 {
		return fmt.Errorf("config: TICKETERO_ALERT_LOW_SCORE %d: want a satisfaction score 0..5 (0 turns the alert off)", c.Rules.LowScore)
	}
	for _, d := range []struct {
		name     string
		v        time.Duration
		min, max time.Duration
	}{
		{"TICKETERO_ALERT_OFFLINE_AFTER", c.Rules.OfflineAfter, time.Second, 24 * time.Hour},
		{"TICKETERO_ALERT_STALLED_AFTER", c.Rules.StalledAfter, 0, 24 * time.Hour},
		{"TICKETERO_ALERT_EVERY", c.Every, 100 * time.Millisecond, 10 * time.Minute},
	} {
		if d.v < d.min || d.v > d.max {
			return fmt.Errorf("config: %s %s: want a duration from %s to %s (e.g. 5m)", d.name, d.v, d.min, d.max)
		}
	}
	return nil
}

// newLeader builds the cluster's leader election: its session is checked
// and its lock tried every alert interval, so the alert loop (and, in
// Telegram's polling mode, the getUpdates poller: telegram.go) moves to
// another replica within about one interval of losing its leader. The
// ticketero_cloud_leader gauge is 1 on the replica that leads.
func newLeader(m *Main) *postgres.Elector {
	e := &postgres.Elector{Pool: m.Pool, Every: m.Config.Alerts.Every, Log: m.Log}
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ticketero_cloud_leader",
		Help: "1 while this replica is the cluster's leader and runs its singleton jobs (the HQ alert evaluation, Telegram's getUpdates poller), else 0."},
		func() float64 {
			if e.Leading() {
				return 1
			}
			return 0
		}))
	return e
}

// newAlerts builds the alert loop (run by the leader only).
func newAlerts(m *Main) (func(context.Context), error) {
	c := m.Config.Alerts
	store := m.hq
	log := m.Log.With("component", "alerts")
	changes := &postgres.Listener{Pool: m.Pool, Channel: cloud.ChangesChannel, Log: log}
	return func(ctx context.Context) { runAlerts(ctx, store, c, log, changes) }, nil
}

// runAlerts evaluates every branch's alerts each c.Every until ctx ends. A
// change is announced on cloud.ChangesChannel (cloud.AlertsChanged) for every replica's
// live browsers. The branches are read through alertFacts: those announced
// on changes since the last pass, every branch each minute (each pass
// without changes, nil).
func runAlerts(ctx context.Context, store *hq.Store, c AlertConfig, log *slog.Logger, changes cloud.ChangeListener) {
	facts := newAlertFacts()
	if changes != nil {
		go changes.Listen(ctx, facts.connected, facts.mark)
	}
	t := time.NewTicker(c.Every)
	defer t.Stop()
	for {
		tiles, err := facts.current(ctx, store, store.Now())
		if err == nil {
			_, err = store.EvaluateAlerts(ctx, tiles, c.Rules)
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("alert evaluation", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
