package agent

import (
	"sort"
	"strconv"
	"time"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// lanes splits a service's waiting tickets into the lanes of the calling rule
// (see the package comment): preferential (first-in-line ones first), then the
// others first-in-line, overdue, premium and normal; the mixed lanes are kept
// by class so the ratio can take the oldest normal ticket in O(1). Booked
// appointments wait in their own lanes, due and early, by due time
// (docs/appointments.md); unchecked remote tickets are in no lane: they are
// never called.
type lanes struct {
	pref           []*Ticket
	firstP, firstN []*Ticket // first-in-line premium / normal
	overP, overN   []*Ticket // overdue premium / normal
	prem, norm     []*Ticket
	// apptDue are the booked appointments due now, apptEarly those checked
	// in before their time; both by due time.
	apptDue, apptEarly []*Ticket
}

// calling is a service's calling state as pick advances it, with the rules.
type calling struct {
	streak, run   int
	ratio, runMax int
}

// state is s's calling state now.
func (e *Engine) state(s *serviceState) calling {
	return calling{streak: s.streak, run: s.run, ratio: e.rules.PreferentialRatio, runMax: e.apptRules().RunMax}
}

func (e *Engine) lanes(code string, now time.Time) lanes { return e.lanesWith(code, now, nil) }

// lanesWith is lanes counting the unchecked remote ticket extra as if its
// customer were present (its virtual place: engine_remote.go).
func (e *Engine) lanesWith(code string, now time.Time, extra *Ticket) lanes {
	s := e.services[code]
	deadline := now.Add(-s.TargetWait())
	all := e.untargeted(code)
	var appts lanes
	w := all
	for i, t := range all {
		if !t.walkIn() && t != extra {
			// Copy out the walk-ins only when there is something to leave out.
			w = make([]*Ticket, 0, len(all))
			w = append(w, all[:i]...)
			for _, t := range all[i:] {
				switch {
				case t.Unchecked && t != extra:
				case t.Booked() && !now.Before(t.Due):
					appts.apptDue = append(appts.apptDue, t)
				case t.Booked():
					appts.apptEarly = append(appts.apptEarly, t)
				default:
					w = append(w, t)
				}
			}
			break
		}
	}
	byDue := func(ts []*Ticket) {
		sort.SliceStable(ts, func(i, j int) bool {
			if !ts[i].Due.Equal(ts[j].Due) {
				return ts[i].Due.Before(ts[j].Due)
			}
			return less(ts[i], ts[j])
		})
	}
	byDue(appts.apptDue)
	byDue(appts.apptEarly)
	// Lane of each ticket; preferential first-in-line (0) and later (1) are
	// adjacent so they make one lane.
	const (
		prefFirst = iota
		prefLater
		firstP
		firstN
		overP
		overN
		prem
		norm
		nLanes
	)
	class := make([]uint8, len(w))
	var count [nLanes]int
	for i, t := range w {
		normal := t.Priority == queue.Normal
		var c uint8
		switch {
		case t.Priority == queue.Preferential && t.FirstInLine:
			c = prefFirst
		case t.Priority == queue.Preferential:
			c = prefLater
		case t.FirstInLine && normal:
			c = firstN
		case t.FirstInLine:
			c = firstP
		case !t.QueuedAt.After(deadline) && normal:
			c = overN
		case !t.QueuedAt.After(deadline):
			c = overP
		case normal:
			c = norm
		default:
			c = prem
		}
		class[i] = c
		count[c]++
	}
	// One backing array, each lane a window of it; e.wait is in arrival order,
	// so every lane comes out in arrival order.
	buf := make([]*Ticket, len(w))
	var at [nLanes]int
	for c, off := 0, 0; c < nLanes; c++ {
		at[c] = off
		off += count[c]
	}
	for i, t := range w {
		buf[at[class[i]]] = t
		at[class[i]]++
	}
	lane := func(from, to int) []*Ticket { // lanes from..to inclusive
		start := at[from] - count[from]
		return buf[start:at[to]:at[to]]
	}
	return lanes{pref: lane(prefFirst, prefLater), firstP: lane(firstP, firstP), firstN: lane(firstN, firstN),
		overP: lane(overP, overP), overN: lane(overN, overN), prem: lane(prem, prem), norm: lane(norm, norm),
		apptDue: appts.apptDue, apptEarly: appts.apptEarly}
}

// walkInWaiting reports whether a walk-in waits in the lanes.
func (l *lanes) walkInWaiting() bool {
	return len(l.pref)+len(l.firstP)+len(l.firstN)+len(l.overP)+len(l.overN)+len(l.prem)+len(l.norm) > 0
}

// normalWaiting reports whether a normal ticket waits in the lanes.
func (l *lanes) normalWaiting() bool { return len(l.firstN)+len(l.overN)+len(l.norm) > 0 }

// due reports whether the anti-starvation ratio calls a normal ticket next.
func (l *lanes) due(streak, ratio int) bool { return ratio > 0 && streak >= ratio && l.normalWaiting() }

// pick removes and returns the next ticket by the calling rule, advancing
// c: the streak (priority-class calls made while a normal ticket waited,
// since the last normal call; ratio 0 is strict priority) and the run (due
// appointments called in a row while a walk-in waited). A due appointment
// goes before the walk-ins, earliest due first, unless runMax of them went
// in a row while a walk-in waited; an early one only when no walk-in waits.
func (l *lanes) pick(c *calling) *Ticket {
	pop := func(ts *[]*Ticket) *Ticket { x := (*ts)[0]; *ts = (*ts)[1:]; return x }
	walkIn := l.walkInWaiting()
	if len(l.apptDue) > 0 && (!walkIn || c.run < c.runMax) {
		if walkIn {
			c.run++
		}
		return pop(&l.apptDue)
	}
	if !walkIn {
		if len(l.apptEarly) > 0 {
			return pop(&l.apptEarly)
		}
		return nil
	}
	c.run = 0
	older := func(a, b *[]*Ticket) *[]*Ticket { // the lane whose head arrived first
		if len(*a) == 0 || (len(*b) > 0 && less((*b)[0], (*a)[0])) {
			return b
		}
		return a
	}
	normalWaiting := l.normalWaiting()
	var t *Ticket
	switch {
	case l.due(c.streak, c.ratio):
		switch {
		case len(l.firstN) > 0:
			t = pop(&l.firstN)
		case len(l.overN) > 0:
			t = pop(&l.overN)
		default:
			t = pop(&l.norm)
		}
	case len(l.pref) > 0:
		t = pop(&l.pref)
	case len(l.firstP)+len(l.firstN) > 0:
		t = pop(older(&l.firstP, &l.firstN))
	case len(l.overP)+len(l.overN) > 0:
		t = pop(older(&l.overP, &l.overN))
	case len(l.prem) > 0:
		t = pop(&l.prem)
	default:
		t = pop(&l.norm)
	}
	if t.Priority == queue.Normal {
		c.streak = 0
	} else if normalWaiting {
		c.streak++
	}
	return t
}

// peek returns the ticket pick would return, without changing anything.
func (l lanes) peek(c calling) *Ticket {
	return l.pick(&c)
}

// CallNext calls the next ticket for the executive signed in at counter by the
// calling rule of the package comment: each of his services offers its next
// ticket (pick); a normal ticket the ratio makes due goes first (longest
// waiting), then a preferential one, then the rest; within each group a
// first-in-line ticket, then an overdue one (longest wait), then by service
// priority (higher first) and his order of services. It returns nil and an
// empty change when nobody waits for his services.
//
// Errors: unauthorized session.required (no session), forbidden
// session.wrong_counter, conflict session.paused, session.busy.
func (e *Engine) CallNext(now time.Time, exec string, counter int) (*Ticket, Change, error) {
	var ch Change
	s, ok := e.sessions[exec]
	if !ok {
		return nil, ch, queue.Errorf(queue.CodeUnauthorized, "session.required")
	}
	if s.Counter != counter {
		return nil, ch, queue.Errorf(queue.CodeForbidden, "session.wrong_counter", counter)
	}
	if s.Paused {
		return nil, ch, queue.Errorf(queue.CodeConflict, "session.paused")
	}
	if cur, ok := e.Current(exec); ok {
		return nil, ch, queue.Errorf(queue.CodeConflict, "session.busy", cur.Display())
	}
	x := e.executives[exec]
	var best *cand
	better := func(a, b *cand) bool { // is a better than b
		if a.group != b.group {
			return a.group < b.group
		}
		if a.group == 0 {
			return less(a.t, b.t) // the longest-waiting due normal ticket first
		}
		if a.t.FirstInLine != b.t.FirstInLine {
			return a.t.FirstInLine
		}
		if a.overdue != b.overdue {
			return a.overdue
		}
		if a.overdue {
			return less(a.t, b.t)
		}
		return a.rank < b.rank
	}
	for i, code := range e.servesOf(x) {
		svc, ok := e.services[code]
		if !ok {
			continue
		}
		l := e.lanes(code, now)
		h := l.peek(e.state(svc))
		if h == nil {
			continue
		}
		c := &cand{t: h, code: code, group: 2, overdue: e.overdue(h, now), rank: -svc.Priority*1000 + i}
		switch {
		case h.Booked():
			// A due appointment ranks with the preferential tickets; an
			// early one (no walk-in of its service waits) with the rest.
			c.overdue = false
			if !now.Before(h.Due) {
				c.group = 1
			}
		case l.due(svc.streak, e.rules.PreferentialRatio):
			c.group = 0
		case h.Priority == queue.Preferential:
			c.group = 1
		}
		if best == nil || better(c, best) {
			best = c
		}
	}
	// A ticket transferred to this executive or counter (engine_visit.go).
	if th := e.targetedHead(exec, counter); th != nil && e.targetWins(th, best, now) {
		t := e.callTicket(now, th, exec, counter, &ch, event.Called{})
		return t, ch, nil
	}
	if best == nil {
		return nil, ch, nil
	}
	svc := e.services[best.code]
	l := e.lanes(best.code, now)
	c := e.state(svc)
	t := l.pick(&c)
	if svc.streak != c.streak {
		svc.streak = c.streak
		ch.meta(metaStreak(best.code), strconv.Itoa(svc.streak))
	}
	if svc.run != c.run {
		svc.run = c.run
		ch.meta(metaRun(best.code), strconv.Itoa(svc.run))
	}
	// A priority-class call also passes the normal tickets waiting in the
	// executive's other services: it counts toward their ratio too, so no
	// normal ticket starves behind another service's priority tickets. An
	// appointment's call is outside the ratio.
	if t.Priority != queue.Normal && !t.Booked() {
		for _, code := range e.servicesToday(x) {
			o, ok := e.services[code]
			if !ok || code == best.code || !e.normalWaits(code) {
				continue
			}
			o.streak++
			ch.meta(metaStreak(code), strconv.Itoa(o.streak))
		}
	}
	return e.callTicket(now, t, exec, counter, &ch, event.Called{}), ch, nil
}

// callTicket calls waiting ticket t to counter for exec and emits
// ticket.called (with base's Chosen and Reason), then the pre-notices of his
// services and of the ticket's own.
func (e *Engine) callTicket(now time.Time, t *Ticket, exec string, counter int, ch *Change, base event.Called) *Ticket {
	t.Status = queue.StatusCalled
	e.reindex(t, queue.StatusWaiting, t.Service)
	t.Counter = counter
	t.Executive = exec
	t.Recalls = 0
	t.CalledAt = now.UTC()
	t.RecalledAt = time.Time{}
	t.FirstInLine = false
	t.TargetCounter, t.TargetExecutive = 0, ""
	e.touch()
	snap := *t
	ch.Tickets = append(ch.Tickets, snap)
	base.TicketRef, base.ExecutiveName = snap.ref(), e.execName(exec)
	from := len(ch.Events)
	ch.emit(event.TicketCalled, now, base, &snap, e.execState(exec))
	ch.By(e.executiveActor(exec), from)
	var codes []string
	if x, ok := e.executives[exec]; ok {
		codes = e.servesOf(x)
	}
	e.nearing(now, ch, append(codes, snap.Service)...)
	return &snap
}

// cand is a service's next ticket as a candidate of CallNext.
type cand struct {
	t       *Ticket
	code    string
	group   int // 0 ratio-due normal, 1 preferential, 2 others
	overdue bool
	rank    int
}

// normalWaits reports whether a normal ticket waits in service code.
func (e *Engine) normalWaits(code string) bool {
	for _, t := range e.wait[code] {
		if t.Priority == queue.Normal && !t.Targeted() && t.walkIn() {
			return true
		}
	}
	return false
}

func (e *Engine) overdue(t *Ticket, now time.Time) bool {
	s, ok := e.services[t.Service]
	return ok && !t.QueuedAt.After(now.Add(-s.TargetWait()))
}
