package queue

import (
	"fmt"

	"github.com/ticketero/ticketero/shared/i18n"
)

// Status is a ticket's state.
type Status string

// Ticket states. Done, no-show, cancelled and abandoned are final.
const (
	StatusWaiting   Status = "waiting"
	StatusCalled    Status = "called"
	StatusServing   Status = "serving"
	StatusDone      Status = "done"
	StatusNoShow    Status = "no_show"
	StatusCancelled Status = "cancelled"
	StatusAbandoned Status = "abandoned"
	// StatusParked is a visit set aside by its executive (the customer stepped
	// away for a document): it holds its place with him, not in a queue, until
	// he calls it back (unpark) or cancels it.
	StatusParked Status = "parked"
)

// ParseStatus parses a status name. Errors: invalid status.invalid.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case StatusWaiting, StatusCalled, StatusServing, StatusDone, StatusNoShow, StatusCancelled, StatusAbandoned, StatusParked:
		return st, nil
	}
	return "", Errorf(CodeInvalid, "status.invalid", s)
}

// Final reports whether no action can leave s.
func (s Status) Final() bool {
	switch s {
	case StatusDone, StatusNoShow, StatusCancelled, StatusAbandoned:
		return true
	}
	return false
}

// Open reports whether the ticket still needs attention (waiting, called or serving).
func (s Status) Open() bool { return !s.Final() }

// Action is something that happens to a ticket.
type Action string

// Ticket actions.
const (
	ActionCall     Action = "call"
	ActionRecall   Action = "recall"
	ActionStart    Action = "start"
	ActionComplete Action = "complete"
	ActionNoShow   Action = "no_show"
	ActionRequeue  Action = "requeue"
	ActionTransfer Action = "transfer"
	ActionCancel   Action = "cancel"
	ActionAbandon  Action = "abandon"
	// ActionPark sets a visit in service aside; ActionUnpark calls it back to
	// the same executive's counter.
	ActionPark   Action = "park"
	ActionUnpark Action = "unpark"
)

// transitions is the whole status machine: from state, action → to state.
// Transfer moves the ticket into another service's queue, where it waits again.
var transitions = map[Status]map[Action]Status{
	StatusWaiting: {
		ActionCall:     StatusCalled,
		ActionTransfer: StatusWaiting,
		ActionCancel:   StatusCancelled,
		ActionAbandon:  StatusAbandoned,
	},
	StatusCalled: {
		ActionRecall:   StatusCalled,
		ActionStart:    StatusServing,
		ActionNoShow:   StatusNoShow,
		ActionRequeue:  StatusWaiting,
		ActionTransfer: StatusWaiting,
		ActionAbandon:  StatusAbandoned,
	},
	StatusServing: {
		ActionComplete: StatusDone,
		ActionTransfer: StatusWaiting,
		ActionAbandon:  StatusAbandoned,
		ActionPark:     StatusParked,
	},
	StatusParked: {
		ActionUnpark:  StatusCalled,
		ActionCancel:  StatusCancelled,
		ActionAbandon: StatusAbandoned,
	},
}

// Transition returns the state a ticket in from reaches by action a, or an
// invalid ticket.illegal_transition error when the move is not allowed.
func Transition(from Status, a Action) (Status, error) {
	if to, ok := transitions[from][a]; ok {
		return to, nil
	}
	return "", &Error{Code: CodeConflict, Reason: "ticket.illegal_transition", Args: []any{actionName{a}, statusName{from}}}
}

// actionName and statusName render through the catalogue in the error's language.
type actionName struct{ a Action }
type statusName struct{ s Status }

func (n actionName) Localize(l i18n.Lang) string { return i18n.T(l, "action."+string(n.a)) }
func (n statusName) Localize(l i18n.Lang) string { return i18n.T(l, "status."+string(n.s)) }

// DisplayNumber formats a service letter and a number as shown on screens and
// tickets: three digits at least, "C-023", "C-1000".
func DisplayNumber(service string, n int) string {
	return fmt.Sprintf("%s-%03d", service, n)
}
