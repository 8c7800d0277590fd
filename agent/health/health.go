// Package health is the branch agent's judgement of its own health, shared
// by the systemd watchdog (a hung agent is restarted) and an update's trial
// (an unhealthy new version is rolled back): the LAN API answers /readyz,
// SQLite takes a commit, and the relay loop is not stuck. Being offline is
// healthy: a branch works without the cloud.
package health

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"time"
)

// Store is what the check needs of the agent's store.
type Store interface {
	// Writable commits a small write through the store's writer.
	Writable(ctx context.Context) error
}

// Loop is a background loop that reports whether it is stuck (the sync
// relay, agent/mqtt.Relay).
type Loop interface {
	Alive(now time.Time) error
}

// Checker checks the agent's own health.
type Checker struct {
	// LAN is the agent's LAN API base URL (its own listener).
	LAN   string
	Store Store
	// Loops are checked for being stuck (nil entries are skipped).
	Loops []Loop
	// Timeout bounds each check (5 s).
	Timeout time.Duration
}

// Problems lists what is not healthy now (nil: healthy).
func (c Checker) Problems(ctx context.Context) []string {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	var p []string
	hc := &http.Client{Timeout: timeout, Transport: &http.Transport{
		// The box's own listener, by its address: its certificate names the
		// LAN names, and what is checked is that it answers.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // #nosec G402 -- a loopback self-check of the agent's own LAN listener
	}}
	defer hc.CloseIdleConnections()
	if res, err := hc.Get(c.LAN + "/readyz"); err != nil {
		p = append(p, "LAN API: "+err.Error())
	} else {
		_ = res.Body.Close()
		if res.StatusCode != http.StatusOK {
			p = append(p, fmt.Sprintf("LAN API: /readyz %d", res.StatusCode))
		}
	}
	if err := bounded(ctx, timeout, c.Store.Writable); err != nil {
		p = append(p, "SQLite: "+err.Error())
	}
	now := time.Now()
	for _, l := range c.Loops {
		if l == nil {
			continue
		}
		if err := l.Alive(now); err != nil {
			p = append(p, err.Error())
		}
	}
	return p
}

// bounded runs f, giving up after d: a writer that never answers is as
// unhealthy as one that fails.
func bounded(ctx context.Context, d time.Duration, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("no answer within %s", d)
	}
}
