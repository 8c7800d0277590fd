package event

import "github.com/ticketero/ticketero/shared/queue"

// Facts about each event type, one table per fact. Every table has an entry
// for every type in Types (TestFactsCoverEveryType), so a new type that is
// not given its facts fails the tests instead of being skipped silently by
// the cloud's projection or notifications.

// statuses is the status a ticket is left in by each type: "" when the type
// names no ticket or leaves its status as it was (ticket.near, ticket.placed).
var statuses = map[Type]queue.Status{
	TicketIssued:      queue.StatusWaiting,
	TicketCalled:      queue.StatusCalled,
	TicketRecalled:    queue.StatusCalled,
	TicketStarted:     queue.StatusServing,
	TicketCompleted:   queue.StatusDone,
	TicketNoShow:      queue.StatusNoShow,
	TicketRequeued:    queue.StatusWaiting,
	TicketTransferred: queue.StatusWaiting,
	TicketCancelled:   queue.StatusCancelled,
	TicketAbandoned:   queue.StatusAbandoned,
	TicketNear:        "",
	TicketPlaced:      "",
	TicketParked:      queue.StatusParked,
	TicketUnparked:    queue.StatusCalled,

	ExecutiveLoggedIn:    "",
	ExecutivePaused:      "",
	ExecutiveResumed:     "",
	ExecutiveLoggedOut:   "",
	ExecutiveLoginFailed: "",
	ExecutiveLocked:      "",
	ExecutiveAdmin:       "",
	DayClosed:            "",
	ConfigApplied:        "",
	ConfigReported:       "",
	EventUnsendable:      "",
	FeedbackGiven:        "",
	// The branch manager's actions (manager.go).
	ManagerSignedIn:        "",
	ManagerLoginFailed:     "",
	ServiceClosedToday:     "",
	ServiceOpenedToday:     "",
	ExecutiveServicesToday: "",
	DisplayMessage:         "",
	// Appointments and remote tickets (appointment.go).
	AppointmentReceived:  "",
	AppointmentDeclined:  "",
	AppointmentCancelled: "",
	AppointmentCheckedIn: "",
	AppointmentMissed:    "",
	TicketCheckedIn:      "",
	TicketSlid:           "",
	TicketExpired:        queue.StatusNoShow,
	JoinRefused:          "",
}

// Status is the status an event of type t leaves its ticket in; "" when t
// names no ticket, changes no status, or is unknown.
func (t Type) Status() queue.Status { return statuses[t] }

// namesTicket says whether a type's payload is about one ticket (it embeds
// TicketRef): the projection and the notifications key on its TicketID.
var namesTicket = map[Type]bool{
	TicketIssued:      true,
	TicketCalled:      true,
	TicketRecalled:    true,
	TicketStarted:     true,
	TicketCompleted:   true,
	TicketNoShow:      true,
	TicketRequeued:    true,
	TicketTransferred: true,
	TicketCancelled:   true,
	TicketAbandoned:   true,
	TicketNear:        true,
	TicketPlaced:      true,
	TicketParked:      true,
	TicketUnparked:    true,

	ExecutiveLoggedIn:    false,
	ExecutivePaused:      false,
	ExecutiveResumed:     false,
	ExecutiveLoggedOut:   false,
	ExecutiveLoginFailed: false,
	ExecutiveLocked:      false,
	ExecutiveAdmin:       false,
	DayClosed:            false,
	ConfigApplied:        false,
	ConfigReported:       false,
	EventUnsendable:      false,
	FeedbackGiven:        true,
	// The branch manager's actions (manager.go).
	ManagerSignedIn:        false,
	ManagerLoginFailed:     false,
	ServiceClosedToday:     false,
	ServiceOpenedToday:     false,
	ExecutiveServicesToday: false,
	DisplayMessage:         false,
	// Appointments and remote tickets (appointment.go).
	AppointmentReceived:  false,
	AppointmentDeclined:  false,
	AppointmentCancelled: false,
	AppointmentCheckedIn: false,
	AppointmentMissed:    false,
	TicketCheckedIn:      true,
	TicketSlid:           true,
	TicketExpired:        true,
	JoinRefused:          false,
}

