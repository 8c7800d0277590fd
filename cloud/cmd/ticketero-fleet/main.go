// Command ticketero-fleet simulates a network of branches against one real
// ticketero-cloud replica and PostgreSQL, through a real Mosquitto with our
// mTLS and per-branch ACL configuration, and measures the sync lag, the
// cloud's memory, CPU and connections, and HQ's overview at that size.
//
// Each branch is the agent's own code: an agent/sqlite store (on tmpfs) and
// an agent/mqtt relay with the branch's own client certificate and MQTT
// connection; executives sign in, call, serve and sometimes transfer; a few
// branches lose their WAN for a while. The branch day's shape (a morning and
// a lunch peak) is compressed into --duration, with each branch at its real
// peak rate at the top of the curve (--peak-tickets an hour).
//
//	ticketero-fleet --branches 1000 --duration 3m --cloud bin/ticketero-cloud --db postgres://postgres@127.0.0.1:5432/postgres
//
// --replicas N starts N cloud replicas sharing the load; --sqs routes the
// events through an SQS queue (fauxqs) as the AWS IoT rule would. Either way
// the run ends with the sync invariant checked for every branch.
//
// Not part of make test (scripts/bench-fleet.sh runs it; make bench-fleet).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"syscall"
	"time"
)

// Config is the simulation's configuration.
type Config struct {
	Branches    int
	Duration    time.Duration
	Ramp        time.Duration
	PeakTickets float64 // per branch per hour at the top of the day curve
	Executives  int
	CutShare    float64 // share of branches that lose their WAN
	Cloud       string  // ticketero-cloud binary
	AdminDB     string  // a PostgreSQL URL to create the simulation's database from
	Dir         string  // where branch stores live (tmpfs)
	Out         string  // JSON report
	Browser     string  // Chromium, for HQ's first paint ("" skips)
	PerProcess  int     // branches per branch process
	DBName      string  // the simulation's database (dropped and created)
	Replicas    int     // cloud replicas sharing the load (MQTT shared subscription, or the queue)
	SQS         bool    // events reach the cloud through SQS (fauxqs) instead of the shared subscription
	Fauxqs      string  // the fauxqs binary ("" finds it)
	// Storm is the old shape of the day: each branch opens its doors as it
	// connects, so the whole network's connections, sign-ins and first
	// tickets land together, and every executive signs out at the day's end
	// at once. By default the boxes connect and the executives sign in
	// during the ramp, the doors open once the network is online (as a
	// network whose boxes run all night does), and after the doors close the
	// executives serve who is still waiting and sign out over the closing
	// stretch.
	Storm bool
}

func main() {
	var c Config
	flag.IntVar(&c.Branches, "branches", 500, "branches to simulate")
	flag.DurationVar(&c.Duration, "duration", 3*time.Minute, "the compressed day")
	flag.DurationVar(&c.Ramp, "ramp", 0, "spread the branches' first connections over this long (default: branches/100 s)")
	flag.Float64Var(&c.PeakTickets, "peak-tickets", 75, "tickets per branch per hour at the day's peak (national phase: 25,000 a day over 50 branches, 15 % in the peak hour)")
	flag.IntVar(&c.Executives, "executives", 3, "executives signed in per branch")
	flag.Float64Var(&c.CutShare, "cut", 0.01, "share of branches whose WAN is cut for a fifth of the day")
	flag.StringVar(&c.Cloud, "cloud", "bin/ticketero-cloud", "ticketero-cloud binary")
	flag.StringVar(&c.AdminDB, "db", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL URL with the right to create databases")
	flag.StringVar(&c.Dir, "dir", "/dev/shm/ticketero-fleet", "where the branch stores live")
	flag.StringVar(&c.Out, "out", "", "write the report as JSON here")
	flag.StringVar(&c.Browser, "chromium", "/usr/bin/chromium", "Chromium for HQ's first paint (empty: skip)")
	flag.StringVar(&c.DBName, "db-name", "ticketero_fleet", "the simulation's database (dropped and created on the same server)")
	flag.IntVar(&c.PerProcess, "per-process", 2000, "branches per branch process (each holds about 7 file descriptors)")
	flag.IntVar(&c.Replicas, "replicas", 1, "cloud replicas on the same database and broker, sharing the events (the shared subscription, or the SQS queue)")
	flag.BoolVar(&c.SQS, "sqs", false, "events reach the cloud through an SQS queue on fauxqs, fed by a bridge playing the IoT rule")
	flag.BoolVar(&c.Storm, "storm", false, "the connect storm's shape: each branch's day starts as it connects (tickets, sign-ins and connections together) and everyone signs out at the end at once")
	flag.StringVar(&c.Fauxqs, "fauxqs", "", "the fauxqs binary (default: TICKETERO_FAUXQS, or .dev/fauxqs from make dev-services)")
	flag.Parse()
	if f := os.Getenv(childEnv); f != "" {
		if err := runChild(f); err != nil {
			fmt.Fprintln(os.Stderr, "ticketero-fleet: branch process:", err)
			os.Exit(1)
		}
		return
	}
	if c.Ramp == 0 {
		c.Ramp = time.Duration(c.Branches/100+1) * time.Second
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	rep, err := run(ctx, c, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ticketero-fleet:", err)
		os.Exit(1)
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	fmt.Println(string(b))
	if c.Out != "" {
		if err := os.WriteFile(c.Out, b, 0o644); err != nil { // #nosec G306 -- a benchmark report
			fmt.Fprintln(os.Stderr, "ticketero-fleet:", err)
			os.Exit(1)
		}
	}
}

// childEnv names, in a branch process's environment, its spec file.
const childEnv = "TICKETERO_FLEET_CHILD"

// dayRate is the day's arrival curve at fraction f of the day (0..1),
// relative to its peak: a morning peak, a lunch peak, quiet edges.
func dayRate(f float64) float64 {
	g := func(mu, sigma float64) float64 { return math.Exp(-(f - mu) * (f - mu) / (2 * sigma * sigma)) }
	return math.Min(1, 0.25+0.75*g(0.2, 0.08)+0.8*g(0.55, 0.07))
}

// closing is the stretch after the doors close over which the executives
// sign out (the default shape): half an hour of a nine-hour day.
func closing(day time.Duration) time.Duration { return day / 18 }

// poisson waits for the next arrival of a process whose rate (per second)
// follows rate(t); it returns false when ctx ends.
func poisson(ctx context.Context, r *rand.Rand, maxRate float64, rate func() float64) bool {
	for {
		d := time.Duration(r.ExpFloat64() / maxRate * float64(time.Second))
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
		}
		if r.Float64() < rate()/maxRate { // thinning
			return true
		}
	}
}

func dbName(admin, name string) (string, string, error) {
	u, err := url.Parse(admin)
	if err != nil {
		return "", "", err
	}
	if !regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`).MatchString(name) {
		return "", "", fmt.Errorf("db-name %q: lower-case letters, digits and _", name)
	}
	u.Path = "/" + name
	return u.String(), name, nil
}
