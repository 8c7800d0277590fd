package main

import (
	"context"
	"net"
	"os"

	"github.com/ticketero/ticketero/agent/health"
)

// startWatchdog runs the systemd watchdog (agent/health) when the agent runs
// under the notify protocol (Type=notify, WatchdogSec= in the unit):
// READY=1 once healthy, then WATCHDOG=1 only while the LAN API answers,
// SQLite takes a commit and the relay loop is not stuck.
func (m *Main) startWatchdog() {
	socket, every, ok := health.FromEnv(os.Getenv)
	if !ok {
		return
	}
	c := health.Checker{LAN: m.selfURL(), Store: m.Store}
	if l, ok := m.Link.(health.Loop); ok {
		c.Loops = append(c.Loops, l)
	}
	w := &health.Watchdog{Checker: c, Socket: socket, Every: every, Log: m.Logger}
	ctx, cancel := context.WithCancel(context.Background())
	m.watchdog = &linkRun{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.watchdog.done)
		w.Run(ctx)
	}()
	m.Logger.Info("systemd watchdog on", "every", every)
}

func (m *Main) stopWatchdog() {
	if m.watchdog != nil {
		m.watchdog.cancel()
		<-m.watchdog.done
		m.watchdog = nil
	}
}

// selfURL is the LAN API as the agent itself reaches it: loopback when it
// listens on every address.
func (m *Main) selfURL() string {
	if host, port, err := net.SplitHostPort(m.Addr); err == nil {
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			return m.URL[:len(m.URL)-len(m.Addr)] + net.JoinHostPort("127.0.0.1", port)
		}
	}
	return m.URL
}
