package main

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/ticketero/ticketero/agent/update"
	"github.com/ticketero/ticketero/shared/envflag"
	"github.com/ticketero/ticketero/shared/release"
)

// UpdateConfig is remote agent updates' configuration: without a key the box
// takes no release from HQ.
type UpdateConfig struct {
	// Key is the base64 Ed25519 public key releases must be signed with.
	Key string
	// HealthTimeout is how long a new version has to prove healthy before
	// it is rolled back.
	HealthTimeout time.Duration
}

func (c *UpdateConfig) flags(s *envflag.Set) {
	s.String(&c.Key, "update-key", "", "base64 Ed25519 public key of HQ's agent releases; empty: no remote updates")
	s.Duration(&c.HealthTimeout, "update-health-timeout", "", "how long a new agent version has to prove healthy before it is rolled back")
}

// Validate checks the key and the timeout.
func (c UpdateConfig) Validate() error {
	if c.Key != "" {
		if _, err := release.ParsePublicKey(c.Key); err != nil {
			return fmt.Errorf("update-key: %w", err)
		}
	}
	if c.HealthTimeout != 0 && (c.HealthTimeout < 5*time.Second || c.HealthTimeout > time.Hour) {
		return fmt.Errorf("update-health-timeout: %s must be 5s to 1h", c.HealthTimeout)
	}
	return nil
}

// newUpdater builds the updater when a key is set and a cloud link will be
// (offers arrive over it); nil otherwise.
func (m *Main) newUpdater() *update.Updater {
	c := m.Config.Update
	if c.Key == "" || m.Config.Sync.MQTT == "" {
		return nil
	}
	key, _ := release.ParsePublicKey(c.Key) // validated
	loc, _ := time.LoadLocation(m.Config.TimeZone)
	return update.New(update.Config{Data: m.Config.Data, Version: version, PublicKey: key, Location: loc,
		HealthTimeout: c.HealthTimeout, Busy: m.Store.Busy, Log: m.Logger}, m.Store)
}

// startUpdater runs the updater once the LAN API listens.
func (m *Main) startUpdater() {
	if m.Updater == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.updater = &linkRun{cancel: cancel, done: make(chan struct{})}
	self := m.selfURL()
	go func() {
		defer close(m.updater.done)
		m.Updater.Run(ctx, self, m.Link)
	}()
}

func (m *Main) stopUpdater() {
	if m.updater != nil {
		m.updater.cancel()
		<-m.updater.done
		m.updater = nil
	}
}

// restarts receives the binary to exec after a graceful stop (an installed
// update or a rollback); nil without updates.
func (m *Main) restarts() <-chan string {
	if m.Updater == nil {
		return nil
	}
	return m.Updater.Restart()
}

// launch runs, before serve opens anything, the binary the box's update
// state says must run (update.Launch); it returns only when this process is
// the one.
func launch(data string, args []string, stderr *os.File) {
	self, err := os.Executable()
	if err != nil {
		return
	}
	path, err := update.Launch(data, version, self, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "ticketero-agent: update:", err, "(running this binary)")
		return
	}
	if path != "" {
		execInto(path, args, stderr)
	}
}

// execInto replaces this process with bin, same arguments and environment
// (the service manager still sees the same process).
func execInto(bin string, args []string, stderr *os.File) {
	argv := append([]string{bin}, args...)
	err := syscall.Exec(bin, argv, os.Environ()) // #nosec G204 G702 -- a release verified against the box's trusted key, or the installed launcher
	fmt.Fprintln(stderr, "ticketero-agent: exec", bin+":", err)
}
