package main

import (
	"fmt"

	agenthttp "github.com/ticketero/ticketero/agent/http"

	"github.com/ticketero/ticketero/shared/envflag"
)

// RateConfig is the LAN API's per-address rate limits (agent/http
// ratelimit.go), each "N/DURATION:BURST" or "off".
type RateConfig struct {
	Issue          string // --rate-issue ticket issue (kiosks)
	SignIn         string // --rate-signin sign-in attempts, per address
	Action         string // --rate-action other writes
	Read           string // --rate-read reads, stream, UI
	CheckIn        string // --rate-checkin kiosk check-ins (by code or RUT)
	ExemptLoopback bool   // --rate-exempt-loopback the box itself is not limited
}

// DefaultRateConfig is agenthttp.DefaultLimits as flags.
func DefaultRateConfig() RateConfig {
	d := agenthttp.DefaultLimits()
	return RateConfig{Issue: d.Issue.String(), SignIn: d.SignIn.String(), Action: d.Action.String(),
		Read: d.Read.String(), CheckIn: d.CheckIn.String(), ExemptLoopback: d.ExemptLoopback}
}

func (c *RateConfig) flags(s *envflag.Set) {
	const form = ", N/DURATION:BURST or off"
	s.String(&c.Issue, "rate-issue", "", "ticket issues per client address"+form)
	s.String(&c.SignIn, "rate-signin", "", "sign-in attempts per client address"+form)
	s.String(&c.Action, "rate-action", "", "other writes per client address"+form)
	s.String(&c.Read, "rate-read", "", "reads, stream and UI per client address"+form)
	s.String(&c.CheckIn, "rate-checkin", "", "kiosk check-ins (booking code or RUT) per client address"+form)
	s.Bool(&c.ExemptLoopback, "rate-exempt-loopback", "", "do not limit 127.0.0.1/::1 (set false behind a reverse proxy on the box)")
}

// Limits parses the configuration, naming the flag and the bad value.
func (c RateConfig) Limits() (agenthttp.Limits, error) {
	out := agenthttp.Limits{ExemptLoopback: c.ExemptLoopback}
	for _, f := range []struct {
		name string
		v    string
		p    *agenthttp.Limit
	}{{"rate-issue", c.Issue, &out.Issue}, {"rate-signin", c.SignIn, &out.SignIn},
		{"rate-action", c.Action, &out.Action}, {"rate-read", c.Read, &out.Read}, {"rate-checkin", c.CheckIn, &out.CheckIn}} {
		l, err := agenthttp.ParseLimit(f.v)
		if err != nil {
			return out, fmt.Errorf("%s: %w", f.name, err)
		}
		*f.p = l
	}
	return out, nil
}
