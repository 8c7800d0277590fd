package event

import (
	"time"

	"github.com/ticketero/ticketero/shared/queue"
)

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
	// Printed is the number as printed on the ticket and called on the TV: the
	// letter of the service it was issued in and its counter ("C-004",
	// "C-1000"). It never changes, not even on transfer. Absent in events of
	// agents before it was added: rebuild it from the service then.
	Printed string `json:"printed,omitempty"`
	// Place is where the ticket stands in its queue right after the event, as
	// the branch's calling rule orders it: on ticket.transferred,
	// ticket.requeued and ticket.near. ticket.issued carries the same figures
	// in its own fields.
	Place *Place `json:"place,omitempty"`
}

// PrintedOr is the printed number, or for an event from an agent that did not
// send it, the number rebuilt from origin, the service the ticket was issued
// in (only ticket.issued names it: later events carry the current service).
func (r TicketRef) PrintedOr(origin string) string {
	if r.Printed != "" {
		return r.Printed
	}
	return queue.DisplayNumber(origin, r.Number)
}

// Place is a waiting ticket's place by the branch's calling rule: its position
// (1 = next; people ahead = position - 1) and the estimated wait as a range.
// Only the branch computes it; the cloud relays it.
type Place struct {
	Position int `json:"position"`
	TypicalS int `json:"quoted_typical_s"`
	UpperS   int `json:"quoted_upper_s"`
}

// Ahead is the number of people before the ticket.
func (p Place) Ahead() int { return max(0, p.Position-1) }

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
	// linking his later tickets to a consenting chat. Only agents that held the
	// network-wide hash key sent it; the cloud now computes it at ingest from
	// RUTSealed (and stores it in place of RUTSealed). Personal data.
	RUTHash string `json:"rut_hash,omitempty"`
	// RUTSealed is the customer's normalised RUT sealed to the cloud's public
	// key (Config.RUTSealKey; anonymous NaCl box, base64, shared/seal.SealRUT):
	// the box cannot open it, only the cloud, which keeps the keyed hash.
	RUTSealed string `json:"rut_sealed,omitempty"`
	// PhoneSealed is the mobile number the customer gave (with consent) for
	// SMS notices, E.164 ("+569XXXXXXXX"), sealed to the cloud's public key
	// like RUTSealed. Personal data: only the cloud opens it.
	PhoneSealed string `json:"phone_sealed,omitempty"`
	// Channel is where the ticket came from: kiosk, api, telegram, counter,
	// web, appointment.
	Channel string `json:"channel,omitempty"`
	// Appointment is the booking this ticket serves (channel appointment;
	// additive) and Due its slot's start: the calling rule's due time.
	Appointment string    `json:"appointment,omitempty"`
	Due         time.Time `json:"due,omitzero"`
	// Join is the ID of the cloud's ticket.join command this ticket answers (a
	// remote ticket; additive). Until ticket.checked_in its customer is not
	// present and the branch does not call it.
	Join string `json:"join,omitempty"`
}

// Called is ticket.called and ticket.recalled: an executive calls the ticket to
// a counter. Recall counts the calls after the first.
type Called struct {
	TicketRef
	ExecutiveName string `json:"executive_name,omitempty"`
	Recall        int    `json:"recall,omitempty"`
	// Chosen says the executive called this ticket out of the calling rule's
	// order (a specific waiting ticket), with his Reason (additive).
	Chosen bool   `json:"chosen,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Parked is ticket.parked: the executive set the visit aside (the customer
// stepped away for a document); it stays his until he calls it back
// (ticket.unparked, a Called payload) or cancels it. Reason is optional text.
type Parked struct {
	TicketRef
	Reason string `json:"reason,omitempty"`
}

// Completed is ticket.completed, with the optional outcome code of the visit.
type Completed struct {
	TicketRef
	// Outcome is the visit's first outcome code (what agents before several
	// outcomes sent); Outcomes are all of them, in the order marked (additive).
	Outcome  string   `json:"outcome,omitempty"`
	Outcomes []string `json:"outcomes,omitempty"`
}

// Codes are the visit's outcome codes: Outcomes, else the single Outcome.
func (c Completed) Codes() []string {
	if len(c.Outcomes) > 0 {
		return c.Outcomes
	}
	if c.Outcome != "" {
		return []string{c.Outcome}
	}
	return nil
}

// Transferred is ticket.transferred: the ticket leaves its service (Service) for
// another (To), where it waits again.
type Transferred struct {
	TicketRef
	To string `json:"to"`
	// ToName is the new service's name as the branch runs it (e.g. "Empresas"),
	// for texts to the customer; absent from older agents.
	ToName string `json:"to_name,omitempty"`
	// QueuedAt is the ticket's place in the new queue: the original arrival unless
	// the transfer reset it; First puts it ahead of everyone.
	QueuedAt time.Time `json:"queued_at"`
	First    bool      `json:"first,omitempty"`
	// ToCounter or ToExecutive (with ToExecutiveName) target the transfer:
	// only that counter or that executive calls the ticket, in service To
	// (additive; absent for a transfer to a service's queue).
	ToCounter       int    `json:"to_counter,omitempty"`
	ToExecutive     string `json:"to_executive,omitempty"`
	ToExecutiveName string `json:"to_executive_name,omitempty"`
}

// Cancelled is ticket.cancelled, saying who cancelled (customer, executive,
// telegram) so a request that came from the cloud is recognised when it returns.
type Cancelled struct {
	TicketRef
	By string `json:"by,omitempty"`
	// Request is the ID of the cloud command that asked for it, if any.
	Request string `json:"request,omitempty"`
}

// Near is ticket.near: the people ahead of a waiting ticket have just come down
// to the branch's pre-notice threshold (Threshold, HQ's setting per branch or
// per service). Emitted once per ticket; its Place says where it stands.
type Near struct {
	TicketRef
	Threshold int `json:"threshold"`
}

// Placed is ticket.placed: the branch's answer to a ticket.locate command
// (Request is its ID), with the waiting ticket's Place now.
type Placed struct {
	TicketRef
	Request string `json:"request,omitempty"`
}

// Session is an executive session change: login, pause (with Reason), resume,
// logout.
type Session struct {
	Executive string `json:"executive"`
	Name      string `json:"name,omitempty"`
	Counter   int    `json:"counter"`
	Reason    string `json:"reason,omitempty"`
	// Code is a pause's reason code (queue.PauseReasons; additive, absent for
	// a free-text reason).
	Code string `json:"code,omitempty"`
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

// ConfigReport is config.reported: the configuration the branch runs now, read
// from its own tables, so HQ learns what a branch set up locally (the admin
// command, the seeded defaults) has. The agent sends it at start-up and
// whenever it changes (an HQ config applied, a local executive added or
// removed). Executives travel without PINs or PIN hashes. The cloud imports it
// into HQ's draft on first contact and diffs HQ's draft against it before a
// publication.
type ConfigReport struct {
	// Version is the HQ config version the branch runs (0: none yet).
	Version    int64             `json:"version"`
	TimeZone   string            `json:"time_zone,omitempty"`
	Services   []queue.Service   `json:"services"`
	Counters   []queue.Counter   `json:"counters"`
	Executives []queue.Executive `json:"executives"`
}

// Unsendable is the data of event.unsendable: what the stand-in replaces.
type Unsendable struct {
	// Type is the original event's type.
	Type Type `json:"type"`
	// Reason is RejectTooLarge or "invalid_json".
	Reason string `json:"reason"`
	// Bytes is the size of the original event's JSON (0 when it has none).
	Bytes int `json:"bytes"`
}
