package event

import (
	"time"

	"github.com/ticketero/ticketero/shared/queue"
)

// Appointments and the virtual queue (docs/appointments.md).
//
// The cloud owns the book: capacity, slots and bookings live in PostgreSQL,
// where two customers racing for one slot meet one row lock. The branch owns
// the queue: it learns of each booking by a command (appointment.book, sent
// again by the cloud until the branch answers appointment.received or
// appointment.declined), issues the ticket when the customer checks in, and
// decides where that ticket stands. A remote join (ticket.join) is answered by
// ticket.issued with Join set, or ticket.join_refused: the branch alone gives
// numbers. Every answer is an outbox event, so its effect is exactly once
// however often the command arrives.

// Appointment events.
const (
	// AppointmentReceived says the branch holds the appointment (first booking
	// or a reschedule with a higher Rev): it will check its customer in.
	AppointmentReceived Type = "appointment.received"
	// AppointmentDeclined says the branch cannot honour the appointment
	// (Reason: one of the Decline* codes); the cloud tells the customer.
	AppointmentDeclined Type = "appointment.declined"
	// AppointmentCancelled says the appointment is off the branch's book (the
	// cloud's appointment.cancel, or staff at the branch).
	AppointmentCancelled Type = "appointment.cancelled"
	// AppointmentCheckedIn says the customer arrived and got Ticket (the
	// ticket.issued with Appointment set comes first in the same transaction).
	AppointmentCheckedIn Type = "appointment.checked_in"
	// AppointmentMissed says the check-in window closed with no customer.
	AppointmentMissed Type = "appointment.missed"
)

// Remote ticket events.
const (
	// TicketCheckedIn says a remote ticket's customer is at the branch (code or
	// RUT at the kiosk, or the branch's QR through the cloud's ticket.check_in).
	TicketCheckedIn Type = "ticket.checked_in"
	// TicketSlid says an unchecked remote ticket reached the front of its queue
	// and was moved back (its Place) instead of called; it holds a place until
	// HoldUntil.
	TicketSlid Type = "ticket.slid"
	// TicketExpired says an unchecked remote ticket's hold ran out: it leaves
	// the queue as a no-show.
	TicketExpired Type = "ticket.expired"
	// JoinRefused answers a ticket.join the branch did not honour (Reason: one
	// of the Refuse* codes).
	JoinRefused Type = "ticket.join_refused"
)

// Channels a ticket can come from (Issued.Channel). Older values: "kiosk",
// "api", "telegram", "counter".
const (
	ChannelWeb         = "web"
	ChannelAppointment = "appointment"
)

// Decline codes of appointment.declined (stable: the cloud maps them to texts).
const (
	DeclineSlotPassed     = "slot_passed"     // it reached the branch after its check-in window closed
	DeclineServiceUnknown = "service_unknown" // the branch does not run the service
	DeclineDayClosed      = "day_closed"      // its day is closed at the branch
	DeclineInvalid        = "invalid"         // the order failed validation
)

// Refuse codes of ticket.join_refused.
const (
	RefuseClosed   = "closed"   // the branch or the service is closed now
	RefuseNotOpen  = "not_open" // remote joining is not open for the service
	RefuseCapacity = "capacity" // the service's cap of unchecked remote tickets is reached
	RefuseUnknown  = "unknown"  // the branch does not run the service
	RefuseInvalid  = "invalid"  // the order failed validation
)

// AppointmentRef names an appointment in its events.
type AppointmentRef struct {
	// Appointment is the cloud's ID of the booking.
	Appointment string `json:"appointment"`
	// Rev is the booking's revision the branch holds (a reschedule raises it).
	Rev     int       `json:"rev"`
	Service string    `json:"service"`
	Day     string    `json:"day"`
	Start   time.Time `json:"start"`
	// Request is the ID of the cloud command this event answers, if any.
	Request string `json:"request,omitempty"`
	Actor   *Actor `json:"actor,omitempty"`
}

// AppointmentDecline is appointment.declined.
type AppointmentDecline struct {
	AppointmentRef
	Reason string `json:"reason"`
}

// AppointmentCancel is appointment.cancelled; By is "customer" (the cloud's
// command) or "branch".
type AppointmentCancel struct {
	AppointmentRef
	By string `json:"by,omitempty"`
}

// AppointmentCheckIn is appointment.checked_in: the customer arrived (Late: after the
// grace, so his ticket waits as a walk-in) and was given Ticket.
type AppointmentCheckIn struct {
	AppointmentRef
	Ticket  string `json:"ticket"`
	Printed string `json:"printed"`
	Late    bool   `json:"late,omitempty"`
	// By is how he checked in: "rut" or "code" at the kiosk.
	By string `json:"by,omitempty"`
}

// CheckedIn is ticket.checked_in: a remote ticket's customer is present, and
// his ticket's Place now.
type CheckedIn struct {
	TicketRef
	// By is "code" or "rut" (kiosk) or "qr" (the cloud's ticket.check_in).
	By      string `json:"by,omitempty"`
	Request string `json:"request,omitempty"`
}

// Slid is ticket.slid.
type Slid struct {
	TicketRef
	HoldUntil time.Time `json:"hold_until"`
	// Slides counts the times the ticket slid back.
	Slides int `json:"slides"`
}

// JoinRefusal is ticket.join_refused.
type JoinRefusal struct {
	Request string `json:"request"`
	Service string `json:"service"`
	Reason  string `json:"reason"`
}

