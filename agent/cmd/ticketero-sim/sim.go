package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ticketero/ticketero/shared/backoff"
	"github.com/ticketero/ticketero/shared/queue"
)

// Service mix and mean service times of the bank's four launch services.
var services = []struct {
	code  string
	share float64
	mean  time.Duration
}{
	{"C", 0.55, 5 * time.Minute},
	{"P", 0.25, 15 * time.Minute},
	{"E", 0.12, 20 * time.Minute},
	{"G", 0.08, 30 * time.Minute},
}

var outcomes = []string{"deposito", "giro", "consulta", "apertura", "credito"}

// stats counts what the simulation did, for the periodic summary.
type stats struct {
	issued, called, served, noShows, transfers, pauses, errors atomic.Int64
	serverErrors                                               atomic.Int64 // answers 5xx: the agent failed, not the request
	stuck                                                      atomic.Int64 // executives the simulation could not sign out
	closed                                                     atomic.Int64 // arrivals the branch refused outside its opening hours
	booked, joined, checkedIn, late                            atomic.Int64 // appointments and remote joins (with --cloud)
}

// Summary is what a run did, for its caller (and the bounded-day test).
type Summary struct {
	Days                                               int
	Issued, Called, Served, NoShows, Transfers, Pauses int64
	Errors, ServerErrors, Stuck, Closed                int64
	Booked, Joined, CheckedIn, Late                    int64
}

func (st *stats) summary(days int) Summary {
	return Summary{Days: days, Issued: st.issued.Load(), Called: st.called.Load(), Served: st.served.Load(),
		NoShows: st.noShows.Load(), Transfers: st.transfers.Load(), Pauses: st.pauses.Load(),
		Errors: st.errors.Load(), ServerErrors: st.serverErrors.Load(), Stuck: st.stuck.Load(), Closed: st.closed.Load(),
		Booked: st.booked.Load(), Joined: st.joined.Load(), CheckedIn: st.checkedIn.Load(), Late: st.late.Load()}
}

// clock maps real time to simulated time at a speed factor.
type clock struct {
	start time.Time
	speed float64
}

func (c clock) elapsed() time.Duration {
	return time.Duration(float64(time.Since(c.start)) * c.speed)
}

// sleep waits d of simulated time (at least 1 ms of real time).
func (c clock) sleep(ctx context.Context, d time.Duration) error {
	real := time.Duration(float64(d) / c.speed)
	if real < time.Millisecond {
		real = time.Millisecond
	}
	return backoff.Sleep(ctx, real)
}

// Run simulates until one day ends (or, with Loop, until ctx ends), or for
// cfg.Duration of real time when set, and says what it did.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) (Summary, error) {
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 7)) // #nosec G404 -- not a secret: jitter / reproducible simulation
	var st stats
	var wg sync.WaitGroup

	proxies := map[string]*Proxy{}
	for i := range cfg.Proxies {
		p := &cfg.Proxies[i]
		proxies[p.Branch] = p
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Serve(ctx, logger); err != nil {
				logger.Error("proxy stopped", "branch", p.Branch, "err", err)
			}
		}()
	}

	// Booked customers come on the real clock, across simulated days; they
	// stop coming when the run ends.
	apptCtx, stopAppts := context.WithCancel(ctx)
	var apptWG sync.WaitGroup
	defer func() { stopAppts(); apptWG.Wait() }()
	var cloudC *client
	if cfg.Cloud != "" {
		cloudC = newClient(cfg.Cloud)
	}

	day := 1
	for ; ; day++ {
		clk := clock{start: time.Now(), speed: cfg.Speed}
		dayCtx, endDay := context.WithCancel(ctx)
		var dayWG sync.WaitGroup
		for _, o := range cfg.WAN {
			p := proxies[o.Branch]
			if p == nil {
				endDay()
				return st.summary(day), fmt.Errorf("--wan-outage for %s needs a --proxy for it", o.Branch)
			}
			dayWG.Add(1)
			go func() {
				defer dayWG.Done()
				if clk.sleep(dayCtx, o.At) != nil {
					return
				}
				logger.Info("WAN down", "branch", o.Branch, "for", o.For)
				p.SetDown(true)
				_ = clk.sleep(dayCtx, o.For)
				p.SetDown(false)
				logger.Info("WAN back", "branch", o.Branch)
			}()
		}
		for _, b := range cfg.Order {
			c := newClient(cfg.Agents[b])
			if cloudC != nil && cfg.Appointments > 0 {
				seed := rng.Uint64()
				dayWG.Add(1)
				go func() {
					defer dayWG.Done()
					bookedCustomers(dayCtx, apptCtx, cfg, b, c, cloudC, rand.New(rand.NewPCG(seed, 3)), &st, &apptWG, // #nosec G404 -- not a secret: reproducible simulation
						logger.With("branch", b))
				}()
			}
			seed := rng.Uint64()
			dayWG.Add(1)
			go func() {
				defer dayWG.Done()
				arrivals(dayCtx, clk, cfg, c, rand.New(rand.NewPCG(seed, 1)), &st, logger.With("branch", b)) // #nosec G404 -- not a secret: jitter / reproducible simulation
			}()
			for i, cred := range cfg.Executives {
				seed := rng.Uint64()
				dayWG.Add(1)
				go func() {
					defer dayWG.Done()
					executive(dayCtx, clk, cfg, c, cred, i+1, rand.New(rand.NewPCG(seed, 2)), &st, // #nosec G404 -- not a secret: jitter / reproducible simulation
						logger.With("branch", b, "executive", cred.ID))
				}()
			}
		}
		// Summary every 10 s of real time until the day ends.
		tick := time.NewTicker(10 * time.Second)
		dayDone := make(chan struct{})
		go func() {
			defer close(dayDone)
			_ = clk.sleep(dayCtx, cfg.DayLength+30*time.Minute) // closing: executives finish the queue
			endDay()
		}()
	loop:
		for {
			select {
			case <-tick.C:
				logSummary(logger, day, clk, cfg, &st)
			case <-dayDone:
				break loop
			}
		}
		tick.Stop()
		dayWG.Wait()
		logSummary(logger, day, clk, cfg, &st)
		if !cfg.Loop || ctx.Err() != nil {
			break
		}
	}
	wg.Wait()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return st.summary(day), nil
	}
	return st.summary(day), ctx.Err()
}

