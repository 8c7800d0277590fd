package agent

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// Engine is the branch's queue: pure Go, no I/O, time and IDs injected. It
// holds today's open tickets, the sessions and the configuration in memory;
// each operation validates first, then changes the state and returns the
// Change the store must write. The caller serialises operations (one writer)
// and, if writing fails, rebuilds the engine from the store.
type Engine struct {
	branch   string
	loc      *time.Location
	newID    func() string
	newToken func() string

	rules      event.Rules
	outcomes   []queue.Outcome // HQ's visit outcome codes (engine_visit.go)
	sched      *Schedule       // nil: open all day
	day        string
	closed     bool      // the day ended at closing time + grace, before midnight
	hoursSince time.Time // when the schedule in force arrived (zero: unknown)
	services   map[string]*serviceState
	codes      []string // service codes in configuration order
	drainCodes []string // removed services still served (engine_drain.go)
	counters   []queue.Counter
	executives map[string]*Executive
	sessions   map[string]*Session // by executive ID
	tokens     map[string]*Session // by token hash
	atCounter  map[int]*Session
	open       map[string]*Ticket   // today's waiting, called and serving tickets
	wait       map[string][]*Ticket // waiting tickets by service, in arrival order (less)
	active     map[string]*Ticket   // called and serving tickets by ID

	version uint64
	cache   positionCache

	// pinFails are the sign-in throttles by (executive, client address), in
	// memory only: a restart forgives, which nobody on the LAN can cause.
	pinFails map[string]*pinThrottle
	// signedOutDay is the day whose close signed its sessions out.
	signedOutDay string

	// mgr is the manager's changes of a day (engine_manager.go); managers
	// the manager sessions by token hash, in memory only.
	mgr      *ManagerDay
	managers map[string]*ManagerSession

	// appts are the bookings the branch holds, by the cloud's ID
	// (engine_appointment.go).
	appts map[string]*Appointment
	// unchecked counts the unchecked remote tickets in wait, by service: an
	// index kept by reindex and checkInRemote, so the waiting counts and the
	// timers need not scan the queues (engine_remote.go).
	unchecked map[string]int
}

type serviceState struct {
	queue.Service
	last   int     // last number given today
	streak int     // priority-class calls made past a waiting normal ticket
	run    int     // due appointments called in a row while a walk-in waited
	mean   float64 // rolling mean service time, seconds
	// draining, when not nil, closes the service to new tickets: it was
	// removed from the configuration and only these executives still call
	// its waiting tickets (engine_drain.go).
	draining []string
}

type positionCache struct {
	version uint64
	at      int64
	pos     map[string]int
}

// EngineConfig is what an engine is built from.
type EngineConfig struct {
	Branch     string
	Location   *time.Location
	Services   []queue.Service
	Counters   []queue.Counter
	Executives []Executive
	Rules      event.Rules
	// Outcomes are HQ's visit outcome codes (empty: any well-formed code).
	Outcomes []queue.Outcome
	// Schedule is the opening schedule (nil: open all day, day ends at midnight).
	Schedule *Schedule
	// Draining are removed services still served until empty (engine_drain.go).
	Draining []Draining
	// NewID returns a unique ID (tickets); NewToken an opaque link token.
	NewID    func() string
	NewToken func() string
}

// EngineState is the persisted state an engine resumes from.
type EngineState struct {
	Day    string // business day of the open tickets; "" starts today
	Closed bool   // Day already ended at its closing time + grace
	// HoursSince is when the schedule in force was applied: hours published
	// after a day's end end that day a grace after they arrived, not at once.
	HoursSince time.Time
	Tickets    []Ticket
	Sessions   []Session
	Numbering  map[string]int     // service → last number on Day
	Streaks    map[string]int     // service → streak
	Means      map[string]float64 // service → rolling mean seconds
	// Manager is the manager's changes of a day (ignored on another day).
	Manager *ManagerDay
	// Runs are the appointment runs by service (engine_appointment.go);
	// Appointments the bookings held (today's and later days').
	Runs         map[string]int
	Appointments []Appointment
}

// Rolling mean weight of a new observation, and the bounds an observation is
// clamped to so one forgotten ticket does not wreck the estimate.
const (
	meanAlpha  = 0.2
	minService = 10 * time.Second
	maxService = 4 * time.Hour
)

