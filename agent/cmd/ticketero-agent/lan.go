package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/agent/lantls"

	"github.com/ticketero/ticketero/shared/envflag"
)

// LANConfig is how the agent meets the branch LAN: the names it answers to
// (the LAN API refuses any other Host, against DNS rebinding).
type LANConfig struct {
	// Names are the box's LAN names, comma-separated ("" = its host name and
	// <host name>.local). localhost and IP addresses are always accepted.
	Names string
	// SessionIdle and SessionMax end an executive's session unused for
	// SessionIdle or SessionMax after sign-in ("off": no limit).
	SessionIdle, SessionMax string
	// PlainHTTP serves the LAN API without TLS on a LAN address (the demo,
	// behind a TLS proxy). A loopback listen address is always plain: its
	// traffic never crosses the LAN.
	PlainHTTP bool
}

func (c *LANConfig) flags(s *envflag.Set) {
	s.String(&c.Names, "lan-names", "", "names the LAN API answers to, comma-separated; localhost and IP addresses always (default: host name and <host name>.local)")
	s.String(&c.SessionIdle, "session-idle", "", "an executive's session unused this long ends (off: never)")
	s.String(&c.SessionMax, "session-max", "", "an executive's session ends this long after sign-in (off: never)")
	s.Bool(&c.PlainHTTP, "plain-http", "", "serve the LAN API without TLS on a LAN address; a loopback address is always plain")
}

// TLS reports whether the LAN API on listen address addr is served over TLS:
// on every non-loopback address unless PlainHTTP.
func (c LANConfig) TLS(addr string) bool {
	if c.PlainHTTP {
		return false
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return true
	}
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// TLSConfig makes (or reuses) the box's LAN CA and a certificate for its
// names and addresses in <data>/lan-tls.
func (c LANConfig) TLSConfig(data, branch, addr string, now time.Time) (*tls.Config, error) {
	ips := lantls.LocalAddresses()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
			ips = append(ips, ip)
		}
	}
	return lantls.Ensure(filepath.Join(data, "lan-tls"), branch, append([]string{"localhost"}, c.Hosts()...), ips, now)
}

// DefaultLANConfig returns the defaults.
func DefaultLANConfig() LANConfig {
	d := agent.DefaultSessionLimits()
	return LANConfig{SessionIdle: d.Idle.String(), SessionMax: d.Max.String()}
}

// Sessions are the session limits (validated).
func (c LANConfig) Sessions() (agent.SessionLimits, error) {
	parse := func(name, v string) (time.Duration, error) {
		if v == "off" {
			return -1, nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			return 0, fmt.Errorf("%s: %q must be a duration of a minute or more (e.g. 2h) or off", name, v)
		}
		return d, nil
	}
	idle, err := parse("session-idle", c.SessionIdle)
	if err != nil {
		return agent.SessionLimits{}, err
	}
	mx, err := parse("session-max", c.SessionMax)
	return agent.SessionLimits{Idle: idle, Max: mx}, err
}

// Validate checks the names and limits.
func (c LANConfig) Validate() error {
	if _, err := c.Sessions(); err != nil {
		return err
	}
	for _, n := range strings.Split(c.Names, ",") {
		n = strings.TrimSpace(n)
		if len(n) > 253 || strings.ContainsAny(n, " /:@[]") {
			return fmt.Errorf("lan-names: %q is not a host name", n)
		}
	}
	return nil
}

// Hosts lists the names the LAN API answers to.
func (c LANConfig) Hosts() []string {
	out := []string{}
	for _, n := range strings.Split(c.Names, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		if h, err := os.Hostname(); err == nil && h != "" {
			out = append(out, h)
			if !strings.Contains(h, ".") {
				out = append(out, h+".local")
			}
		}
	}
	return out
}
