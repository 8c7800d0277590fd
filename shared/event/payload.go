package event

import "time"

// TicketRef is the payload of transitions that only name the ticket and where it
// happened: started, no_show, requeued, abandoned.
type TicketRef struct {
	Ticket    string `json:"ticket"`
	Service   string `json:"service"`
	Number    int    `json:"number"`
	Day       string `json:"day"`
	Counter   int    `json:"counter,omitempty"`
	Executive string `json:"executive,omitempty"`
	// Actor is who made the change (additive; absent in older events).
	Actor *Actor `json:"actor,omitempty"`
}

// Issued is ticket.issued: a customer took a ticket.
type Issued struct {
	TicketRef
	Priority string `json:"priority"`
	// QueuedAt orders the ticket in its queue (its arrival).
	QueuedAt time.Time `json:"queued_at"`
	// Position and the estimate quoted to the customer at issue (for the
	// quoted-versus-actual audit).
	Position      int `json:"position"`
	QuotedTypical int `json:"quoted_typical_s"`
	QuotedUpper   int `json:"quoted_upper_s"`
	// Token links a Telegram chat to the ticket (opaque, ≤ 64 of A-Za-z0-9_-).
	Token string `json:"token,omitempty"`
	// RUTHash is a keyed hash of the customer's RUT (never the RUT itself), for
	// linking his later tickets to a consenting chat.
	RUTHash string `json:"rut_hash,omitempty"`
	// Channel is where the ticket came from: kiosk, api, telegram.
	Channel string `json:"channel,omitempty"`
}

// Called is ticket.called and ticket.recalled: an executive calls the ticket to
// a counter. Recall counts the calls after the first.
type Called struct {
	TicketRef
	ExecutiveName string `json:"executive_name,omitempty"`
	Recall        int    `json:"recall,omitempty"`
}

// Completed is ticket.completed, with the optional outcome code of the visit.
type Completed struct {
	TicketRef
	Outcome string `json:"outcome,omitempty"`
}

// Transferred is ticket.transferred: the ticket leaves its service (Service) for
// another (To), where it waits again.
type Transferred struct {
	TicketRef
	To string `json:"to"`
	// QueuedAt is the ticket's place in the new queue: the original arrival unless
	// the transfer reset it; First puts it ahead of everyone.
	QueuedAt time.Time `json:"queued_at"`
	First    bool      `json:"first,omitempty"`
}

// Cancelled is ticket.cancelled, saying who cancelled (customer, executive,
// telegram) so a request that came from the cloud is recognised when it returns.
type Cancelled struct {
	TicketRef
	By string `json:"by,omitempty"`
	// Request is the ID of the cloud command that asked for it, if any.
	Request string `json:"request,omitempty"`
}

// Session is an executive session change: login, pause (with Reason), resume,
// logout.
type Session struct {
	Executive string `json:"executive"`
	Name      string `json:"name,omitempty"`
	Counter   int    `json:"counter"`
	Reason    string `json:"reason,omitempty"`
	// Actor is who made the change: the executive himself, or the system
	// (a session timed out or closed with the day).
	Actor *Actor `json:"actor,omitempty"`
}

// Day is day.closed.
type Day struct {
	Day       string `json:"day"`
	Abandoned int    `json:"abandoned"`
	Actor     *Actor `json:"actor,omitempty"`
}

// ConfigRef is config.applied.
type ConfigRef struct {
	Version int64  `json:"version"`
	Actor   *Actor `json:"actor,omitempty"`
}