// NewEngine builds an engine from its configuration and persisted state.
func NewEngine(cfg EngineConfig, st EngineState) (*Engine, error) {
	if cfg.Location == nil {
		return nil, fmt.Errorf("engine: nil location")
	}
	if cfg.NewID == nil || cfg.NewToken == nil {
		return nil, fmt.Errorf("engine: NewID and NewToken are required")
	}
	e := &Engine{
		branch: cfg.Branch, loc: cfg.Location, newID: cfg.NewID, newToken: cfg.NewToken,
		rules: cfg.Rules, outcomes: slices.Clone(cfg.Outcomes), sched: cfg.Schedule, day: st.Day, closed: st.Closed, hoursSince: st.HoursSince,
		services: map[string]*serviceState{}, executives: map[string]*Executive{},
		sessions: map[string]*Session{}, tokens: map[string]*Session{}, atCounter: map[int]*Session{},
		open: map[string]*Ticket{}, wait: map[string][]*Ticket{}, active: map[string]*Ticket{},
		mgr: st.Manager, appts: map[string]*Appointment{}, unchecked: map[string]int{},
	}
	for _, a := range st.Appointments {
		a := a
		e.appts[a.ID] = &a
	}
	for _, s := range cfg.Services {
		ss := &serviceState{Service: s, mean: float64(s.MeanServiceS)}
		if m, ok := st.Means[s.Code]; ok && m > 0 {
			ss.mean = m
		}
		ss.last = st.Numbering[s.Code]
		ss.streak = st.Streaks[s.Code]
		ss.run = st.Runs[s.Code]
		e.services[s.Code] = ss
		e.codes = append(e.codes, s.Code)
	}
	for _, d := range cfg.Draining {
		e.addDraining(d, st)
	}
	e.counters = slices.Clone(cfg.Counters)
	for _, x := range cfg.Executives {
		x := x
		x.Services = slices.Clone(x.Services)
		e.executives[x.ID] = &x
	}
	for _, s := range st.Sessions {
		s := s
		e.addSession(&s)
	}
	for _, t := range st.Tickets {
		if t.Status.Final() {
			continue
		}
		t := t
		e.open[t.ID] = &t
		e.reindex(&t, "", "")
	}
	return e, nil
}

// Day is the business day the engine is in (YYYY-MM-DD, branch time zone).
func (e *Engine) Day() string { return e.day }

// Location is the branch's time zone.
func (e *Engine) Location() *time.Location { return e.loc }

// Rules are the calling rules in force.
func (e *Engine) Rules() event.Rules { return e.rules }

// Schedule is the opening schedule in force (nil: open all day).
func (e *Engine) Schedule() *Schedule { return e.sched }

// Branch is the branch ID.
func (e *Engine) Branch() string { return e.branch }

// BusinessDay is the day of t in the branch's time zone.
func (e *Engine) BusinessDay(t time.Time) string { return t.In(e.loc).Format(time.DateOnly) }

func (e *Engine) addSession(s *Session) {
	e.sessions[s.Executive] = s
	e.tokens[s.TokenHash] = s
	e.atCounter[s.Counter] = s
}

func (e *Engine) dropSession(s *Session) {
	delete(e.sessions, s.Executive)
	delete(e.tokens, s.TokenHash)
	delete(e.atCounter, s.Counter)
}

func (e *Engine) touch() { e.version++ }

// Services returns the services that take tickets, in configuration order.
func (e *Engine) Services() []queue.Service {
	out := make([]queue.Service, 0, len(e.codes))
	for _, c := range e.codes {
		if s := e.services[c]; s.draining == nil { // a draining one takes no tickets (engine_drain.go)
			out = append(out, s.Service)
		}
	}
	return out
}

// Service returns the service with code.
func (e *Engine) Service(code string) (queue.Service, bool) {
	s, ok := e.services[code]
	if !ok {
		return queue.Service{}, false
	}
	return s.Service, true
}

// MeanService is the rolling mean service time of a service.
func (e *Engine) MeanService(code string) time.Duration {
	s, ok := e.services[code]
	if !ok {
		return 0
	}
	return time.Duration(s.mean * float64(time.Second))
}

