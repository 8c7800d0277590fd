package agent

import (
	"sort"
	"strconv"
	"time"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// lanes splits a service's waiting tickets into the lanes of the calling rule:
// first-in-line (transferred with "first"), overdue (waited past the service's
// target), priority classes (premium, then preferential) and normal, each in
// arrival order.
type lanes struct {
	first, overdue, prio, norm []*Ticket
}

func (e *Engine) lanes(code string, now time.Time) lanes {
	var l lanes
	s := e.services[code]
	deadline := now.Add(-s.TargetWait())
	for _, t := range e.wait[code] {
		switch {
		case t.FirstInLine:
			l.first = append(l.first, t)
		case !t.QueuedAt.After(deadline):
			l.overdue = append(l.overdue, t)
		case t.Priority != queue.Normal:
			l.prio = append(l.prio, t)
		default:
			l.norm = append(l.norm, t)
		}
	}
	byArrival := func(ts []*Ticket) { sort.Slice(ts, func(i, j int) bool { return less(ts[i], ts[j]) }) }
	byArrival(l.first)
	byArrival(l.overdue)
	byArrival(l.norm)
	sort.Slice(l.prio, func(i, j int) bool {
		a, b := l.prio[i], l.prio[j]
		if ra, rb := classRank(a.Priority), classRank(b.Priority); ra != rb {
			return ra < rb
		}
		return less(a, b)
	})
	return l
}

// pick removes and returns the next ticket by the calling rule, updating the
// streak: first-in-line, then overdue, then the priority classes, except that
// after ratio priority calls made past a waiting normal ticket the oldest
// normal one goes (ratio 0: strict priority).
func (l *lanes) pick(streak *int, ratio int) *Ticket {
	var t *Ticket
	pop := func(ts *[]*Ticket) *Ticket { x := (*ts)[0]; *ts = (*ts)[1:]; return x }
	normalWaiting := len(l.norm) > 0
	switch {
	case len(l.first) > 0:
		t = pop(&l.first)
	case len(l.overdue) > 0:
		t = pop(&l.overdue)
	case ratio > 0 && *streak >= ratio && len(l.norm) > 0:
		t = pop(&l.norm)
	case len(l.prio) > 0:
		t = pop(&l.prio)
	case len(l.norm) > 0:
		t = pop(&l.norm)
	default:
		return nil
	}
	if t.Priority == queue.Normal {
		*streak = 0
	} else if normalWaiting {
		*streak++
	}
	return t
}

// peek returns the ticket pick would return, without changing anything.
func (l lanes) peek(streak, ratio int) *Ticket {
	c := lanes{first: l.first, overdue: l.overdue, prio: l.prio, norm: l.norm}
	return c.pick(&streak, ratio)
}

// CallNext calls the next ticket for the executive signed in at counter: among
// the services he serves, an overdue ticket first (longest wait), else by
// service priority (higher first) and then his order of services; within a
// service by the calling rule (see pick). It returns nil and an empty change
// when nobody waits for his services.
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
	type cand struct {
		t    *Ticket
		code string
		rank int
	}
	var best *cand
	better := func(a, b *cand) bool { // is a better than b
		ao := !a.t.FirstInLine && e.overdue(a.t, now)
		bo := !b.t.FirstInLine && e.overdue(b.t, now)
		if ao != bo {
			return ao
		}
		if ao && bo {
			return less(a.t, b.t)
		}
		return a.rank < b.rank
	}
	for i, code := range x.Services {
		svc, ok := e.services[code]
		if !ok {
			continue
		}
		h := e.lanes(code, now).peek(svc.streak, e.rules.PreferentialRatio)
		if h == nil {
			continue
		}
		c := &cand{t: h, code: code, rank: -svc.Priority*1000 + i}
		if best == nil || better(c, best) {
			best = c
		}
	}
	if best == nil {
		return nil, ch, nil
	}
	svc := e.services[best.code]
	l := e.lanes(best.code, now)
	old := svc.streak
	t := l.pick(&svc.streak, e.rules.PreferentialRatio)
	if svc.streak != old {
		ch.meta(metaStreak(best.code), strconv.Itoa(svc.streak))
	}
	t.Status = queue.StatusCalled
	e.reindex(t, queue.StatusWaiting, t.Service)
	t.Counter = counter
	t.Executive = exec
	t.Recalls = 0
	t.CalledAt = now.UTC()
	t.RecalledAt = time.Time{}
	t.FirstInLine = false
	e.touch()
	snap := *t
	ch.Tickets = append(ch.Tickets, snap)
	ch.emit(event.TicketCalled, now, event.Called{TicketRef: snap.ref(), ExecutiveName: x.Name}, &snap, e.execState(exec))
	ch.By(e.executiveActor(exec), 0)
	return &snap, ch, nil
}

func (e *Engine) overdue(t *Ticket, now time.Time) bool {
	s, ok := e.services[t.Service]
	return ok && !t.QueuedAt.After(now.Add(-s.TargetWait()))
}
