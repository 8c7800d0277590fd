package agent

import (
	"slices"
	"sort"
	"time"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// The counter's actions beyond call-next: targeted transfers (to a counter
// or a named executive), calling a specific ticket out of order, walk-ins
// served at once, parked visits. The calling rule's part is in the package
// comment ("Targeted tickets" and "Parked visits").

// MaxCallReason is the longest reason of an out-of-order call, in characters.
const MaxCallReason = 120

// untargeted returns the waiting tickets of a service that anyone serving it
// may call (in arrival order): a ticket transferred to a counter or an
// executive is only that one's to call.
func (e *Engine) untargeted(code string) []*Ticket {
	w := e.wait[code]
	n := 0
	for _, t := range w {
		if t.Targeted() {
			n++
		}
	}
	if n == 0 {
		return w
	}
	out := make([]*Ticket, 0, len(w)-n)
	for _, t := range w {
		if !t.Targeted() {
			out = append(out, t)
		}
	}
	return out
}

// targetedFor returns the waiting tickets transferred to executive exec or to
// counter, in the order he calls them: "first in line" ones first, then
// preferential, then by arrival.
func (e *Engine) targetedFor(exec string, counter int) []*Ticket {
	var out []*Ticket
	for _, c := range append(slices.Clip(e.codes), e.drainCodes...) {
		for _, t := range e.wait[c] {
			if (exec != "" && t.TargetExecutive == exec) || (counter != 0 && t.TargetCounter == counter) {
				out = append(out, t)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.FirstInLine != b.FirstInLine {
			return a.FirstInLine
		}
		if ap, bp := a.Priority == queue.Preferential, b.Priority == queue.Preferential; ap != bp {
			return ap
		}
		return less(a, b)
	})
	return out
}

func (e *Engine) targetedHead(exec string, counter int) *Ticket {
	if ts := e.targetedFor(exec, counter); len(ts) > 0 {
		return ts[0]
	}
	return nil
}

// targetWins decides between the head of the caller's targeted tickets and
// the best ticket of his services (nil: none): a "first in line" transfer
// goes first; a ratio-due normal ticket of his services next; then a
// preferential ticket before a non-preferential one; between equals a "first
// in line" service ticket, else the earlier arrival.
func (e *Engine) targetWins(th *Ticket, best *cand, now time.Time) bool {
	switch {
	case th.FirstInLine || best == nil:
		return true
	case best.group == 0:
		return false
	}
	tp, bp := th.Priority == queue.Preferential, best.t.Priority == queue.Preferential
	if tp != bp {
		return tp
	}
	if best.t.FirstInLine {
		return false
	}
	return less(th, best.t)
}

// targetedPosition is the place (1 = next) of a waiting targeted ticket
// among the tickets for the same counter or executive; 0 if not targeted.
func (e *Engine) targetedPosition(t *Ticket) int {
	if !t.Targeted() {
		return 0
	}
	for i, x := range e.targetedFor(t.TargetExecutive, t.TargetCounter) {
		if x == t {
			return i + 1
		}
	}
	return 0
}

// releaseTargets gives the waiting tickets transferred to exec or to counter
// back to their service's queue (he signed out: nobody else could call
// them), keeping their arrival and "first in line", with ticket.requeued.
func (e *Engine) releaseTargets(now time.Time, exec string, counter int, ch *Change) {
	ts := e.targetedFor(exec, counter)
	if len(ts) == 0 {
		return
	}
	codes := make([]string, 0, len(ts))
	for _, t := range ts {
		t.TargetCounter, t.TargetExecutive = 0, ""
		codes = append(codes, t.Service)
	}
	e.touch()
	for _, t := range ts {
		snap := *t
		ref := snap.ref()
		ref.Place = e.place(t, now)
		ref.Actor = SystemActor()
		ch.Tickets = append(ch.Tickets, snap)
		ch.emit(event.TicketRequeued, now, ref, &snap, nil)
	}
	e.nearing(now, ch, codes...)
}

// Targeted returns the waiting tickets of a service transferred to a counter
// or an executive, in arrival order (they are not in Waiting's order).
func (e *Engine) Targeted(code string) []Ticket {
	var out []Ticket
	for _, t := range e.wait[code] {
		if t.Targeted() {
			out = append(out, *t)
		}
	}
	return out
}

// Parked returns the visits an executive parked, oldest first.
func (e *Engine) Parked(exec string) []Ticket {
	var out []Ticket
	for _, t := range e.open {
		if t.Status == queue.StatusParked && t.Executive == exec {
			out = append(out, *t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return less(&out[i], &out[j]) })
	return out
}

// hasParked reports whether exec holds a parked visit.
func (e *Engine) hasParked(exec string) bool {
	for _, t := range e.open {
		if t.Status == queue.StatusParked && t.Executive == exec {
			return true
		}
	}
	return false
}

// caller checks that exec may call at counter now: signed in there, not
// paused, not holding a called or serving ticket.
func (e *Engine) caller(exec string, counter int) (*Session, error) {
	s, ok := e.sessions[exec]
	if !ok {
		return nil, queue.Errorf(queue.CodeUnauthorized, "session.required")
	}
	if s.Counter != counter {
		return nil, queue.Errorf(queue.CodeForbidden, "session.wrong_counter", counter)
	}
	if s.Paused {
		return nil, queue.Errorf(queue.CodeConflict, "session.paused")
	}
	if cur, ok := e.Current(exec); ok {
		return nil, queue.Errorf(queue.CodeConflict, "session.busy", cur.Display())
	}
	return s, nil
}

// CallTicket calls a specific waiting ticket out of the calling rule's order
// (a customer with an appointment, a ticket the rule would leave waiting),
// with the executive's reason, recorded in ticket.called (chosen, reason).
// He must serve the ticket's service, or the ticket must have been transferred
// to him or his counter. Streaks do not change: the ratio counts the rule's
// calls.
//
// Errors: unauthorized session.required; forbidden session.wrong_counter,
// ticket.not_your_service, ticket.targeted_elsewhere; conflict session.paused,
// session.busy, ticket.not_waiting; not_found ticket.not_found; invalid
// call.reason_required.
func (e *Engine) CallTicket(now time.Time, exec string, counter int, id, reason string) (*Ticket, Change, error) {
	var ch Change
	if _, err := e.caller(exec, counter); err != nil {
		return nil, ch, err
	}
	if reason == "" || !queue.ValidText(reason, MaxCallReason) {
		return nil, ch, queue.Errorf(queue.CodeInvalid, "call.reason_required", MaxCallReason)
	}
	t, ok := e.open[id]
	if !ok {
		return nil, ch, queue.Errorf(queue.CodeNotFound, "ticket.not_found", id)
	}
	if t.Status != queue.StatusWaiting {
		return nil, ch, queue.Errorf(queue.CodeConflict, "ticket.not_waiting", t.Display(), t.Status)
	}
	if t.Unchecked { // a remote ticket whose customer is not here (engine_remote.go)
		return nil, ch, queue.Errorf(queue.CodeConflict, "ticket.not_present", t.Display())
	}
	mine := t.TargetExecutive == exec || t.TargetCounter == counter
	if t.Targeted() && !mine {
		return nil, ch, queue.Errorf(queue.CodeForbidden, "ticket.targeted_elsewhere", t.Display())
	}
	if !mine && !e.serves(exec, t.Service) && !e.drainsFor(exec, t.Service) {
		return nil, ch, queue.Errorf(queue.CodeForbidden, "ticket.not_your_service", t.Display(), t.Service)
	}
	return e.callTicket(now, t, exec, counter, &ch, event.Called{Chosen: true, Reason: reason}), ch, nil
}

// drainsFor reports whether exec still serves removed service code.
func (e *Engine) drainsFor(exec, code string) bool {
	x, ok := e.executives[exec]
	return ok && slices.Contains(e.servesOf(x), code)
}

// WalkInRequest is a customer served at the counter without a ticket. RUT
// fields and NameEnc are filled by the store (encrypted; never plain here).
type WalkInRequest struct {
	Executive string
	Counter   int
	Service   string
	Priority  queue.PriorityClass
	RUTHash   string
	RUTEnc    []byte
	RUTSealed string
	NameEnc   []byte
}

// WalkIn serves a customer who came to the counter without a ticket: it
// issues a ticket in the service (channel "counter", numbered like any
// other, so it counts in every report), calls it to the counter and starts
// it, in one change (ticket.issued, ticket.called, ticket.started). Opening
// hours do not stop it: the customer is already at the counter.
//
// Errors: as CallTicket's session checks; invalid service.unknown,
// priority.invalid; conflict service.draining.
func (e *Engine) WalkIn(now time.Time, r WalkInRequest) (Ticket, Change, error) {
	var ch Change
	if _, err := e.caller(r.Executive, r.Counter); err != nil {
		return Ticket{}, ch, err
	}
	s, ok := e.services[r.Service]
	if !ok {
		return Ticket{}, ch, queue.Errorf(queue.CodeInvalid, "service.unknown", r.Service)
	}
	if s.draining != nil {
		return Ticket{}, ch, queue.Errorf(queue.CodeConflict, "service.draining", r.Service, s.Name)
	}
	if r.Priority == "" {
		r.Priority = queue.Normal
	}
	if _, err := queue.ParsePriorityClass(string(r.Priority)); err != nil {
		return Ticket{}, ch, err
	}
	now = now.UTC()
	s.last++
	t := &Ticket{
		ID: e.newID(), Day: e.day, OriginService: s.Code, Number: s.last, Service: s.Code,
		Priority: r.Priority, Status: queue.StatusWaiting, RUTHash: r.RUTHash, RUTEnc: r.RUTEnc,
		Token: e.newToken(), Channel: ChannelCounter, QueuedAt: now, CreatedAt: now, Near: true, NameEnc: r.NameEnc,
	}
	e.open[t.ID] = t
	e.reindex(t, "", "")
	e.touch()
	actor := e.executiveActor(r.Executive)
	ch.Numbering = append(ch.Numbering, Numbering{Day: e.day, Service: s.Code, Last: s.last})
	issued := *t
	ch.emit(event.TicketIssued, now, event.Issued{TicketRef: issued.ref(), Priority: string(t.Priority), QueuedAt: now,
		Position: 0, Token: t.Token, RUTSealed: r.RUTSealed, Channel: ChannelCounter}, &issued, nil)
	ch.By(actor, 0)
	e.callTicket(now, t, r.Executive, r.Counter, &ch, event.Called{})
	t.Status, t.StartedAt = queue.StatusServing, now
	e.reindex(t, queue.StatusCalled, t.Service)
	e.touch()
	snap := *t
	ch.Tickets = append(ch.Tickets, snap)
	from := len(ch.Events)
	ch.emit(event.TicketStarted, now, snap.ref(), &snap, e.execState(r.Executive))
	ch.By(actor, from)
	return snap, ch, nil
}

// ChannelCounter is the channel of a walk-in's ticket (issued at the counter).
const ChannelCounter = "counter"

// checkOutcomes validates a visit's outcome codes against HQ's list (when
// it configured one) and returns them without duplicates.
//
// Errors: invalid ticket.outcome_invalid, ticket.outcome_unknown.
func (e *Engine) checkOutcomes(codes []string) ([]string, error) {
	if len(codes) > queue.MaxOutcomes {
		return nil, queue.Errorf(queue.CodeInvalid, "ticket.outcome_invalid", truncCode(codes[queue.MaxOutcomes]))
	}
	var out []string
	for _, c := range codes {
		if !queue.ValidOutcomeCode(c) {
			return nil, queue.Errorf(queue.CodeInvalid, "ticket.outcome_invalid", truncCode(c))
		}
		if len(e.outcomes) > 0 && !slices.ContainsFunc(e.outcomes, func(o queue.Outcome) bool { return o.Code == c }) {
			return nil, queue.Errorf(queue.CodeInvalid, "ticket.outcome_unknown", c)
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

func truncCode(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// Outcomes are the visit outcome codes HQ configured (empty: none).
func (e *Engine) Outcomes() []queue.Outcome { return slices.Clone(e.outcomes) }

// pauseLabel is the Spanish label of a pause reason code, the reason text a
// pause by code records.
func pauseLabel(code string) string { return i18n.T(i18n.ES, "pause."+code) }

// mayTake reports whether exec may act on waiting ticket t: he serves its
// service (or still drains it), or it was transferred to him or his counter.
func (e *Engine) mayTake(exec string, t *Ticket) bool {
	if t.TargetExecutive == exec || (t.TargetCounter != 0 && t.TargetCounter == e.counterOf(exec)) {
		return true
	}
	return e.serves(exec, t.Service) || e.drainsFor(exec, t.Service)
}

// counterOf is the counter exec is signed in at (0: none).
func (e *Engine) counterOf(exec string) int {
	if s, ok := e.sessions[exec]; ok {
		return s.Counter
	}
	return 0
}

// checkTransfer validates a transfer's target and fills a.To with the
// ticket's own service when only a counter or an executive is named.
//
// Errors: invalid service.unknown, transfer.one_target, counter.unknown,
// transfer.executive_unknown; conflict service.draining,
// transfer.same_service, transfer.same_target, transfer.counter_empty,
// transfer.executive_offline.
func (e *Engine) checkTransfer(t *Ticket, a *Act) error {
	if t.Unchecked && (a.ToCounter != 0 || a.ToExecutive != "") {
		// A counter's own list would call it: its customer is not here.
		return queue.Errorf(queue.CodeConflict, "ticket.not_present", t.Display())
	}
	targeted := a.ToCounter != 0 || a.ToExecutive != ""
	if a.ToCounter != 0 && a.ToExecutive != "" {
		return queue.Errorf(queue.CodeInvalid, "transfer.one_target")
	}
	if a.To == "" && targeted {
		a.To = t.Service
	}
	to, ok := e.services[a.To]
	if !ok {
		return queue.Errorf(queue.CodeInvalid, "service.unknown", a.To)
	}
	if to.draining != nil && a.To != t.Service {
		return queue.Errorf(queue.CodeConflict, "service.draining", a.To, to.Name)
	}
	if !targeted && a.To == t.Service {
		return queue.Errorf(queue.CodeConflict, "transfer.same_service", a.To)
	}
	switch {
	case a.ToExecutive != "":
		x, ok := e.executives[a.ToExecutive]
		if !ok || !x.Active {
			return queue.Errorf(queue.CodeInvalid, "transfer.executive_unknown", truncCode(a.ToExecutive))
		}
		if a.ToExecutive == a.Executive {
			return queue.Errorf(queue.CodeConflict, "transfer.same_target")
		}
		if _, ok := e.sessions[a.ToExecutive]; !ok {
			return queue.Errorf(queue.CodeConflict, "transfer.executive_offline", x.Name)
		}
	case a.ToCounter != 0:
		if !e.HasCounter(a.ToCounter) {
			return queue.Errorf(queue.CodeInvalid, "counter.unknown", a.ToCounter)
		}
		s, ok := e.atCounter[a.ToCounter]
		if !ok {
			return queue.Errorf(queue.CodeConflict, "transfer.counter_empty", a.ToCounter)
		}
		if a.Executive != "" && s.Executive == a.Executive {
			return queue.Errorf(queue.CodeConflict, "transfer.same_target")
		}
	}
	return nil
}