func logSummary(logger *slog.Logger, day int, clk clock, cfg Config, st *stats) {
	t := cfg.DayStart + clk.elapsed()
	logger.Info("simulation", "day", day, "sim_time", fmt.Sprintf("%02d:%02d", int(t.Hours())%24, int(t.Minutes())%60),
		"issued", st.issued.Load(), "called", st.called.Load(), "served", st.served.Load(),
		"no_shows", st.noShows.Load(), "transfers", st.transfers.Load(), "pauses", st.pauses.Load(),
		"errors", st.errors.Load(), "errors_5xx", st.serverErrors.Load(), "stuck", st.stuck.Load(), "refused_closed", st.closed.Load(),
		"booked", st.booked.Load(), "joined", st.joined.Load(), "checked_in", st.checkedIn.Load(), "late", st.late.Load())
}

// intensity is the relative arrival rate h hours after opening: a base with a
// morning peak (~10:30) and a bigger lunch peak (~13:30).
func intensity(h float64) float64 {
	g := func(mu, sigma, amp float64) float64 {
		return amp * math.Exp(-(h-mu)*(h-mu)/(2*sigma*sigma))
	}
	return 1 + g(1.5, 0.7, 1.2) + g(4.5, 0.6, 1.6)
}

// arrivals issues tickets as a non-homogeneous Poisson process (thinning)
// averaging cfg.Tickets over the day.
func arrivals(ctx context.Context, clk clock, cfg Config, c *client, rng *rand.Rand, st *stats, logger *slog.Logger) {
	hours := cfg.DayLength.Hours()
	// Mean intensity over the day, to scale to cfg.Tickets.
	var sum float64
	const steps = 200
	for i := 0; i < steps; i++ {
		sum += intensity(hours * (float64(i) + 0.5) / steps)
	}
	mean := sum / steps
	maxI := 0.0
	for i := 0; i <= steps; i++ {
		maxI = math.Max(maxI, intensity(hours*float64(i)/steps))
	}
	perHourAtMax := float64(cfg.Tickets) / hours * maxI / mean
	next := time.Duration(0)
	for {
		gap := time.Duration(rng.ExpFloat64() / perHourAtMax * float64(time.Hour))
		next += gap
		if next > cfg.DayLength {
			return
		}
		if err := clk.sleep(ctx, next-clk.elapsed()); err != nil {
			return
		}
		if rng.Float64() > intensity(next.Hours())/maxI {
			continue
		}
		svc := pickService(rng)
		prio := ""
		switch r := rng.Float64(); {
		case r < 0.12:
			prio = "preferential"
		case r < 0.17:
			prio = "premium"
		}
		rut := ""
		if rng.Float64() < 0.6 {
			rut = randomRUT(rng)
		}
		if _, err := c.issue(ctx, svc, rut, prio); err != nil {
			if ae, ok := err.(*apiError); ok && closedCodes[ae.Code] {
				st.closed.Add(1) // the branch's hours, not a failure: the customer comes back another time
				continue
			}
			if ctx.Err() == nil {
				st.errors.Add(1)
				if ae, ok := err.(*apiError); ok && ae.Status >= 500 {
					st.serverErrors.Add(1)
				}
				logger.Warn("issue failed", "err", err)
			}
			continue
		}
		st.issued.Add(1)
	}
}

