package agent

import (
	"strings"
	"time"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// Ticket is a ticket as the branch agent keeps it. OriginService and Number
// make its display number (C-023) for its whole life; Service is the queue it is
// in now (it changes on transfer).
type Ticket struct {
	ID            string
	Day           string
	OriginService string
	Number        int
	Service       string
	Priority      queue.PriorityClass
	Status        queue.Status
	Counter       int
	Executive     string
	Recalls       int
	Outcome       string
	RUTHash       string
	RUTEnc        []byte
	Token         string
	Channel       string
	QueuedAt      time.Time
	FirstInLine   bool
	CreatedAt     time.Time
	CalledAt      time.Time // zero until called; the last call
	RecalledAt    time.Time // the last recall of the last call
	StartedAt     time.Time // zero until started
	EndedAt       time.Time // zero while open
	QuotedTypical int
	QuotedUpper   int
	// Near is set once the people ahead came down to the pre-notice threshold
	// (ticket.near is emitted once per ticket).
	Near bool
	// TargetCounter or TargetExecutive, on a waiting ticket, say it was
	// transferred to that counter or executive: only they call it.
	TargetCounter   int
	TargetExecutive string
	// NameEnc is the customer's name as given at a walk-in (AES-GCM, never
	// plain; nil when not given).
	NameEnc []byte
	// Appointment is the booking a checked-in appointment's ticket serves
	// (engine_appointment.go); Due its slot's start when the customer came
	// on time (zero: late, an ordinary walk-in): the calling rule's due time.
	Appointment string
	Due         time.Time
	// Join is the cloud's ticket.join command a remote ticket answers
	// (engine_remote.go). Unchecked says its customer has not checked in yet:
	// the branch never calls it. HoldUntil is when an unchecked ticket that
	// reached the front expires; Slides how often it slid back.
	Join      string
	Unchecked bool
	HoldUntil time.Time
	Slides    int
	// Code and RUTCheck check a remote ticket in at the kiosk (the order's
	// 6-digit code and seal.CheckInHash of the customer's RUT).
	Code     string
	RUTCheck string
}

// Booked reports whether t is an on-time appointment's ticket (the calling
// rule's appointment lanes).
func (t Ticket) Booked() bool { return !t.Due.IsZero() }

// walkIn reports whether t waits as a walk-in: present and not a booked
// appointment.
func (t *Ticket) walkIn() bool { return !t.Unchecked && t.Due.IsZero() }

// Targeted reports whether the ticket waits for a given counter or executive.
func (t Ticket) Targeted() bool { return t.TargetCounter != 0 || t.TargetExecutive != "" }

// Outcomes are the visit's outcome codes (stored comma-joined in Outcome).
func (t Ticket) Outcomes() []string {
	if t.Outcome == "" {
		return nil
	}
	return strings.Split(t.Outcome, ",")
}

// Display is the number people read: the letter of the service it was issued
// in and its number that day (C-023).
func (t Ticket) Display() string { return queue.DisplayNumber(t.OriginService, t.Number) }

// ref is the event payload part naming the ticket.
func (t Ticket) ref() event.TicketRef {
	return event.TicketRef{Ticket: t.ID, Service: t.Service, Number: t.Number, Day: t.Day,
		Counter: t.Counter, Executive: t.Executive, Printed: t.Display()}
}

// Estimate is a wait estimate as a range: typical and upper, in seconds.
type Estimate struct {
	TypicalS int `json:"typical_s"`
	UpperS   int `json:"upper_s"`
}

// Executive is an executive known at the branch, with his PIN's bcrypt hash.
// WeakPIN says his PIN is shorter than MinPINLength (set at his last sign-in):
// it still works, and he is told to change it.
type Executive struct {
	queue.Executive
	PINHash string
	WeakPIN bool
	Active  bool
	// Manager is the branch manager role: he may sign in on the branch page
	// and act there (engine_manager.go).
	Manager bool
}

// Serves reports whether e serves service code.
func (e Executive) Serves(code string) bool {
	for _, s := range e.Services {
		if s == code {
			return true
		}
	}
	return false
}

// Session is an executive signed in at a counter. TokenHash is the SHA-256 of
// the bearer token (hex); the token itself is never stored.
type Session struct {
	TokenHash   string
	Executive   string
	Counter     int
	Paused      bool
	PauseReason string
	// PauseCode is the pause's reason code (queue.PauseReasons; "" for free text).
	PauseCode string
	StartedAt time.Time
	ChangedAt time.Time
}

// Executive states as the LAN API reports them.
const (
	StateOffline   = "offline"
	StateAvailable = "available"
	StatePaused    = "paused"
	StateCalled    = "called"
	StateServing   = "serving"
)

// ExecutiveState is an executive's state for live pushes.
type ExecutiveState struct {
	ID      string `json:"id"`
	Counter int    `json:"counter"`
	State   string `json:"state"`
}

// Emitted is an event an engine operation produced, with the snapshots the
// live stream needs (no personal data).
type Emitted struct {
	Type      event.Type
	At        time.Time
	Data      any
	Ticket    *Ticket
	Executive *ExecutiveState
}

// Numbering is the last number given in a service on a day.
type Numbering struct {
	Day     string
	Service string
	Last    int
}

// Change is what an engine operation changed, for the store to write in one
// transaction: rows to upsert, sessions to end, meta keys, and the events.
type Change struct {
	Tickets       []Ticket
	Appointments  []Appointment
	Sessions      []Session
	EndedSessions []string
	Executives    []Executive
	Numbering     []Numbering
	Meta          map[string]string
	Events        []Emitted
}

// Empty reports whether c writes nothing.
func (c Change) Empty() bool {
	return len(c.Tickets) == 0 && len(c.Appointments) == 0 && len(c.Sessions) == 0 && len(c.EndedSessions) == 0 &&
		len(c.Executives) == 0 && len(c.Numbering) == 0 && len(c.Meta) == 0 && len(c.Events) == 0
}

func (c *Change) meta(k, v string) {
	if c.Meta == nil {
		c.Meta = map[string]string{}
	}
	c.Meta[k] = v
}

func (c *Change) emit(t event.Type, at time.Time, data any, tk *Ticket, ex *ExecutiveState) {
	c.Events = append(c.Events, Emitted{Type: t, At: at.UTC(), Data: data, Ticket: tk, Executive: ex})
}

// Merge appends o to c.
func (c *Change) Merge(o Change) {
	c.Tickets = append(c.Tickets, o.Tickets...)
	c.Appointments = append(c.Appointments, o.Appointments...)
	c.Sessions = append(c.Sessions, o.Sessions...)
	c.EndedSessions = append(c.EndedSessions, o.EndedSessions...)
	c.Executives = append(c.Executives, o.Executives...)
	c.Numbering = append(c.Numbering, o.Numbering...)
	for k, v := range o.Meta {
		c.meta(k, v)
	}
	c.Events = append(c.Events, o.Events...)
}
