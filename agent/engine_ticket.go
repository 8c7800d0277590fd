package agent

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// IssueRequest asks for a ticket. RUTHash, RUTEnc and RUTSealed are computed
// by the store (the box's own keyed hash and AES-GCM, kept on the box; the RUT
// sealed to the cloud's public key, sent on ticket.issued); the engine never
// sees a plain RUT.
type IssueRequest struct {
	Service   string
	Priority  queue.PriorityClass
	RUTHash   string
	RUTEnc    []byte
	RUTSealed string
	// PhoneSealed is the customer's mobile number sealed to the cloud's key.
	PhoneSealed string
	Channel     string
}

// Issue gives a ticket the next number of its service today and queues it.
//
// Outside opening hours (see Schedule) it refuses and changes nothing.
//
// Errors: invalid service.unknown, priority.invalid; conflict branch.closed,
// branch.holiday, service.closed_for_today.
func (e *Engine) Issue(now time.Time, r IssueRequest) (Ticket, Change, error) {
	var ch Change
	s, ok := e.services[r.Service]
	if !ok {
		return Ticket{}, ch, queue.Errorf(queue.CodeInvalid, "service.unknown", r.Service)
	}
	if s.draining != nil {
		return Ticket{}, ch, queue.Errorf(queue.CodeConflict, "service.draining", r.Service, s.Name)
	}
	if err := e.IssueRefusal(s.Service, now); err != nil {
		return Ticket{}, ch, err
	}
	if r.Priority == "" {
		r.Priority = queue.Normal
	}
	if _, err := queue.ParsePriorityClass(string(r.Priority)); err != nil {
		return Ticket{}, ch, err
	}
	if r.Channel == "" {
		r.Channel = "kiosk"
	}
	var ch2 Change
	snap, _ := e.issue(now, issue{Service: s, Priority: r.Priority, Channel: r.Channel, RUTHash: r.RUTHash, RUTEnc: r.RUTEnc,
		RUTSealed: r.RUTSealed, PhoneSealed: r.PhoneSealed}, &ch2)
	return snap, ch2, nil
}

// issue is a ticket to give: Issue's request after its checks, or an
// appointment's or a remote join's (engine_appointment.go, engine_remote.go).
type issue struct {
	Service                *serviceState
	Priority               queue.PriorityClass
	Channel                string
	RUTHash                string
	RUTEnc                 []byte
	RUTSealed, PhoneSealed string
	// Token is the link token to keep ("" makes one).
	Token string
	// Appointment and Due: a checked-in booking's ticket; Join, Code and
	// RUTCheck: an unchecked remote ticket.
	Appointment    string
	Due            time.Time
	Join           string
	Code, RUTCheck string
}

// issue gives r's ticket the next number of its service today, queues it and
// emits ticket.issued into ch.
func (e *Engine) issue(now time.Time, r issue, ch *Change) (Ticket, event.Issued) {
	s := r.Service
	s.last++
	now = now.UTC()
	tok := r.Token
	if tok == "" {
		tok = e.newToken()
	}
	t := &Ticket{
		ID: e.newID(), Day: e.day, OriginService: s.Code, Number: s.last, Service: s.Code,
		Priority: r.Priority, Status: queue.StatusWaiting, RUTHash: r.RUTHash, RUTEnc: r.RUTEnc,
		Token: tok, Channel: r.Channel, QueuedAt: now, CreatedAt: now,
		Appointment: r.Appointment, Due: r.Due.UTC(), Join: r.Join, Unchecked: r.Join != "", Code: r.Code, RUTCheck: r.RUTCheck,
	}
	if r.Due.IsZero() {
		t.Due = time.Time{}
	}
	e.open[t.ID] = t
	e.reindex(t, "", "")
	e.touch()
	pos := e.positionIn(s, t.ID, now)
	// Already within the pre-notice threshold: the confirmation says so, no
	// separate come-back notice.
	t.Near = pos-1 <= e.preNotice(s.Code)
	est := e.Estimate(s.Code, pos)
	t.QuotedTypical, t.QuotedUpper = est.TypicalS, est.UpperS
	snap := *t
	ch.Numbering = append(ch.Numbering, Numbering{Day: e.day, Service: s.Code, Last: s.last})
	ch.Tickets = append(ch.Tickets, snap)
	iss := event.Issued{
		TicketRef: snap.ref(), Priority: string(snap.Priority), QueuedAt: now, Position: pos,
		QuotedTypical: est.TypicalS, QuotedUpper: est.UpperS, Token: snap.Token, RUTSealed: r.RUTSealed,
		PhoneSealed: r.PhoneSealed, Channel: snap.Channel, Appointment: snap.Appointment, Due: snap.Due, Join: snap.Join,
	}
	from := len(ch.Events)
	ch.emit(event.TicketIssued, now, iss, &snap, nil)
	actor := &event.Actor{Kind: event.ActorKiosk}
	switch {
	case snap.Join != "":
		actor = &event.Actor{Kind: event.ActorSystem, Request: snap.Join}
		if snap.Channel == event.ActorTelegram {
			actor.Kind = event.ActorTelegram
		}
	case snap.Channel == event.ActorTelegram:
		actor.Kind = event.ActorTelegram
	}
	ch.By(actor, from)
	return snap, iss
}

