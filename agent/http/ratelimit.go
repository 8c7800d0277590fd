package http

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ticketero/ticketero/shared/clientip"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/ratelimit"
)

// RouteClass groups routes that share a rate budget.
type RouteClass string

// Route classes. Each client address has one bucket per class, so a kiosk's
// page loads and stream reconnects never spend its ticket budget, and a
// flood of sign-ins never blocks issuing.
const (
	ClassIssue  RouteClass = "issue"  // POST /api/v1/tickets (kiosks, no sign-in)
	ClassSignIn RouteClass = "signin" // POST /api/v1/sessions and /api/v1/manager/sessions (PIN guessing)
	ClassAction RouteClass = "action" // every other write (signed-in executives)
	// ClassCheckIn is POST /api/v1/check-ins (the kiosk's "Tengo hora
	// agendada"): a 6-digit code is guessable, so attempts are few per
	// address (checkin.go).
	ClassCheckIn RouteClass = "checkin"
	ClassRead    RouteClass = "read" // GET and HEAD: API reads, stream, UI, assets, health, metrics
)

// Limit is a token bucket: Burst requests at once, refilled at one token per
// Every. A zero Limit (Burst 0) does not limit.
type Limit struct {
	Every time.Duration
	Burst int
}

// Off reports whether l does not limit.
func (l Limit) Off() bool { return l.Burst <= 0 || l.Every <= 0 }

// String formats l as ParseLimit reads it ("1/6s:10", "off").
func (l Limit) String() string {
	if l.Off() {
		return "off"
	}
	if l.Every < time.Second && time.Second%l.Every == 0 {
		return fmt.Sprintf("%d/1s:%d", time.Second/l.Every, l.Burst)
	}
	return fmt.Sprintf("1/%s:%d", l.Every, l.Burst)
}

// ParseLimit reads "N/DURATION:BURST" (N requests per DURATION, bursts of
// up to BURST), e.g. "5/1s:30", "1/6s:10", "20/s:120", or "off".
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if s == "off" || s == "0" {
		return Limit{}, nil
	}
	rate, burstS, ok := strings.Cut(s, ":")
	nS, durS, ok2 := strings.Cut(rate, "/")
	if !ok || !ok2 {
		return Limit{}, fmt.Errorf("%q is not N/DURATION:BURST (e.g. 5/1s:30) or off", s)
	}
	n, err := strconv.Atoi(nS)
	if err != nil || n < 1 {
		return Limit{}, fmt.Errorf("%q: %q is not a positive count", s, nS)
	}
	if durS != "" && (durS[0] < '0' || durS[0] > '9') {
		durS = "1" + durS // "5/s" means 5 per 1s
	}
	d, err := time.ParseDuration(durS)
	if err != nil || d <= 0 {
		return Limit{}, fmt.Errorf("%q: %q is not a positive duration", s, durS)
	}
	burst, err := strconv.Atoi(burstS)
	if err != nil || burst < 1 || burst > 1_000_000 {
		return Limit{}, fmt.Errorf("%q: burst %q must be 1 to 1000000", s, burstS)
	}
	every := d / time.Duration(n)
	if every <= 0 {
		return Limit{}, fmt.Errorf("%q: rate too high", s)
	}
	return Limit{Every: every, Burst: burst}, nil
}

// Limits are the per-address budgets of each route class.
type Limits struct {
	Issue, SignIn, Action, Read Limit
	// CheckIn is the kiosk's check-in attempts (by code or RUT).
	CheckIn Limit
	// ExemptLoopback leaves 127.0.0.0/8 and ::1 unlimited: that is the box
	// itself (a kiosk browser on the agent's own screen, probes, the doctor
	// command), which no LAN device can pose as without a proxy on the box.
	// Set it false when a reverse proxy on the box fronts the agent.
	ExemptLoopback bool
	// MaxClients bounds the buckets kept (default 10,000). Buckets idle long
	// enough to be full again are dropped first, which changes nothing;
	// past the bound an arbitrary bucket is dropped (its address starts full
	// again), so memory stays bounded and nobody is ever locked out by it.
	MaxClients int
}

