package agent

import (
	"sort"
	"strconv"
	"time"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// Appointments (docs/appointments.md). The cloud owns the book and sends
// each booking by command (appointment.book, appointment.cancel); the
// engine holds the bookings, answers each command with an event, checks
// customers in at the kiosk (a ticket with Due = the slot's start) and marks
// the ones nobody came for as missed. The calling rule's part is in
// engine_call.go (pick).

// Appointment statuses.
const (
	ApptReceived  = "received"
	ApptCancelled = "cancelled"
	ApptCheckedIn = "checked_in"
	ApptMissed    = "missed"
)

// MissedAfter is how long after the grace a booking nobody checked in for is
// missed (appointment.missed at start + GraceMin + MissedAfter).
const MissedAfter = 60 * time.Minute

// Appointment is a booking the branch holds.
type Appointment struct {
	ID      string
	Rev     int
	Service string
	Day     string // business day of Start
	Start   time.Time
	End     time.Time
	// Code is the 6-digit check-in code; RUTCheck seal.CheckInHash of the
	// customer's RUT (no RUT on the box).
	Code     string
	RUTCheck string
	Note     string
	// Token and RUTSealed are carried onto the ticket at check-in.
	Token     string
	RUTSealed string
	Status    string
	// Ticket is the ticket issued at check-in; Late says it came after the
	// grace (an ordinary walk-in ticket).
	Ticket    string
	Late      bool
	UpdatedAt time.Time
}

func (a *Appointment) ref(request string) event.AppointmentRef {
	return event.AppointmentRef{Appointment: a.ID, Rev: a.Rev, Service: a.Service, Day: a.Day, Start: a.Start.UTC(),
		Request: request}
}

// apptRules are the appointment rules in force, defaults filled.
func (e *Engine) apptRules() event.AppointmentRules { return e.rules.Appointments.WithDefaults() }

// Appointment returns a booking the branch holds.
func (e *Engine) Appointment(id string) (Appointment, bool) {
	a, ok := e.appts[id]
	if !ok {
		return Appointment{}, false
	}
	return *a, true
}

// Appointments returns the bookings of day (any status), by start.
func (e *Engine) Appointments(day string) []Appointment {
	var out []Appointment
	for _, a := range e.appts {
		if a.Day == day {
			out = append(out, *a)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// commandActor names the cloud's command as the actor of its answer.
func commandActor(request string) *event.Actor {
	return &event.Actor{Kind: event.ActorSystem, Request: request}
}

// BookAppointment applies the cloud's appointment.book (request: the
// command's ID). A new booking, or a known one with a higher Rev (a
// reschedule), is held and answered appointment.received; one the branch
// cannot honour is answered appointment.declined with a Decline* code: its
// check-in window closed already (start + grace), the branch does not run its
// service, its day is closed (the business day ended, a holiday or a day
// without hours, or the manager closed the service today), or it is
// invalid. A Rev at or below the one held is answered with what the branch
// holds (received, or cancelled). The result string is recorded with the
// command.
func (e *Engine) BookAppointment(now time.Time, o *event.AppointmentOrder, request string) (Change, string) {
	var ch Change
	now = now.UTC()
	decline := func(ref event.AppointmentRef, reason string) (Change, string) {
		ref.Request, ref.Actor = request, commandActor(request)
		ch.emit(event.AppointmentDeclined, now, event.AppointmentDecline{AppointmentRef: ref, Reason: reason}, nil, nil)
		return ch, "declined: " + reason
	}
	if o == nil {
		return decline(event.AppointmentRef{}, event.DeclineInvalid)
	}
	day := e.BusinessDay(o.Start)
	ref := event.AppointmentRef{Appointment: o.Appointment, Rev: o.Rev, Service: o.Service, Day: day, Start: o.Start.UTC()}
	if err := o.Validate(); err != nil || o.Rev < 0 {
		if len(ref.Appointment) > 64 {
			ref.Appointment = ref.Appointment[:64]
		}
		if !queue.ValidServiceCode(ref.Service) {
			ref.Service = ""
		}
		return decline(ref, event.DeclineInvalid)
	}
	if a, ok := e.appts[o.Appointment]; ok && a.Rev >= o.Rev {
		// A repeat under another command ID or a reordered older revision:
		// say what the branch holds.
		typ, data := event.AppointmentReceived, any(a.ref(request))
		if a.Status == ApptCancelled {
			typ, data = event.AppointmentCancelled, event.AppointmentCancel{AppointmentRef: a.ref(request), By: "customer"}
		}
		ch.emit(typ, now, data, nil, nil)
		ch.By(commandActor(request), 0)
		return ch, "held: rev " + strconv.Itoa(a.Rev) + " " + a.Status
	} else if ok && a.Status == ApptCheckedIn {
		return decline(ref, event.DeclineInvalid) // the customer is already here
	}
	svc, ok := e.services[o.Service]
	switch {
	case !ok || svc.draining != nil:
		return decline(ref, event.DeclineServiceUnknown)
	case now.After(o.Start.Add(time.Duration(e.apptRules().GraceMin) * time.Minute)):
		return decline(ref, event.DeclineSlotPassed)
	case day < e.day || day == e.day && e.closed:
		return decline(ref, event.DeclineDayClosed)
	case e.sched != nil && e.sched.Today(o.Start.In(e.loc)) == "":
		return decline(ref, event.DeclineDayClosed) // a holiday or a day without hours
	case day == e.day && e.ClosedToday(o.Service):
		return decline(ref, event.DeclineDayClosed)
	}
	a := &Appointment{ID: o.Appointment, Rev: o.Rev, Service: o.Service, Day: day, Start: o.Start.UTC(), End: o.End.UTC(),
		Code: o.Code, RUTCheck: o.RUTCheck, Note: o.Note, Token: o.Token, RUTSealed: o.RUTSealed, Status: ApptReceived,
		UpdatedAt: now}
	e.appts[a.ID] = a
	ch.Appointments = append(ch.Appointments, *a)
	r := a.ref(request)
	r.Actor = commandActor(request)
	ch.emit(event.AppointmentReceived, now, r, nil, nil)
	return ch, "received: rev " + strconv.Itoa(a.Rev)
}

// CancelAppointment applies the cloud's appointment.cancel: the booking
// leaves the branch's book (appointment.cancelled, By "customer"). A booking
// the branch never received is held as cancelled, so a book command that
// arrives after it does not bring it back. A booking already checked in or
// missed is not changed (its own event settled it); nothing is emitted.
func (e *Engine) CancelAppointment(now time.Time, o *event.AppointmentOrder, request string) (Change, string) {
	var ch Change
	now = now.UTC()
	if o == nil || o.Appointment == "" || len(o.Appointment) > 64 {
		return ch, "invalid"
	}
	a, ok := e.appts[o.Appointment]
	switch {
	case !ok:
		a = &Appointment{ID: o.Appointment, Rev: o.Rev, Service: o.Service, Start: o.Start.UTC(), End: o.End.UTC()}
		if !queue.ValidServiceCode(a.Service) {
			a.Service = ""
		}
		if a.Start.IsZero() {
			a.Start = now
		}
		a.Day = e.BusinessDay(a.Start)
		e.appts[a.ID] = a
	case a.Status == ApptCancelled:
		r := a.ref(request)
		r.Actor = commandActor(request)
		ch.emit(event.AppointmentCancelled, now, event.AppointmentCancel{AppointmentRef: r, By: "customer"}, nil, nil)
		return ch, "already cancelled"
	case a.Status != ApptReceived:
		return ch, "appointment." + a.Status
	}
	a.Status, a.UpdatedAt = ApptCancelled, now
	a.Rev = max(a.Rev, o.Rev)
	ch.Appointments = append(ch.Appointments, *a)
	r := a.ref(request)
	r.Actor = commandActor(request)
	ch.emit(event.AppointmentCancelled, now, event.AppointmentCancel{AppointmentRef: r, By: "customer"}, nil, nil)
	return ch, "cancelled"
}

// CheckIn is a customer checking in at the kiosk: by the 6-digit Code, or by
// RUT (RUTCheck is seal.CheckInHash of it, computed once by the caller;
// RUTHash and RUTEnc the box's own hash and sealed copy for the ticket).
type CheckIn struct {
	Code     string
	RUTCheck string
	RUTHash  string
	RUTEnc   []byte
}

// By is how the customer checked in: "code" or "rut".
func (c CheckIn) By() string {
	if c.Code != "" {
		return "code"
	}
	return "rut"
}

// CheckedIn is what a check-in gave: the ticket (a new one for an
// appointment, the remote ticket itself) and, for an appointment, the
// booking and whether he came late.
type CheckedIn struct {
	Ticket      Ticket
	Appointment *Appointment
	Late        bool
	Position    int
	Estimate    Estimate
}

// TooEarly is the time check-in opens for an appointment, as the argument
// of appointment.too_early ("10:00" branch time).
type TooEarly struct{ At time.Time }

// String is the time as the kiosk shows it.
func (t TooEarly) String() string { return t.At.Format("15:04") }

// CheckIn checks a customer in: a booking of today the branch holds
// (received) whose code or RUT matches gets its ticket (channel appointment,
// due at its start; late after start + grace: an ordinary walk-in ticket
// from now) with appointment.checked_in in the same change; else an
// unchecked remote ticket of today whose code or RUT matches is checked in
// (ticket.checked_in with its place now).
//
// Errors: invalid checkin.invalid (neither code nor RUT); not_found
// checkin.not_found; conflict appointment.too_early (check-in opens
// early_min before the slot), appointment.missed (the window closed),
// branch.closed (the business day ended), service.draining.
func (e *Engine) CheckIn(now time.Time, c CheckIn) (CheckedIn, Change, error) {
	var ch Change
	now = now.UTC()
	if (c.Code == "") == (c.RUTCheck == "") {
		return CheckedIn{}, ch, queue.Errorf(queue.CodeInvalid, "checkin.invalid")
	}
	match := func(code, check string) bool {
		if c.Code != "" {
			return code == c.Code
		}
		return check != "" && check == c.RUTCheck
	}
	rules := e.apptRules()
	grace := time.Duration(rules.GraceMin) * time.Minute
	early := time.Duration(rules.EarlyMin) * time.Minute
	// Of several bookings that match (one customer, two services), the one
	// whose window is open, earliest first; then the ones too early.
	var found, tooEarly, missed *Appointment
	for _, a := range e.Appointments(e.day) {
		if !match(a.Code, a.RUTCheck) {
			continue
		}
		a := e.appts[a.ID]
		switch {
		case a.Status == ApptMissed || a.Status == ApptReceived && !now.Before(a.Start.Add(grace+MissedAfter)):
			if missed == nil {
				missed = a
			}
		case a.Status != ApptReceived:
		case now.Before(a.Start.Add(-early)):
			if tooEarly == nil {
				tooEarly = a
			}
		case found == nil:
			found = a
		}
	}
	if found != nil {
		return e.checkInAppointment(now, found, c)
	}
	for _, t := range e.Open() {
		if t.Unchecked && t.Status == queue.StatusWaiting && t.Day == e.day && match(t.Code, t.RUTCheck) {
			tk, ch, err := e.checkInRemote(now, e.open[t.ID], c.By(), "")
			if err != nil {
				return CheckedIn{}, ch, err
			}
			pos := e.positionIn(e.services[tk.Service], tk.ID, now)
			return CheckedIn{Ticket: tk, Position: pos, Estimate: e.Estimate(tk.Service, pos)}, ch, nil
		}
	}
	switch {
	case tooEarly != nil:
		return CheckedIn{}, ch, queue.Errorf(queue.CodeConflict, "appointment.too_early",
			TooEarly{tooEarly.Start.In(e.loc)}.String(), TooEarly{tooEarly.Start.Add(-early).In(e.loc)}.String())
	case missed != nil:
		return CheckedIn{}, ch, queue.Errorf(queue.CodeConflict, "appointment.missed", TooEarly{missed.Start.In(e.loc)}.String())
	}
	return CheckedIn{}, ch, queue.Errorf(queue.CodeNotFound, "checkin.not_found")
}

// checkInAppointment issues a's ticket.
func (e *Engine) checkInAppointment(now time.Time, a *Appointment, c CheckIn) (CheckedIn, Change, error) {
	var ch Change
	s, ok := e.services[a.Service]
	if !ok {
		return CheckedIn{}, ch, queue.Errorf(queue.CodeNotFound, "checkin.not_found")
	}
	if s.draining != nil {
		return CheckedIn{}, ch, queue.Errorf(queue.CodeConflict, "service.draining", s.Code, s.Name)
	}
	if e.closed {
		if err := e.IssueRefusal(s.Service, now); err != nil {
			return CheckedIn{}, ch, err
		}
		return CheckedIn{}, ch, queue.Errorf(queue.CodeConflict, "branch.closed", Opening{Now: now})
	}
	late := now.After(a.Start.Add(time.Duration(e.apptRules().GraceMin) * time.Minute))
	req := issue{Service: s, Priority: queue.Normal, Channel: event.ChannelAppointment, Token: a.Token,
		RUTHash: c.RUTHash, RUTEnc: c.RUTEnc, RUTSealed: a.RUTSealed, Appointment: a.ID}
	if !late {
		req.Due = a.Start
	}
	t, issued := e.issue(now, req, &ch)
	a.Status, a.Ticket, a.Late, a.UpdatedAt = ApptCheckedIn, t.ID, late, now
	ch.Appointments = append(ch.Appointments, *a)
	r := a.ref("")
	r.Actor = &event.Actor{Kind: event.ActorKiosk}
	ch.emit(event.AppointmentCheckedIn, now, event.AppointmentCheckIn{AppointmentRef: r, Ticket: t.ID, Printed: t.Display(),
		Late: late, By: c.By()}, nil, nil)
	ac := *a
	return CheckedIn{Ticket: t, Appointment: &ac, Late: late, Position: issued.Position,
		Estimate: Estimate{TypicalS: issued.QuotedTypical, UpperS: issued.QuotedUpper}}, ch, nil
}

// missAppointments marks missed the bookings nobody checked in for by
// start + grace + MissedAfter, or all of day's when its business day ended
// (every = true).
func (e *Engine) missAppointments(now time.Time, ch *Change, day string, every bool) {
	grace := time.Duration(e.apptRules().GraceMin) * time.Minute
	var due []*Appointment
	for _, a := range e.appts {
		if a.Status != ApptReceived {
			continue
		}
		if a.Day < e.day || every && a.Day == day || !now.Before(a.Start.Add(grace+MissedAfter)) {
			due = append(due, a)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].Start.Equal(due[j].Start) {
			return due[i].Start.Before(due[j].Start)
		}
		return due[i].ID < due[j].ID
	})
	for _, a := range due {
		a.Status, a.UpdatedAt = ApptMissed, now
		ch.Appointments = append(ch.Appointments, *a)
		r := a.ref("")
		r.Actor = SystemActor()
		ch.emit(event.AppointmentMissed, now, r, nil, nil)
	}
}

// forgetAppointments drops from memory the bookings of days before today
// (the store keeps their rows until retention).
func (e *Engine) forgetAppointments() {
	for id, a := range e.appts {
		if a.Day < e.day && a.Status != ApptReceived {
			delete(e.appts, id)
		}
	}
}