// Act is an executive's action on a ticket.
type Act struct {
	Ticket string
	Action queue.Action
	// Executive is who acts; "" for the branch itself (commands).
	Executive string
	// Outcome is the optional outcome code of complete.
	Outcome string
	// To, KeepArrival and First are transfer's target service, whether the
	// ticket keeps its arrival time (else it queues as arriving now), and whether
	// it goes ahead of everyone.
	To          string
	KeepArrival bool
	First       bool
	// ToCounter or ToExecutive target a transfer at a counter or a named
	// executive (To may then be empty: the ticket stays in its service).
	ToCounter   int
	ToExecutive string
	// Outcomes are complete's outcome codes (Outcome, if set, goes first).
	Outcomes []string
	// Reason is park's optional note.
	Reason string
	// By and Request say who cancelled (customer, executive, telegram) and the
	// cloud command's ID.
	By      string
	Request string
	// Actor names who acts in the events; nil derives it: the executive at
	// his counter, else the system.
	Actor *event.Actor
}

// Apply applies an action to an open ticket. Only the executive holding a
// called or serving ticket may act on it; a waiting ticket may be cancelled or
// transferred only by an executive who serves its service (the branch itself
// may always).
//
// Errors: not_found ticket.not_found; conflict ticket.illegal_transition,
// ticket.recall_limit, transfer.same_service; forbidden ticket.not_yours,
// ticket.not_your_service; invalid service.unknown, ticket.outcome_invalid.
func (e *Engine) Apply(now time.Time, a Act) (Ticket, Change, error) {
	var ch Change
	now = now.UTC()
	t, ok := e.open[a.Ticket]
	if !ok {
		return Ticket{}, ch, queue.Errorf(queue.CodeNotFound, "ticket.not_found", a.Ticket)
	}
	to, err := queue.Transition(t.Status, a.Action)
	if err != nil {
		return Ticket{}, ch, err
	}
	held := t.Status == queue.StatusCalled || t.Status == queue.StatusServing || t.Status == queue.StatusParked
	if a.Executive != "" && held && t.Executive != a.Executive {
		return Ticket{}, ch, queue.Errorf(queue.CodeForbidden, "ticket.not_yours", t.Display())
	}
	if a.Executive != "" && t.Status == queue.StatusWaiting && !e.mayTake(a.Executive, t) {
		return Ticket{}, ch, queue.Errorf(queue.CodeForbidden, "ticket.not_your_service", t.Display(), t.Service)
	}
	var outcomes []string
	var unparkAt int
	switch a.Action {
	case queue.ActionRecall:
		if t.Recalls >= e.rules.RecallLimit {
			return Ticket{}, ch, queue.Errorf(queue.CodeConflict, "ticket.recall_limit", t.Display(), e.rules.RecallLimit)
		}
	case queue.ActionComplete:
		codes := a.Outcomes
		if a.Outcome != "" {
			codes = append([]string{a.Outcome}, codes...)
		}
		if outcomes, err = e.checkOutcomes(codes); err != nil {
			return Ticket{}, ch, err
		}
	case queue.ActionTransfer:
		if err := e.checkTransfer(t, &a); err != nil {
			return Ticket{}, ch, err
		}
	case queue.ActionPark:
		if !queue.ValidText(a.Reason, MaxCallReason) {
			return Ticket{}, ch, queue.Errorf(queue.CodeInvalid, "text.invalid", "reason", MaxCallReason)
		}
	case queue.ActionUnpark:
		if a.Executive == "" {
			return Ticket{}, ch, queue.Errorf(queue.CodeConflict, "ticket.illegal_transition", a.Action, t.Status)
		}
		s, err := e.caller(a.Executive, e.counterOf(a.Executive))
		if err != nil {
			return Ticket{}, ch, err
		}
		unparkAt = s.Counter
	case queue.ActionCall, queue.ActionAbandon:
		// Calls go through CallNext and abandons through the day close.
		return Ticket{}, ch, queue.Errorf(queue.CodeConflict, "ticket.illegal_transition", a.Action, t.Status)
	}
	holder := t.Executive
	ref := t.ref() // where it was, before the change
	oldStatus, oldService := t.Status, t.Service
	t.Status = to
	var typ event.Type
	var data any
	switch a.Action {
	case queue.ActionRecall:
		t.Recalls++
		t.RecalledAt = now
		typ, data = event.TicketRecalled, event.Called{TicketRef: t.ref(), ExecutiveName: e.execName(t.Executive), Recall: t.Recalls}
	case queue.ActionStart:
		t.StartedAt = now
		typ, data = event.TicketStarted, t.ref()
	case queue.ActionComplete:
		t.Outcome = strings.Join(outcomes, ",")
		t.EndedAt = now
		e.observe(t, now, &ch)
		c := event.Completed{TicketRef: t.ref()}
		if len(outcomes) > 0 {
			c.Outcome = outcomes[0]
		}
		if len(outcomes) > 1 {
			c.Outcomes = outcomes
		}
		typ, data = event.TicketCompleted, c
	case queue.ActionPark:
		typ, data = event.TicketParked, event.Parked{TicketRef: t.ref(), Reason: a.Reason}
	case queue.ActionUnpark:
		t.Counter = unparkAt
		t.CalledAt, t.RecalledAt, t.Recalls = now, time.Time{}, 0
		typ, data = event.TicketUnparked, event.Called{TicketRef: t.ref(), ExecutiveName: e.execName(t.Executive)}
	case queue.ActionNoShow:
		t.EndedAt = now
		typ, data = event.TicketNoShow, t.ref()
	case queue.ActionRequeue:
		t.Counter, t.Executive = 0, ""
		typ, data = event.TicketRequeued, ref
	case queue.ActionTransfer:
		from := t.Service
		t.Service = a.To
		t.Counter, t.Executive = 0, ""
		if !a.KeepArrival {
			t.QueuedAt = now
		}
		t.FirstInLine = a.First
		t.Recalls = 0
		t.Due = time.Time{} // in its new queue it waits as a walk-in
		t.TargetCounter, t.TargetExecutive = a.ToCounter, a.ToExecutive
		ref.Service = from
		var toName string
		if s, ok := e.Service(a.To); ok {
			toName = s.Name
		}
		typ, data = event.TicketTransferred, event.Transferred{TicketRef: ref, To: a.To, ToName: toName, QueuedAt: t.QueuedAt,
			First: a.First, ToCounter: a.ToCounter, ToExecutive: a.ToExecutive, ToExecutiveName: e.execName(a.ToExecutive)}
	case queue.ActionCancel:
		t.EndedAt = now
		by := a.By
		if by == "" {
			by = "executive"
		}
		typ, data = event.TicketCancelled, event.Cancelled{TicketRef: ref, By: by, Request: a.Request}
	}
	e.reindex(t, oldStatus, oldService)
	if t.Status.Final() {
		delete(e.open, t.ID)
	}
	e.touch()
	switch d := data.(type) {
	case event.Transferred: // its place in the new queue
		d.Place = e.place(t, now)
		data = d
	case event.TicketRef:
		if typ == event.TicketRequeued {
			d.Place = e.place(t, now)
			data = d
		}
	}
	snap := *t
	ch.Tickets = append(ch.Tickets, snap)
	var ex *ExecutiveState
	if holder != "" {
		ex = e.execState(holder)
	}
	ch.emit(typ, now, data, &snap, ex)
	actor := a.Actor
	if actor == nil && a.Executive != "" {
		actor = e.executiveActor(a.Executive)
	}
	if actor == nil {
		actor = SystemActor()
	}
	ch.By(actor, 0)
	if oldStatus == queue.StatusWaiting || t.Status == queue.StatusWaiting {
		e.nearing(now, &ch, oldService, t.Service)
	}
	return snap, ch, nil
}

