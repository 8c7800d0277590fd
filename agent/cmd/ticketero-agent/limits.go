package main

import (
	"flag"
	"fmt"
	"strconv"

	agenthttp "github.com/ticketero/ticketero/agent/http"
)

// RateConfig is the LAN API's per-address rate limits (agent/http
// ratelimit.go), each "N/DURATION:BURST" or "off".
type RateConfig struct {
	Issue          string // --rate-issue ticket issue (kiosks)
	SignIn         string // --rate-signin sign-in attempts, per address
	Action         string // --rate-action other writes
	Read           string // --rate-read reads, stream, UI
	ExemptLoopback bool   // --rate-exempt-loopback the box itself is not limited
}

// DefaultRateConfig is agenthttp.DefaultLimits as flags.
func DefaultRateConfig() RateConfig {
	d := agenthttp.DefaultLimits()
	return RateConfig{Issue: d.Issue.String(), SignIn: d.SignIn.String(), Action: d.Action.String(),
		Read: d.Read.String(), ExemptLoopback: d.ExemptLoopback}
}

func (c *RateConfig) flags(fs *flag.FlagSet, getenv func(string) string, errs *[]error) {
	str := func(p *string, name, help string) {
		if v := getenv(envName(name)); v != "" {
			*p = v
		}
		fs.StringVar(p, name, *p, help+", N/DURATION:BURST or off ("+envName(name)+")")
	}
	str(&c.Issue, "rate-issue", "ticket issues per client address")
	str(&c.SignIn, "rate-signin", "sign-in attempts per client address")
	str(&c.Action, "rate-action", "other writes per client address")
	str(&c.Read, "rate-read", "reads, stream and UI per client address")
	if v := getenv(envName("rate-exempt-loopback")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("rate-exempt-loopback: %q is not true or false (%s)", v, envName("rate-exempt-loopback")))
		}
		c.ExemptLoopback = b
	}
	fs.BoolVar(&c.ExemptLoopback, "rate-exempt-loopback", c.ExemptLoopback,
		"do not limit 127.0.0.1/::1 (set false behind a reverse proxy on the box) ("+envName("rate-exempt-loopback")+")")
}

// Limits parses the configuration, naming the flag and the bad value.
func (c RateConfig) Limits() (agenthttp.Limits, error) {
	out := agenthttp.Limits{ExemptLoopback: c.ExemptLoopback}
	for _, f := range []struct {
		name string
		v    string
		p    *agenthttp.Limit
	}{{"rate-issue", c.Issue, &out.Issue}, {"rate-signin", c.SignIn, &out.SignIn},
		{"rate-action", c.Action, &out.Action}, {"rate-read", c.Read, &out.Read}} {
		l, err := agenthttp.ParseLimit(f.v)
		if err != nil {
			return out, fmt.Errorf("%s: %w", f.name, err)
		}
		*f.p = l
	}
	return out, nil
}