// Counters returns the counters.
func (e *Engine) Counters() []queue.Counter { return slices.Clone(e.counters) }

// HasCounter reports whether n is a configured counter.
func (e *Engine) HasCounter(n int) bool {
	for _, c := range e.counters {
		if c.Number == n {
			return true
		}
	}
	return false
}

// Executive returns an executive known to the engine.
func (e *Engine) Executive(id string) (Executive, bool) {
	x, ok := e.executives[id]
	if !ok {
		return Executive{}, false
	}
	return *x, true
}

// PutExecutive adds or replaces an executive (the store refreshes one from
// its table before a login, since the admin command may have changed it).
func (e *Engine) PutExecutive(x Executive) {
	x.Services = slices.Clone(x.Services)
	e.executives[x.ID] = &x
	e.touch()
}

// SessionByToken returns the session of a token hash.
func (e *Engine) SessionByToken(hash string) (Session, bool) {
	s, ok := e.tokens[hash]
	if !ok {
		return Session{}, false
	}
	return *s, true
}

// SessionOf returns an executive's session.
func (e *Engine) SessionOf(exec string) (Session, bool) {
	s, ok := e.sessions[exec]
	if !ok {
		return Session{}, false
	}
	return *s, true
}

// SessionAt returns the session at a counter.
func (e *Engine) SessionAt(counter int) (Session, bool) {
	s, ok := e.atCounter[counter]
	if !ok {
		return Session{}, false
	}
	return *s, true
}

// Ticket returns an open ticket of today.
func (e *Engine) Ticket(id string) (Ticket, bool) {
	t, ok := e.open[id]
	if !ok {
		return Ticket{}, false
	}
	return *t, true
}

// Current returns the ticket an executive has called or is serving.
func (e *Engine) Current(exec string) (Ticket, bool) {
	for _, t := range e.active {
		if t.Executive == exec {
			return *t, true
		}
	}
	return Ticket{}, false
}

// ExecutiveState reports an executive's state: offline, paused, called,
// serving or available.
func (e *Engine) ExecutiveState(id string) ExecutiveState {
	s, ok := e.sessions[id]
	if !ok {
		return ExecutiveState{ID: id, State: StateOffline}
	}
	st := ExecutiveState{ID: id, Counter: s.Counter, State: StateAvailable}
	if cur, ok := e.Current(id); ok {
		st.State = StateCalled
		if cur.Status == queue.StatusServing {
			st.State = StateServing
		}
	} else if s.Paused {
		st.State = StatePaused
	}
	return st
}

func (e *Engine) execState(id string) *ExecutiveState {
	st := e.ExecutiveState(id)
	return &st
}

// Waiting returns the waiting tickets of a service in the order they would be
// called now.
func (e *Engine) Waiting(code string, now time.Time) []Ticket {
	s, ok := e.services[code]
	if !ok {
		return nil
	}
	order := e.order(s, now)
	out := make([]Ticket, len(order))
	for i, t := range order {
		out[i] = *t
	}
	return out
}

// order is the calling order of a service's waiting tickets now.
func (e *Engine) order(s *serviceState, now time.Time) []*Ticket {
	l := e.lanes(s.Code, now)
	c := e.state(s)
	out := make([]*Ticket, 0, len(e.wait[s.Code]))
	for {
		t := l.pick(&c)
		if t == nil {
			return out
		}
		out = append(out, t)
	}
}

// Position is a waiting ticket's place (1 = next) in its service's calling
// order; 0 if it is not waiting.
func (e *Engine) Position(id string, now time.Time) int {
	if e.cache.pos == nil || e.cache.version != e.version || e.cache.at != now.Unix() {
		pos := make(map[string]int, len(e.open))
		for _, c := range append(slices.Clip(e.codes), e.drainCodes...) {
			for i, t := range e.order(e.services[c], now) {
				pos[t.ID] = i + 1
			}
			for _, t := range e.wait[c] {
				switch {
				case t.Targeted(): // its place among the tickets for its counter or executive
					pos[t.ID] = e.targetedPosition(t)
				case t.Unchecked: // where it would stand were its customer here
					pos[t.ID] = e.positionIn(e.services[c], t.ID, now)
				}
			}
		}
		e.cache = positionCache{version: e.version, at: now.Unix(), pos: pos}
	}
	return e.cache.pos[id]
}