// closedCodes are the agent's refusals outside opening hours (HQ's hours run
// on the real clock, the simulation on its own).
var closedCodes = map[string]bool{"branch.closed": true, "branch.holiday": true, "service.closed_for_today": true}

func pickService(rng *rand.Rand) string {
	r := rng.Float64()
	for _, s := range services {
		if r < s.share {
			return s.code
		}
		r -= s.share
	}
	return services[0].code
}

func meanOf(code string) time.Duration {
	for _, s := range services {
		if s.code == code {
			return s.mean
		}
	}
	return 5 * time.Minute
}

// randomRUT returns a valid RUT (mod-11 check digit) for a person.
func randomRUT(rng *rand.Rand) string {
	body := 5_000_000 + rng.IntN(20_000_000)
	return fmt.Sprintf("%d-%c", body, queue.CheckDigit(body))
}

// desk is one executive at one counter of one branch: his session token and
// what he is doing, so a day that ends mid-visit, a pause cut short, an agent
// restart or the agent's own day close never leave him stuck.
type desk struct {
	c       *client
	cred    Credential
	counter int
	tok     string
	st      *stats
	logger  *slog.Logger
}

// signIn signs the executive in at his counter, retrying every 5 simulated
// minutes; signing in again at the same counter replaces an old token.
func (d *desk) signIn(ctx context.Context, clk clock) error {
	var sess struct {
		Token string `json:"token"`
	}
	for {
		_, err := d.c.do(ctx, http.MethodPost, "/api/v1/sessions", "", map[string]any{
			"executive": d.cred.ID, "pin": d.cred.PIN, "counter": d.counter}, &sess, nil)
		if err == nil {
			d.tok = sess.Token
			return d.settle(ctx)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.fail("sign-in", err)
		if err := clk.sleep(ctx, 5*time.Minute); err != nil {
			return err
		}
	}
}

// settle brings the session to "available": it resumes a pause and finishes a
// visit left open (by an earlier day, run or a cancelled wait).
func (d *desk) settle(ctx context.Context) error {
	var cur struct {
		Paused  bool    `json:"paused"`
		Current *ticket `json:"current"`
	}
	if _, err := d.c.do(ctx, http.MethodGet, "/api/v1/sessions/current", d.tok, nil, &cur, nil); err != nil {
		return err
	}
	if cur.Paused {
		if _, err := d.c.do(ctx, http.MethodPost, "/api/v1/sessions/current/resume", d.tok, nil, nil, nil); err != nil {
			return err
		}
	}
	if t := cur.Current; t != nil {
		if t.Status == "called" {
			if err := d.act(ctx, t.ID, "start", nil); err != nil {
				return err
			}
		}
		return d.act(ctx, t.ID, "complete", map[string]string{"outcome": d.outcomeCodes(ctx)[0]})
	}
	return nil
}

// signOut finishes what is open and signs out, with its own deadline: it runs
// when the day's context has ended.
func (d *desk) signOut() {
	if d.tok == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := d.settle(ctx)
	if err == nil {
		_, err = d.c.do(ctx, http.MethodDelete, "/api/v1/sessions/current", d.tok, nil, nil, nil)
	}
	var ae *apiError
	if err != nil && !(errors.As(err, &ae) && ae.Code == "session.required") {
		d.st.stuck.Add(1)
		d.logger.Error("executive left signed in", "err", err)
	}
	d.tok = ""
}

// outcomeCodes are the outcome codes the branch accepts: HQ's list when it
// published one (a code outside it is refused), else the simulator's own.
func (d *desk) outcomeCodes(ctx context.Context) []string {
	var res struct {
		Outcomes []struct {
			Code string `json:"code"`
		} `json:"outcomes"`
	}
	if _, err := d.c.do(ctx, http.MethodGet, "/api/v1/outcomes", "", nil, &res, nil); err != nil || len(res.Outcomes) == 0 {
		return outcomes
	}
	codes := make([]string, len(res.Outcomes))
	for i, o := range res.Outcomes {
		codes[i] = o.Code
	}
	return codes
}

func (d *desk) act(ctx context.Context, id, verb string, body any) error {
	_, err := d.c.do(ctx, http.MethodPost, "/api/v1/tickets/"+id+"/"+verb, d.tok, body, nil, nil)
	if err != nil && ctx.Err() == nil {
		d.fail(verb, err)
	}
	return err
}

// fail counts an error of the agent (5xx apart) and logs it.
func (d *desk) fail(what string, err error) {
	d.st.errors.Add(1)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status >= 500 {
		d.st.serverErrors.Add(1)
	}
	d.logger.Warn("action failed", "action", what, "err", err)
}

// recover reacts to an error the agent gave the executive: a session the agent
// ended (day close, restart) is signed in again; a visit or pause left open is
// settled. It reports whether the executive can go on.
func (d *desk) recover(ctx context.Context, clk clock, err error) bool {
	var ae *apiError
	if !errors.As(err, &ae) {
		return clk.sleep(ctx, 30*time.Second) == nil
	}
	switch ae.Code {
	case "session.required":
		return d.signIn(ctx, clk) == nil
	case "session.busy", "session.paused":
		if d.settle(ctx) == nil {
			return true
		}
	}
	return clk.sleep(ctx, 30*time.Second) == nil
}

// executive signs in at a counter and serves until the day (ctx) ends; the
// visit in hand when it ends is finished and the executive signs out.
func executive(ctx context.Context, clk clock, cfg Config, c *client, cred Credential, counter int, rng *rand.Rand, st *stats, logger *slog.Logger) {
	d := &desk{c: c, cred: cred, counter: counter, st: st, logger: logger}
	defer d.signOut()
	if d.signIn(ctx, clk) != nil {
		return
	}
	lunchAt := 3*time.Hour + time.Duration(counter-1)*40*time.Minute
	lunched := false
	for ctx.Err() == nil {
		if !lunched && clk.elapsed() >= lunchAt && clk.elapsed() < cfg.DayLength {
			lunched = true
			if _, err := c.do(ctx, http.MethodPost, "/api/v1/sessions/current/pause", d.tok,
				map[string]string{"code": "lunch"}, nil, nil); err == nil { // HQ reports pauses by reason code
				st.pauses.Add(1)
				_ = clk.sleep(ctx, 30*time.Minute)
				if _, err := c.do(ctx, http.MethodPost, "/api/v1/sessions/current/resume", d.tok, nil, nil, nil); err != nil && ctx.Err() == nil {
					d.fail("resume", err)
				}
			}
			continue
		}
		var t ticket
		code, err := c.do(ctx, http.MethodPost, fmt.Sprintf("/api/v1/counters/%d/call-next", counter), d.tok, nil, &t, nil)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			d.fail("call-next", err)
			if !d.recover(ctx, clk, err) {
				return
			}
			continue
		}
		if code == http.StatusNoContent {
			if clk.sleep(ctx, 30*time.Second) != nil {
				return
			}
			continue
		}
		st.called.Add(1)
		if rng.Float64() < 0.04 { // the customer left
			_ = clk.sleep(ctx, 90*time.Second)
			_ = d.act(ctx, t.ID, "recall", nil)
			_ = clk.sleep(ctx, 90*time.Second)
			if d.act(ctx, t.ID, "no-show", nil) == nil {
				st.noShows.Add(1)
			}
			continue
		}
		_ = clk.sleep(ctx, walk(rng)) // walk to the counter
		if d.act(ctx, t.ID, "start", nil) != nil {
			continue
		}
		mean := meanOf(t.Service)
		dur := time.Duration(rng.ExpFloat64() * float64(mean))
		dur = min(max(dur, mean/5), 3*mean)
		if clk.sleep(ctx, dur) != nil {
			return // signOut completes the visit
		}
		if rng.Float64() < 0.03 && t.Service != "G" {
			to := map[string]string{"C": "P", "P": "E", "E": "G"}[t.Service]
			if d.act(ctx, t.ID, "transfer", map[string]any{"service": to, "keep_arrival": true}) == nil {
				st.transfers.Add(1)
			}
			continue
		}
		codes := d.outcomeCodes(ctx)
		if d.act(ctx, t.ID, "complete", map[string]string{"outcome": codes[rng.IntN(len(codes))]}) == nil {
			st.served.Add(1)
		}
	}
}

// walk is the time a called customer takes to reach the counter.
func walk(rng *rand.Rand) time.Duration { return time.Duration(20+rng.IntN(40)) * time.Second }

// meanVisit is the mean time an executive spends per ticket over the service
// mix: service, walk, and the occasional no-show's recall.
func meanVisit() time.Duration {
	var m float64
	for _, s := range services {
		m += s.share * float64(s.mean)
	}
	return time.Duration(m) + 40*time.Second + time.Duration(0.04*float64(3*time.Minute))
}

// fitTickets is the number of tickets a day that executives can serve with
// room to spare (busy but draining, as a real branch): utilisation 80 % of the
// day minus each one's 30-minute lunch.
func fitTickets(executives int, day time.Duration) int {
	staffed := time.Duration(executives) * (day - 30*time.Minute)
	return max(1, int(0.8*float64(staffed)/float64(meanVisit())))
}