// Command kinds of appointments and the virtual queue (Command.Type).
const (
	// CommandBookAppointment books (or, with a higher Rev, reschedules) an
	// appointment at the branch: Command.Appointment.
	CommandBookAppointment = "appointment.book"
	// CommandCancelAppointment cancels one: Command.Appointment (ID, Rev).
	CommandCancelAppointment = "appointment.cancel"
	// CommandJoinQueue asks the branch for a remote ticket: Command.Join.
	CommandJoinQueue = "ticket.join"
	// CommandCheckIn checks a remote ticket in (the branch's QR scanned on the
	// customer's phone): Command.Ticket.
	CommandCheckIn = "ticket.check_in"
)

// AppointmentOrder is a booking as the cloud sends it to the branch.
type AppointmentOrder struct {
	Appointment string    `json:"appointment"`
	Rev         int       `json:"rev"`
	Service     string    `json:"service"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	// Code is the check-in code shown to the customer: 6 digits, unique per
	// branch and day.
	Code string `json:"code"`
	// RUTCheck is seal.CheckInHash(branch, day, rut): the kiosk checks a typed
	// RUT against it with no RUT on the box.
	RUTCheck string `json:"rut_check,omitempty"`
	// Note is the customer's note for the executive (validated free text, at
	// most queue.MaxText).
	Note string `json:"note,omitempty"`
	// Token links the customer's Telegram chat to the ticket issued at check-in.
	Token string `json:"token,omitempty"`
	// RUTSealed is the customer's RUT sealed to the cloud's key (as
	// Issued.RUTSealed), carried onto the ticket at check-in.
	RUTSealed string `json:"rut_sealed,omitempty"`
}

// JoinOrder is a remote join as the cloud sends it to the branch.
type JoinOrder struct {
	Service  string `json:"service"`
	Priority string `json:"priority,omitempty"`
	// Channel is ChannelWeb or "telegram".
	Channel  string `json:"channel"`
	Code     string `json:"code"`
	RUTCheck string `json:"rut_check,omitempty"`
	Token    string `json:"token,omitempty"`
	// RUTSealed as AppointmentOrder.RUTSealed.
	RUTSealed string `json:"rut_sealed,omitempty"`
}

// Validate checks an order's fields the branch relies on.
func (o AppointmentOrder) Validate() error {
	switch {
	case o.Appointment == "" || len(o.Appointment) > 64:
		return reject(RejectEvent, "appointment id %q", o.Appointment)
	case !queue.ValidServiceCode(o.Service):
		return reject(RejectEvent, "appointment service %q", o.Service)
	case o.Start.IsZero() || !o.End.After(o.Start):
		return reject(RejectEvent, "appointment slot %s-%s", o.Start, o.End)
	case !ValidCheckInCode(o.Code):
		return reject(RejectEvent, "appointment code")
	case !queue.ValidText(o.Note, queue.MaxText):
		return reject(RejectEvent, "appointment note is not valid text")
	}
	return nil
}

// Validate checks a join order's fields the branch relies on.
func (o JoinOrder) Validate() error {
	switch {
	case !queue.ValidServiceCode(o.Service):
		return reject(RejectEvent, "join service %q", o.Service)
	case !ValidCheckInCode(o.Code):
		return reject(RejectEvent, "join code")
	}
	if _, err := queue.ParsePriorityClass(o.Priority); err != nil {
		return reject(RejectEvent, "join priority %q", o.Priority)
	}
	return nil
}

// ValidCheckInCode reports whether c is a check-in code: six ASCII digits.
func ValidCheckInCode(c string) bool {
	if len(c) != 6 {
		return false
	}
	for i := 0; i < len(c); i++ {
		if c[i] < '0' || c[i] > '9' {
			return false
		}
	}
	return true
}

// AppointmentRules are a branch's rules for appointments and remote tickets
// (Rules.Appointments; additive). Zero fields take the defaults below.
type AppointmentRules struct {
	// EarlyMin: check-in opens this long before the slot (default 30).
	EarlyMin int `json:"early_min,omitempty"`
	// GraceMin: a customer who checks in later than start+GraceMin waits as a
	// walk-in from his arrival (default 10); the window closes then too,
	// unless he checks in late (appointment.missed at start+GraceMin+60).
	GraceMin int `json:"grace_min,omitempty"`
	// RunMax: at most this many due appointments are called in a row for a
	// service while a walk-in of it waits (default 2); then one walk-in.
	RunMax int `json:"run_max,omitempty"`
	// Remote is, per service code, whether remote joining is open and its cap
	// of unchecked remote tickets waiting at once (0: no cap).
	Remote map[string]RemoteRule `json:"remote,omitempty"`
	// HoldMin: how long an unchecked remote ticket that reached the front
	// holds a place, sliding back, before it expires (default 15).
	HoldMin int `json:"hold_min,omitempty"`
	// SlideBy: how many places it slides back each time (default 3).
	SlideBy int `json:"slide_by,omitempty"`
}

// RemoteRule is one service's remote-joining rule.
type RemoteRule struct {
	Open bool `json:"open"`
	Cap  int  `json:"cap,omitempty"`
}

// Defaults of AppointmentRules.
const (
	DefaultEarlyMin = 30
	DefaultGraceMin = 10
	DefaultRunMax   = 2
	DefaultHoldMin  = 15
	DefaultSlideBy  = 3
)

// WithDefaults fills zero fields with the defaults.
func (r AppointmentRules) WithDefaults() AppointmentRules {
	if r.EarlyMin <= 0 {
		r.EarlyMin = DefaultEarlyMin
	}
	if r.GraceMin <= 0 {
		r.GraceMin = DefaultGraceMin
	}
	if r.RunMax <= 0 {
		r.RunMax = DefaultRunMax
	}
	if r.HoldMin <= 0 {
		r.HoldMin = DefaultHoldMin
	}
	if r.SlideBy <= 0 {
		r.SlideBy = DefaultSlideBy
	}
	return r
}