// serves reports whether executive id serves service code.
func (e *Engine) serves(id, code string) bool {
	x, ok := e.executives[id]
	return ok && slices.Contains(e.servicesToday(x), code)
}

func (e *Engine) execName(id string) string {
	if x, ok := e.executives[id]; ok {
		return x.Name
	}
	return ""
}

// observe feeds a completed visit into its service's rolling mean.
func (e *Engine) observe(t *Ticket, now time.Time, ch *Change) {
	s, ok := e.services[t.Service]
	if !ok {
		return
	}
	begin := t.StartedAt
	if begin.IsZero() {
		begin = t.CalledAt
	}
	if begin.IsZero() {
		return
	}
	d := min(max(now.Sub(begin), minService), maxService)
	s.mean = (1-meanAlpha)*s.mean + meanAlpha*d.Seconds()
	ch.meta(metaMean(s.Code), fmtFloat(s.mean))
}

// Locate answers the cloud's ticket.locate command (a customer linked his
// chat to the ticket after its last relayed figure): ticket.placed with where
// the waiting ticket stands now. Nothing else changes.
//
// Errors: not_found ticket.not_found; conflict ticket.not_waiting.
func (e *Engine) Locate(now time.Time, ticket, request string) (Change, error) {
	var ch Change
	t, ok := e.open[ticket]
	if !ok {
		return ch, queue.Errorf(queue.CodeNotFound, "ticket.not_found", ticket)
	}
	if t.Status != queue.StatusWaiting {
		return ch, queue.Errorf(queue.CodeConflict, "ticket.not_waiting", t.Display(), t.Status)
	}
	snap := *t
	ref := snap.ref()
	ref.Place = e.place(t, now)
	ref.Actor = SystemActor()
	ch.emit(event.TicketPlaced, now, event.Placed{TicketRef: ref, Request: request}, &snap, nil)
	return ch, nil
}

