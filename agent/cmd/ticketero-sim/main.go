// Command ticketero-sim drives realistic branch days through the agents' real LAN
// API: Poisson arrivals with a morning and a lunch peak, the four services' mix and
// service times, executives who call, serve, pause, transfer and meet no-shows, and
// optionally a branch that loses its WAN for a while (through a TCP proxy between
// its agent and the broker). The same tool drives the load tests: speed, branches
// and duration are flags.
//
//	ticketero-sim --agent SCL-001=http://127.0.0.1:8081 --agent VAL-001=http://127.0.0.1:8082 \
//	    --executives E01:135790,E02:246801 --speed 60 --tickets 800
//
// With --cloud URL it also books appointments on the cloud's public API and
// checks those customers in at the kiosk around their (real) hour, and takes
// a number from the phone page that checks in by code (appointments.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "ticketero-sim:", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if _, err := Run(ctx, cfg, logger); err != nil && !errors.Is(err, context.Canceled) {
		logger.Error("simulation failed", "err", err)
		os.Exit(1)
	}
}

// Config is the simulation's configuration.
type Config struct {
	Agents     map[string]string // branch → agent base URL
	Order      []string          // branch order as given
	Executives []Credential      // signed in at counters 1..N at every branch
	Speed      float64           // simulated seconds per real second
	Tickets    int               // mean tickets per branch per simulated day
	DayStart   time.Duration     // opening, from midnight (simulated clock)
	DayLength  time.Duration     // simulated day length
	Duration   time.Duration     // stop after this much real time (0: one day)
	Seed       int64
	WAN        []Outage // WAN losses, applied through proxies
	Proxies    []Proxy  // TCP proxies the sim runs (agent → broker)
	Loop       bool     // start another day when one ends
	// Cloud is the cloud's base URL: with it, each day books Appointments
	// slots per branch on its public API and the customers check in at the
	// kiosk (appointments.go). Empty: no bookings.
	Cloud        string
	Appointments int
}

// Credential is an executive's ID and PIN.
type Credential struct{ ID, PIN string }

func parseFlags(args []string) (Config, error) {
	fs := flag.NewFlagSet("ticketero-sim", flag.ContinueOnError)
	cfg := Config{Agents: map[string]string{}}
	var agents, proxies, outages multiFlag
	var execs string
	fs.Var(&agents, "agent", "BRANCH=URL of an agent's LAN API (repeat)")
	fs.StringVar(&execs, "executives", "E01:135790,E02:246801,E03:370415", "ID:PIN of executives to sign in at every branch")
	fs.Float64Var(&cfg.Speed, "speed", 60, "simulated seconds per real second")
	fs.IntVar(&cfg.Tickets, "tickets", 0, "mean tickets per branch per day (0: what the executives can serve, busy but draining)")
	fs.DurationVar(&cfg.DayStart, "day-start", 9*time.Hour, "simulated opening time")
	fs.DurationVar(&cfg.DayLength, "day-length", 8*time.Hour, "simulated day length")
	fs.DurationVar(&cfg.Duration, "duration", 0, "stop after this real time (0: one simulated day)")
	fs.Int64Var(&cfg.Seed, "seed", 1, "random seed")
	fs.BoolVar(&cfg.Loop, "loop", false, "run day after day until stopped")
	fs.StringVar(&cfg.Cloud, "cloud", "", "URL of the cloud: book appointments on its public API each day and check the customers in at the kiosks")
	fs.IntVar(&cfg.Appointments, "appointments", 4, "with --cloud, bookings per branch per day (one never comes, about one in four is late)")
	fs.Var(&proxies, "proxy", "BRANCH=LISTEN_ADDR>UPSTREAM_ADDR: a TCP proxy for that branch's broker link (repeat)")
	fs.Var(&outages, "wan-outage", "BRANCH@OFFSET+LENGTH: cut that branch's proxy at OFFSET of simulated day for LENGTH (simulated), e.g. VAL-001@2h+20m")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	for _, a := range agents {
		b, u, ok := strings.Cut(a, "=")
		if !ok || b == "" || u == "" {
			return cfg, fmt.Errorf("--agent %q: want BRANCH=URL", a)
		}
		cfg.Agents[b] = strings.TrimRight(u, "/")
		cfg.Order = append(cfg.Order, b)
	}
	if len(cfg.Agents) == 0 {
		return cfg, errors.New("at least one --agent BRANCH=URL is required")
	}
	for _, e := range strings.Split(execs, ",") {
		id, pin, ok := strings.Cut(strings.TrimSpace(e), ":")
		if !ok || id == "" || pin == "" {
			return cfg, fmt.Errorf("--executives %q: want ID:PIN,...", e)
		}
		cfg.Executives = append(cfg.Executives, Credential{id, pin})
	}
	for _, p := range proxies {
		b, rest, ok := strings.Cut(p, "=")
		l, up, ok2 := strings.Cut(rest, ">")
		if !ok || !ok2 {
			return cfg, fmt.Errorf("--proxy %q: want BRANCH=LISTEN>UPSTREAM", p)
		}
		cfg.Proxies = append(cfg.Proxies, Proxy{Branch: b, Listen: l, Upstream: up})
	}
	for _, o := range outages {
		b, rest, ok := strings.Cut(o, "@")
		off, length, ok2 := strings.Cut(rest, "+")
		if !ok || !ok2 {
			return cfg, fmt.Errorf("--wan-outage %q: want BRANCH@OFFSET+LENGTH", o)
		}
		od, err1 := time.ParseDuration(off)
		ld, err2 := time.ParseDuration(length)
		if err1 != nil || err2 != nil {
			return cfg, fmt.Errorf("--wan-outage %q: bad durations", o)
		}
		cfg.WAN = append(cfg.WAN, Outage{Branch: b, At: od, For: ld})
	}
	if cfg.Speed <= 0 {
		return cfg, fmt.Errorf("--speed %v must be positive", cfg.Speed)
	}
	if cfg.Tickets < 0 {
		return cfg, fmt.Errorf("--tickets %d must not be negative", cfg.Tickets)
	}
	if cfg.Appointments < 0 {
		return cfg, fmt.Errorf("--appointments %d must not be negative", cfg.Appointments)
	}
	cfg.Cloud = strings.TrimRight(cfg.Cloud, "/")
	if cfg.Tickets == 0 {
		cfg.Tickets = fitTickets(len(cfg.Executives), cfg.DayLength)
	}
	return cfg, nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