// DefaultLimits are sized for a branch: a kiosk at a lunch peak issues a
// ticket every few seconds and retries, so issue allows bursts of 30 and 5
// per second; sign-in allows 10 then one every 6 s per address (on top of
// the per-executive PIN lockout); other writes 60 then 10/s; reads,
// the stream and the UI 200 then 50/s; check-ins at a kiosk 10 then one
// every 10 s (a busy morning checks in a booked customer every minute or
// two; guessing a code among a million at 6 a minute takes months).
func DefaultLimits() Limits {
	return Limits{
		Issue:  Limit{Every: 200 * time.Millisecond, Burst: 30},
		SignIn: Limit{Every: 6 * time.Second, Burst: 10},
		Action: Limit{Every: 100 * time.Millisecond, Burst: 60},
		Read:   Limit{Every: 20 * time.Millisecond, Burst: 200},

		CheckIn: Limit{Every: 10 * time.Second, Burst: 10},

		ExemptLoopback: true,
	}
}

func (l Limits) of(c RouteClass) Limit {
	switch c {
	case ClassIssue:
		return l.Issue
	case ClassSignIn:
		return l.SignIn
	case ClassAction:
		return l.Action
	case ClassCheckIn:
		return l.CheckIn
	default:
		return l.Read
	}
}

// classOf puts a request in its route class by method and path, before
// routing (unknown paths are classed too, so probing costs budget).
func classOf(r *http.Request) RouteClass {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return ClassRead
	}
	switch strings.TrimSuffix(r.URL.Path, "/") {
	case "/api/v1/tickets":
		if r.Method == http.MethodPost {
			return ClassIssue
		}
	case "/api/v1/sessions", "/api/v1/manager/sessions": // a manager's sign-in guesses PINs too
		if r.Method == http.MethodPost {
			return ClassSignIn
		}
	case "/api/v1/check-ins":
		if r.Method == http.MethodPost {
			return ClassCheckIn
		}
	}
	return ClassAction
}

// clientKey is the TCP peer's IP. X-Forwarded-For, X-Real-IP and Forwarded
// are never read: on the branch LAN any device can forge them, and the agent
// is reached directly, not through a proxy.
func clientKey(r *http.Request) string { return clientip.Peer(r) }

// limiter holds a bucket per address in each route class (shared/ratelimit).
type limiter struct {
	limits  Limits
	byClass map[RouteClass]*ratelimit.Keyed
}

func newLimiter(l Limits, now func() time.Time) *limiter {
	lm := &limiter{limits: l, byClass: map[RouteClass]*ratelimit.Keyed{}}
	for _, c := range []RouteClass{ClassIssue, ClassSignIn, ClassAction, ClassRead, ClassCheckIn} {
		lim := l.of(c)
		lm.byClass[c] = ratelimit.New(ratelimit.Config{Every: lim.Every, Burst: lim.Burst, MaxKeys: l.MaxClients, Now: now})
	}
	return lm
}

// allow takes a token for addr in class c; when none is left it returns how
// long until one is.
func (lm *limiter) allow(c RouteClass, addr string) (bool, time.Duration) {
	return lm.byClass[c].Allow(addr)
}

// size is the number of buckets kept (for tests).
func (lm *limiter) size() int {
	n := 0
	for _, k := range lm.byClass {
		n += k.Len()
	}
	return n
}

// rateLimit answers 429 rate.limited with Retry-After when the client's
// address has spent its budget for the request's class; the handler does
// not run, so nothing is written.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	if s.limiter == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := classOf(r)
		addr := clientKey(r)
		if s.limiter.limits.ExemptLoopback {
			if ip := net.ParseIP(addr); ip != nil && ip.IsLoopback() {
				next.ServeHTTP(w, r)
				return
			}
		}
		ok, wait := s.limiter.allow(c, addr)
		if ok {
			next.ServeHTTP(w, r)
			return
		}
		s.limited.WithLabelValues(string(c)).Inc()
		secs := int(math.Ceil(wait.Seconds()))
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.problem(w, r, queue.Errorf(queue.CodeUnavailable, "rate.limited", secs))
	})
}