// CancelByCommand applies the cloud's cancel command (a customer's Telegram
// cancel) to an open ticket: a waiting ticket is cancelled; a called one is put
// back and cancelled (the status machine has no called → cancelled).
//
// Errors: as Apply.
func (e *Engine) CancelByCommand(now time.Time, ticket, request string) (Ticket, Change, error) {
	var ch Change
	t, ok := e.open[ticket]
	if !ok {
		return Ticket{}, ch, queue.Errorf(queue.CodeNotFound, "ticket.not_found", ticket)
	}
	actor := &event.Actor{Kind: event.ActorTelegram, Request: request}
	if t.Status == queue.StatusCalled {
		_, c, err := e.Apply(now, Act{Ticket: ticket, Action: queue.ActionRequeue, Actor: actor})
		if err != nil {
			return Ticket{}, ch, err
		}
		ch.Merge(c)
	}
	snap, c, err := e.Apply(now, Act{Ticket: ticket, Action: queue.ActionCancel, By: "telegram", Request: request, Actor: actor})
	if err != nil {
		return Ticket{}, ch, err
	}
	ch.Merge(c)
	return snap, ch, nil
}

// Roll closes the business day when it is over: at its closing time plus
// the grace when the branch has hours that day, else at midnight. Every open
// ticket is abandoned (an event each) and day.closed is emitted; at midnight
// numbering and streaks restart. A day closed early is not closed again at
// midnight (unless tickets were issued after it closed, when HQ extended the
// hours). It returns an empty change when nothing is due.
func (e *Engine) Roll(now time.Time) Change {
	var ch Change
	today := e.BusinessDay(now)
	if e.day == "" {
		e.day = today
		ch.meta(MetaDay, today)
		return ch
	}
	if today == e.day {
		if e.closed || e.sched == nil {
			return ch
		}
		end, ok := e.sched.DayEnd(e.day, e.loc)
		if !ok {
			return ch
		}
		if since := e.hoursSince.Add(e.sched.grace); e.BusinessDay(e.hoursSince) == e.day && since.After(end) {
			end = since // hours that arrived after the day's end: the waiting are served a grace more
		}
		if now.Before(end) {
			return ch
		}
		e.closeDay(now, &ch)
		e.closed = true
		ch.meta(MetaDayClosed, e.day)
		e.touch()
		return ch
	}
	if !e.closed || len(e.open) > 0 {
		e.closeDay(now, &ch)
	}
	for _, s := range e.services {
		s.last = 0
		if s.streak != 0 {
			s.streak = 0
			ch.meta(metaStreak(s.Code), "0")
		}
		if s.run != 0 {
			s.run = 0
			ch.meta(metaRun(s.Code), "0")
		}
	}
	e.day, e.closed = today, false
	e.missAppointments(now, &ch, "", false) // bookings of the days gone
	e.forgetAppointments()
	ch.meta(MetaDay, today)
	e.touch()
	return ch
}