// WaitingCount is the number of waiting tickets in a service whose customers
// are here (an unchecked remote ticket is not counted: engine_remote.go).
func (e *Engine) WaitingCount(code string) int {
	return len(e.wait[code]) - e.unchecked[code]
}

// WaitingCounts returns every queue's waiting count by service code, the
// services that take tickets and those draining.
func (e *Engine) WaitingCounts() map[string]int {
	out := make(map[string]int, len(e.codes)+len(e.drainCodes))
	for _, c := range append(slices.Clip(e.codes), e.drainCodes...) {
		out[c] = e.WaitingCount(c)
	}
	return out
}

// reindex files t under its status after a change from oldStatus in
// oldService ("" for a new ticket).
func (e *Engine) reindex(t *Ticket, oldStatus queue.Status, oldService string) {
	switch oldStatus {
	case queue.StatusWaiting:
		// Its key may have changed (a transfer resets queued_at): find it by
		// pointer, and keep the rest in arrival order.
		w := e.wait[oldService]
		for i, x := range w {
			if x == t {
				copy(w[i:], w[i+1:])
				w[len(w)-1] = nil
				e.wait[oldService] = w[:len(w)-1]
				if t.Unchecked {
					e.unchecked[oldService]--
				}
				break
			}
		}
	case queue.StatusCalled, queue.StatusServing:
		delete(e.active, t.ID)
	}
	switch t.Status {
	case queue.StatusWaiting:
		// In arrival order (less), so the lanes need no sorting; a new ticket
		// arrives last and is appended.
		w := e.wait[t.Service]
		i := sort.Search(len(w), func(i int) bool { return less(t, w[i]) })
		w = append(w, nil)
		copy(w[i+1:], w[i:])
		w[i] = t
		e.wait[t.Service] = w
		if t.Unchecked {
			e.unchecked[t.Service]++
		}
	case queue.StatusCalled, queue.StatusServing:
		e.active[t.ID] = t
	}
	if oldService != "" {
		e.dropDrained(oldService)
	}
	if t.Service != oldService {
		e.dropDrained(t.Service)
	}
}

// Serving is the number of signed-in, unpaused executives who serve a service.
func (e *Engine) Serving(code string) int {
	n := 0
	for id, s := range e.sessions {
		if x, ok := e.executives[id]; ok && !s.Paused && slices.Contains(e.servesOf(x), code) {
			n++
		}
	}
	return n
}

// Estimate is the wait quoted for the ticket at position in a service: the
// tickets up to it shared among the executives serving the service, at the
// rolling mean service time; upper adds the larger of a mean service and half
// the typical wait. With nobody serving, one executive is assumed.
func (e *Engine) Estimate(code string, position int) Estimate {
	s, ok := e.services[code]
	if !ok || position <= 0 {
		return Estimate{}
	}
	k := e.Serving(code)
	if k == 0 {
		k = 1
	}
	typical := int(math.Ceil(float64(position) * s.mean / float64(k)))
	upper := typical + max(int(math.Ceil(s.mean)), typical/2)
	return Estimate{TypicalS: typical, UpperS: upper}
}

// Open returns copies of today's open tickets.
func (e *Engine) Open() []Ticket {
	out := make([]Ticket, 0, len(e.open))
	for _, t := range e.open {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return less(&out[i], &out[j]) })
	return out
}

// less orders tickets by arrival: queued_at, then issue time, then number.
func less(a, b *Ticket) bool {
	if !a.QueuedAt.Equal(b.QueuedAt) {
		return a.QueuedAt.Before(b.QueuedAt)
	}
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.Before(b.CreatedAt)
	}
	if a.OriginService != b.OriginService {
		return a.OriginService < b.OriginService
	}
	return a.Number < b.Number
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }

// Meta keys the engine writes.
func metaStreak(code string) string { return "streak." + code }
func metaMean(code string) string   { return "mean." + code }
func metaRun(code string) string    { return "run." + code }

// MetaDay is the meta key of the current business day.
const MetaDay = "day"

// MetaDayClosed is the meta key of the last business day that ended at its
// closing time + grace (before midnight).
const MetaDayClosed = "day_closed"
