package agent

import (
	"time"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// Remote tickets: the virtual queue (docs/appointments.md). The cloud sends
// ticket.join; the branch gives a number (ticket.issued with Join) whose
// customer is not present until he checks in (the branch's QR through the
// cloud's ticket.check_in, or his code or RUT at the kiosk). Until then the
// calling rule never calls it and nobody's position counts it; its own
// position is where it would stand were he here. When it reaches the front
// unchecked it slides back (ticket.slid) and holds a place until hold_min
// after it first got there; then it expires (ticket.expired, a no-show).

// Join applies the cloud's ticket.join (request: the command's ID): a remote
// ticket of the order's service (ticket.issued, Join = request, not present),
// or ticket.join_refused with a Refuse* code: the order is invalid, the
// branch does not run the service, remote joining is not open for it
// (Rules.Appointments.Remote), the branch or the service is closed now, or
// the service's cap of unchecked remote tickets is reached. The result
// string is recorded with the command.
func (e *Engine) Join(now time.Time, o *event.JoinOrder, request string) (Change, string) {
	var ch Change
	now = now.UTC()
	refuse := func(service, reason string) (Change, string) {
		if !queue.ValidServiceCode(service) {
			service = ""
		}
		ch.emit(event.JoinRefused, now, event.JoinRefusal{Request: request, Service: service, Reason: reason}, nil, nil)
		return ch, "refused: " + reason
	}
	if o == nil {
		return refuse("", event.RefuseInvalid)
	}
	if err := o.Validate(); err != nil {
		return refuse(o.Service, event.RefuseInvalid)
	}
	channel := o.Channel
	switch channel {
	case "":
		channel = event.ChannelWeb
	case event.ChannelWeb, event.ActorTelegram:
	default:
		return refuse(o.Service, event.RefuseInvalid)
	}
	s, ok := e.services[o.Service]
	if !ok || s.draining != nil {
		return refuse(o.Service, event.RefuseUnknown)
	}
	rule, ok := e.apptRules().Remote[o.Service]
	if !ok || !rule.Open {
		return refuse(o.Service, event.RefuseNotOpen)
	}
	if e.closed || e.IssueRefusal(s.Service, now) != nil {
		return refuse(o.Service, event.RefuseClosed)
	}
	if rule.Cap > 0 && e.unchecked[o.Service] >= rule.Cap {
		return refuse(o.Service, event.RefuseCapacity)
	}
	prio, _ := queue.ParsePriorityClass(o.Priority)
	if prio == "" {
		prio = queue.Normal
	}
	t, _ := e.issue(now, issue{Service: s, Priority: prio, Channel: channel, Token: o.Token, RUTSealed: o.RUTSealed,
		Join: request, Code: o.Code, RUTCheck: o.RUTCheck}, &ch)
	return ch, "issued " + t.Display()
}

// Unchecked returns the unchecked remote tickets of a service, in arrival
// order (they are not in Waiting).
func (e *Engine) Unchecked(code string) []Ticket {
	if e.unchecked[code] == 0 {
		return nil
	}
	var out []Ticket
	for _, t := range e.wait[code] {
		if t.Unchecked {
			out = append(out, *t)
		}
	}
	return out
}

// CheckInByCommand applies the cloud's ticket.check_in (the branch's QR
// scanned on the customer's phone): ticket.checked_in By "qr". A remote
// ticket already checked in (at the kiosk, say) is answered the same, with
// its place now and nothing changed, so the cloud's command is settled.
//
// Errors: not_found ticket.not_found; conflict ticket.not_waiting,
// ticket.present (not a remote ticket).
func (e *Engine) CheckInByCommand(now time.Time, ticket, request string) (Ticket, Change, error) {
	now = now.UTC()
	t, ok := e.open[ticket]
	if !ok {
		return Ticket{}, Change{}, queue.Errorf(queue.CodeNotFound, "ticket.not_found", ticket)
	}
	if !t.Unchecked && t.Join != "" && t.Status == queue.StatusWaiting {
		var ch Change
		snap := *t
		ref := snap.ref()
		ref.Place = e.place(t, now)
		ch.emit(event.TicketCheckedIn, now, event.CheckedIn{TicketRef: ref, By: "qr", Request: request}, &snap, nil)
		ch.By(&event.Actor{Kind: event.ActorSystem, Request: request}, 0)
		return snap, ch, nil
	}
	return e.checkInRemote(now, t, "qr", request)
}

// checkInRemote makes unchecked remote ticket t present: it keeps its place.
func (e *Engine) checkInRemote(now time.Time, t *Ticket, by, request string) (Ticket, Change, error) {
	var ch Change
	if t.Status != queue.StatusWaiting {
		return Ticket{}, ch, queue.Errorf(queue.CodeConflict, "ticket.not_waiting", t.Display(), t.Status)
	}
	if !t.Unchecked {
		return Ticket{}, ch, queue.Errorf(queue.CodeConflict, "ticket.present", t.Display())
	}
	t.Unchecked = false
	e.unchecked[t.Service]--
	t.HoldUntil = time.Time{}
	e.touch()
	snap := *t
	ref := snap.ref()
	ref.Place = e.place(t, now)
	actor := &event.Actor{Kind: event.ActorKiosk}
	if request != "" {
		actor = &event.Actor{Kind: event.ActorSystem, Request: request}
	}
	ch.Tickets = append(ch.Tickets, snap)
	ch.emit(event.TicketCheckedIn, now, event.CheckedIn{TicketRef: ref, By: by, Request: request}, &snap, nil)
	ch.By(actor, 0)
	e.nearing(now, &ch, t.Service)
	return snap, ch, nil
}

// Timers applies what falls due with time alone, as the system: unchecked
// remote tickets whose hold ran out expire (ticket.expired); one that
// reached the front slides back slide_by places (ticket.slid; its hold
// starts the first time); bookings nobody checked in for by start + grace +
// MissedAfter are missed (appointment.missed). The store runs it before
// every batch and on its tick, so each happens once.
func (e *Engine) Timers(now time.Time) Change {
	var ch Change
	now = now.UTC()
	if e.day == "" {
		return ch
	}
	e.missAppointments(now, &ch, e.day, false)
	rules := e.apptRules()
	var moved []string
	for _, code := range e.codes {
		if e.unchecked[code] == 0 {
			continue
		}
		s := e.services[code]
		var remote []*Ticket
		for _, t := range e.wait[code] {
			if t.Unchecked && !t.Targeted() {
				remote = append(remote, t)
			}
		}
		changed := false
		for _, t := range remote {
			if !t.HoldUntil.IsZero() && !now.Before(t.HoldUntil) {
				e.expire(now, t, &ch)
				changed = true
			}
		}
		for _, t := range remote {
			if t.Status != queue.StatusWaiting || e.positionIn(s, t.ID, now) != 1 {
				continue
			}
			if e.slide(now, s, t, rules, &ch) {
				changed = true
			}
		}
		if changed {
			moved = append(moved, code)
		}
	}
	if len(moved) > 0 {
		e.nearing(now, &ch, moved...)
	}
	ch.By(SystemActor(), 0)
	return ch
}

// expire ends unchecked remote ticket t: its hold ran out.
func (e *Engine) expire(now time.Time, t *Ticket, ch *Change) {
	t.Status = queue.StatusNoShow
	t.EndedAt = now
	e.reindex(t, queue.StatusWaiting, t.Service)
	delete(e.open, t.ID)
	e.touch()
	snap := *t
	ch.Tickets = append(ch.Tickets, snap)
	ch.emit(event.TicketExpired, now, snap.ref(), &snap, nil)
}

// slide moves unchecked remote ticket t, at the front of service s, back
// behind the slide_by present tickets that would be called next (fewer when
// fewer wait), and starts its hold the first time. It reports whether it
// emitted ticket.slid: when nobody waits behind it, it holds the front and
// says so once (Slides unchanged).
func (e *Engine) slide(now time.Time, s *serviceState, t *Ticket, rules event.AppointmentRules, ch *Change) bool {
	first := t.HoldUntil.IsZero()
	if first {
		t.HoldUntil = now.Add(time.Duration(rules.HoldMin) * time.Minute)
	}
	present := e.order(s, now)
	if len(present) == 0 {
		if !first {
			return false
		}
		e.touch()
		e.emitSlid(now, t, ch)
		return true
	}
	k := min(rules.SlideBy, len(present))
	back := t.QueuedAt
	for _, p := range present[:k] {
		if p.QueuedAt.After(back) {
			back = p.QueuedAt
		}
	}
	old := t.QueuedAt
	t.QueuedAt = back.Add(time.Nanosecond)
	e.reindex(t, queue.StatusWaiting, t.Service)
	e.touch()
	if e.positionIn(s, t.ID, now) == 1 {
		// Its lane keeps it ahead of those tickets (a preferential ticket
		// behind normal ones): it holds the front instead.
		t.QueuedAt = old
		e.reindex(t, queue.StatusWaiting, t.Service)
		e.touch()
		if !first {
			return false
		}
		e.emitSlid(now, t, ch)
		return true
	}
	t.Slides++
	e.emitSlid(now, t, ch)
	return true
}

func (e *Engine) emitSlid(now time.Time, t *Ticket, ch *Change) {
	snap := *t
	ref := snap.ref()
	ref.Place = e.place(t, now)
	ch.Tickets = append(ch.Tickets, snap)
	ch.emit(event.TicketSlid, now, event.Slid{TicketRef: ref, HoldUntil: snap.HoldUntil, Slides: snap.Slides}, &snap, nil)
}