// closeDay abandons every open ticket and emits day.closed for e.day.
func (e *Engine) closeDay(now time.Time, ch *Change) {
	now = now.UTC()
	abandoned := 0
	for _, t := range e.Open() {
		tk := e.open[t.ID]
		holder := tk.Executive
		tk.Status = queue.StatusAbandoned
		tk.EndedAt = now
		delete(e.open, tk.ID)
		delete(e.active, tk.ID)
		snap := *tk
		ch.Tickets = append(ch.Tickets, snap)
		var ex *ExecutiveState
		if holder != "" {
			ex = e.execState(holder)
		}
		ch.emit(event.TicketAbandoned, now, snap.ref(), &snap, ex)
		abandoned++
	}
	e.wait, e.active = map[string][]*Ticket{}, map[string]*Ticket{}
	for _, c := range slices.Clone(e.drainCodes) {
		e.dropDrained(c) // nobody is left in a removed service
	}
	e.missAppointments(now, ch, e.day, true) // nobody can check in any more
	ch.emit(event.DayClosed, now, event.Day{Day: e.day, Abandoned: abandoned}, nil, nil)
}

func itoa(n int) string { return strconv.Itoa(n) }

// positionIn is the place (1 = next) of waiting ticket id in service s's
// calling order now; 0 if it is not waiting there.
func (e *Engine) positionIn(s *serviceState, id string, now time.Time) int {
	var extra *Ticket
	if t, ok := e.open[id]; ok && t.Unchecked {
		extra = t // where it would stand were its customer here
	}
	l := e.lanesWith(s.Code, now, extra)
	c := e.state(s)
	for i := 1; ; i++ {
		t := l.pick(&c)
		if t == nil {
			return 0
		}
		if t.ID == id {
			return i
		}
	}
}

// place is where waiting ticket t stands now in its service, with the
// estimate quoted for that position.
func (e *Engine) place(t *Ticket, now time.Time) *event.Place {
	s, ok := e.services[t.Service]
	if !ok || t.Status != queue.StatusWaiting {
		return nil
	}
	pos := e.positionIn(s, t.ID, now)
	est := e.Estimate(t.Service, pos)
	if t.Targeted() { // one counter or executive calls it
		pos = e.targetedPosition(t)
		typical := int(float64(pos) * s.mean)
		est = Estimate{TypicalS: typical, UpperS: typical + int(s.mean)}
	}
	return &event.Place{Position: pos, TypicalS: est.TypicalS, UpperS: est.UpperS}
}

// preNotice is the people-ahead threshold of the come-back notice of a
// service: HQ's per-service override, else the branch's.
func (e *Engine) preNotice(code string) int {
	if n, ok := e.rules.PreNoticeByService[code]; ok {
		return n
	}
	return e.rules.PreNoticeAhead
}

// nearing emits ticket.near, once per ticket, for each waiting ticket of the
// given services whose people ahead are now at most the pre-notice threshold.
// It runs after every change of those queues; a queue that only ages (a ticket
// becoming overdue) is looked at on its next change.
func (e *Engine) nearing(now time.Time, ch *Change, codes ...string) {
	seen := map[string]bool{}
	for _, code := range codes {
		s, ok := e.services[code]
		if !ok || seen[code] {
			continue
		}
		seen[code] = true
		th := e.preNotice(code)
		for i, t := range e.order(s, now) {
			if i > th {
				break
			}
			if t.Near {
				continue
			}
			t.Near = true
			est := e.Estimate(code, i+1)
			snap := *t
			ref := snap.ref()
			ref.Place = &event.Place{Position: i + 1, TypicalS: est.TypicalS, UpperS: est.UpperS}
			ref.Actor = SystemActor() // the branch decided, whoever's action moved the queue
			ch.Tickets = append(ch.Tickets, snap)
			ch.emit(event.TicketNear, now, event.Near{TicketRef: ref, Threshold: th}, &snap, nil)
		}
	}
}
