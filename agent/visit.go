package agent

import "time"

// WalkIn is an executive's request to serve a customer who has no ticket, at
// his counter. RUT and Name are optional (plain here; the store encrypts them).
type WalkIn struct {
	Counter  int
	Service  string
	Priority string
	RUT      string
	Name     string
}

// Customer is the customer in front of an executive: his ticket, the name he
// gave (walk-ins) and his masked RUT (12.***.***-5; "" without one), and the
// ticket's history today. Personal data: only for the executive holding the
// ticket.
type Customer struct {
	Ticket    TicketInfo
	Name      string
	RUTMasked string
	History   []VisitEvent
	// Note is the booking's note for the executive and Start its slot, when
	// the ticket is a booked appointment's (docs/appointments.md).
	Note  string
	Start time.Time
}

// VisitEvent is one event of a ticket's history today.
type VisitEvent struct {
	Type      string
	At        time.Time
	Service   string
	Counter   int
	Executive string
	// Detail is the event's note: an out-of-order call's reason, a park's
	// note, a transfer's target, the outcome codes.
	Detail string
}
