// Package event is the sync protocol v1 between branch agents and the cloud: the
// batch envelope, the event types and their payloads, the MQTT topics, and strict
// encode/decode. Type strings, topics and field names cross the wire: add new
// ones, never rename shipped ones (golden JSON in testdata pins them).
package event

import (
	"encoding/json"
	"time"
)

// Version is the protocol version carried in every message as "v".
const Version = 1

// MaxMessageBytes is the largest MQTT payload accepted: AWS IoT Core's limit.
const MaxMessageBytes = 128 * 1024

// Type names an event. The strings are permanent.
type Type string

// Ticket transitions.
const (
	TicketIssued      Type = "ticket.issued"
	TicketCalled      Type = "ticket.called"
	TicketRecalled    Type = "ticket.recalled"
	TicketStarted     Type = "ticket.started"
	TicketCompleted   Type = "ticket.completed"
	TicketNoShow      Type = "ticket.no_show"
	TicketRequeued    Type = "ticket.requeued"
	TicketTransferred Type = "ticket.transferred"
	TicketCancelled   Type = "ticket.cancelled"
	TicketAbandoned   Type = "ticket.abandoned"
	// TicketNear says a waiting ticket's people ahead reached the pre-notice
	// threshold: the customer should come back to the branch.
	TicketNear Type = "ticket.near"
	// TicketPlaced answers the cloud's ticket.locate command: where a waiting
	// ticket stands now.
	TicketPlaced Type = "ticket.placed"
	// TicketParked says an executive set a visit in service aside (the customer
	// stepped away); TicketUnparked that he called it back to his counter.
	TicketParked   Type = "ticket.parked"
	TicketUnparked Type = "ticket.unparked"
)

// Executive session changes.
const (
	ExecutiveLoggedIn  Type = "executive.logged_in"
	ExecutivePaused    Type = "executive.paused"
	ExecutiveResumed   Type = "executive.resumed"
	ExecutiveLoggedOut Type = "executive.logged_out"
)

// Branch-level events.
const (
	// DayClosed marks the end of a business day at a branch, after its open
	// tickets were abandoned.
	DayClosed Type = "day.closed"
	// ConfigApplied records that the agent now runs a config version.
	ConfigApplied Type = "config.applied"
	// ConfigReported carries the configuration the branch runs, as its own
	// tables hold it (see ConfigReport).
	ConfigReported Type = "config.reported"
)

// EventUnsendable stands on the wire, at its seq, for an outbox event the
// agent could not send (too large for one message, or data that is not JSON,
// e.g. from a damaged disk): the sequence stays gap-free and the branch's sync
// goes on. The agent keeps the event's effect in its own state; HQ counts it
// as quarantined.
const EventUnsendable Type = "event.unsendable"

// Types lists every known type with a zero payload of its data, for decoding and
// for the golden tests.
var Types = map[Type]func() any{
	TicketIssued:       func() any { return new(Issued) },
	TicketCalled:       func() any { return new(Called) },
	TicketRecalled:     func() any { return new(Called) },
	TicketStarted:      func() any { return new(TicketRef) },
	TicketCompleted:    func() any { return new(Completed) },
	TicketNoShow:       func() any { return new(TicketRef) },
	TicketRequeued:     func() any { return new(TicketRef) },
	TicketTransferred:  func() any { return new(Transferred) },
	TicketCancelled:    func() any { return new(Cancelled) },
	TicketAbandoned:    func() any { return new(TicketRef) },
	TicketNear:         func() any { return new(Near) },
	TicketPlaced:       func() any { return new(Placed) },
	TicketParked:       func() any { return new(Parked) },
	TicketUnparked:     func() any { return new(Called) },
	ExecutiveLoggedIn:  func() any { return new(Session) },
	ExecutivePaused:    func() any { return new(Session) },
	ExecutiveResumed:   func() any { return new(Session) },
	ExecutiveLoggedOut: func() any { return new(Session) },
	DayClosed:          func() any { return new(Day) },
	ConfigApplied:      func() any { return new(ConfigRef) },
	ConfigReported:     func() any { return new(ConfigReport) },
	EventUnsendable:    func() any { return new(Unsendable) },
	FeedbackGiven:      func() any { return new(Feedback) },

	ExecutiveLoginFailed: func() any { return new(SignIn) },
	ExecutiveLocked:      func() any { return new(SignIn) },
	ExecutiveAdmin:       func() any { return new(Admin) },

	ManagerSignedIn:        func() any { return new(Manager) },
	ManagerLoginFailed:     func() any { return new(SignIn) },
	ServiceClosedToday:     func() any { return new(Manager) },
	ServiceOpenedToday:     func() any { return new(Manager) },
	ExecutiveServicesToday: func() any { return new(Manager) },
	DisplayMessage:         func() any { return new(Manager) },

	AppointmentReceived:  func() any { return new(AppointmentRef) },
	AppointmentDeclined:  func() any { return new(AppointmentDecline) },
	AppointmentCancelled: func() any { return new(AppointmentCancel) },
	AppointmentCheckedIn: func() any { return new(AppointmentCheckIn) },
	AppointmentMissed:    func() any { return new(AppointmentRef) },
	TicketCheckedIn:      func() any { return new(CheckedIn) },
	TicketSlid:           func() any { return new(Slid) },
	TicketExpired:        func() any { return new(TicketRef) },
	JoinRefused:          func() any { return new(JoinRefusal) },
}

// Known reports whether t is a type this version understands.
func (t Type) Known() bool { _, ok := Types[t]; return ok }

// Event is one change at a branch. Seq is the branch's gap-free sequence number
// (from 1); ID is a globally unique ID of the event; At is the branch's clock.
type Event struct {
	Seq  uint64          `json:"seq"`
	ID   string          `json:"id"`
	Type Type            `json:"type"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data"`

	// body is Data decoded into its type's struct by the decoder (DecodeBatch,
	// DecodeBatchEvents), so the cloud decodes each payload once. It is valid
	// only for the Data it came from (from): code that replaces Data gets a
	// fresh decode, never a stale payload.
	body any
	from []byte
}

// Decode decodes Data into its type's struct once and keeps it on e, so
// later calls of Payload (on e or its copies) return it without decoding.
func (e *Event) Decode() (any, error) {
	v, err := e.Payload()
	if err == nil && v != nil {
		e.body, e.from = v, e.Data
	}
	return v, err
}

// Batch is the message on the events topic: consecutive events of one branch.
type Batch struct {
	V      int     `json:"v"`
	Branch string  `json:"branch"`
	Events []Event `json:"events"`
}

// New builds an event with data marshalled to JSON.
func New(seq uint64, id string, t Type, at time.Time, data any) (Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Event{}, err
	}
	return Event{Seq: seq, ID: id, Type: t, At: at.UTC(), Data: raw}, nil
}

// Payload is the event's data decoded into the struct of its type (a
// pointer: *Issued, *Called, ...), the decoder's own when the event came from
// DecodeBatch or DecodeBatchEvents (shared: read it, do not change it). An
// unknown type returns (nil, nil): unknown types are stored and skipped,
// never an error.
func (e Event) Payload() (any, error) {
	if e.body != nil && sameBytes(e.from, e.Data) {
		return e.body, nil
	}
	mk, ok := Types[e.Type]
	if !ok {
		return nil, nil
	}
	v := mk()
	if err := unmarshal(e.Data, v); err != nil {
		return nil, err
	}
	return v, nil
}

// sameBytes says a and b are the same bytes in memory (not merely equal).
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}