// NamesTicket reports whether events of type t are about one ticket.
func (t Type) NamesTicket() bool { return namesTicket[t] }

// Ticketed is a payload about one ticket: every payload that embeds TicketRef.
type Ticketed interface {
	// Ref is the ticket's reference as the event carries it.
	Ref() *TicketRef
}

// Ref returns r itself, so every payload embedding TicketRef is Ticketed.
func (r *TicketRef) Ref() *TicketRef { return r }

// TicketOf is the ticket a decoded payload names, nil when it names none.
func TicketOf(payload any) *TicketRef {
	if t, ok := payload.(Ticketed); ok {
		return t.Ref()
	}
	return nil
}

// Notice is what an event tells the customer whose chat follows the ticket.
// The strings are stored as notification job kinds: never rename one.
type Notice string

// Notices events cause.
const (
	NoticeNone        Notice = ""
	NoticeConfirm     Notice = "confirm"
	NoticePlaced      Notice = "placed"
	NoticePreNotice   Notice = "prenotice"
	NoticeCalled      Notice = "called"
	NoticeRecalled    Notice = "recalled"
	NoticeTransferred Notice = "transferred"
	NoticeNoShow      Notice = "no_show"
	NoticeCancelled   Notice = "cancelled"
	NoticeDayClosed   Notice = "day_closed"
	// A remote ticket's customer checked in; it slid back unchecked; it expired.
	NoticeCheckedIn Notice = "checked_in"
	NoticeSlid      Notice = "slid"
	NoticeExpired   Notice = "expired"
)

// notices is the notice each type causes (NoticeNone: the customer is not
// told).
var notices = map[Type]Notice{
	TicketIssued:      NoticeConfirm,
	TicketCalled:      NoticeCalled,
	TicketRecalled:    NoticeRecalled,
	TicketStarted:     NoticeNone,
	TicketCompleted:   NoticeNone,
	TicketNoShow:      NoticeNoShow,
	TicketRequeued:    NoticeNone,
	TicketTransferred: NoticeTransferred,
	TicketCancelled:   NoticeCancelled,
	TicketAbandoned:   NoticeDayClosed,
	TicketNear:        NoticePreNotice,
	TicketPlaced:      NoticePlaced,
	// A parked customer stepped away knowing he comes back to his executive;
	// the call back shows on the TV.
	TicketParked:   NoticeNone,
	TicketUnparked: NoticeNone,

	ExecutiveLoggedIn:    NoticeNone,
	ExecutivePaused:      NoticeNone,
	ExecutiveResumed:     NoticeNone,
	ExecutiveLoggedOut:   NoticeNone,
	ExecutiveLoginFailed: NoticeNone,
	ExecutiveLocked:      NoticeNone,
	ExecutiveAdmin:       NoticeNone,
	DayClosed:            NoticeNone,
	ConfigApplied:        NoticeNone,
	ConfigReported:       NoticeNone,
	EventUnsendable:      NoticeNone,
	FeedbackGiven:        NoticeNone,
	// The branch manager's actions (manager.go).
	ManagerSignedIn:        NoticeNone,
	ManagerLoginFailed:     NoticeNone,
	ServiceClosedToday:     NoticeNone,
	ServiceOpenedToday:     NoticeNone,
	ExecutiveServicesToday: NoticeNone,
	DisplayMessage:         NoticeNone,
	// Appointments and remote tickets (appointment.go): the appointment's own
	// messages (declined, reminders) are the cloud's booking jobs, not ticket
	// notices.
	AppointmentReceived:  NoticeNone,
	AppointmentDeclined:  NoticeNone,
	AppointmentCancelled: NoticeNone,
	AppointmentCheckedIn: NoticeNone,
	AppointmentMissed:    NoticeNone,
	TicketCheckedIn:      NoticeCheckedIn,
	TicketSlid:           NoticeSlid,
	TicketExpired:        NoticeExpired,
	JoinRefused:          NoticeNone,
}

// Notice is the notice an event of type t causes (NoticeNone for none or an
// unknown type).
func (t Type) Notice() Notice { return notices[t] }
