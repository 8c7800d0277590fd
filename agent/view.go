package agent

import (
	"time"

	"github.com/ticketero/ticketero/shared/queue"
)

// TicketInfo is a ticket with what the LAN API shows around it: its service's
// name and, while waiting, its position and estimated wait.
type TicketInfo struct {
	Ticket
	ServiceName string
	Position    int
	Estimate    Estimate
}

// ServiceInfo is a service with its queue now and the estimate a ticket
// issued now would be quoted.
type ServiceInfo struct {
	queue.Service
	Waiting  int
	Estimate Estimate
	// Closed is why the kiosk cannot issue a ticket of the service now
	// (branch.closed, branch.holiday, service.closed_for_today); nil when open.
	Closed error
}

// CounterInfo is a counter and who is signed in at it ("" nobody).
type CounterInfo struct {
	queue.Counter
	Executive     string
	ExecutiveName string
}

// ExecutiveInfo is an executive with his counter (0 none) and state.
type ExecutiveInfo struct {
	queue.Executive
	Counter int
	State   string
	// Manager is the branch manager role.
	Manager bool
	// ChangedToday says Services are the manager's change for today.
	ChangedToday bool
}

// QueueInfo is one service's queue now.
type QueueInfo struct {
	Service           string
	Name              string
	Waiting           int
	LongestWait       time.Duration
	TargetWait        time.Duration
	ExecutivesServing int
	Estimate          Estimate
	Tickets           []QueueTicket
}

// QueueTicket is a waiting ticket in a queue listing (no personal data).
type QueueTicket struct {
	ID       string
	Number   string
	Priority queue.PriorityClass
	Position int
	Waited   time.Duration
	// TargetCounter or TargetName (an executive's name) say the ticket was
	// transferred there: only that counter or executive calls it, and
	// Position is its place among the tickets sent there.
	TargetCounter int
	TargetName    string
	// Booked: an on-time appointment's ticket; Unchecked: a remote ticket
	// whose customer has not arrived ("aún no llega"; Position is where he
	// would stand).
	Booked    bool
	Unchecked bool
}

// Call is a call of today for the display board.
type Call struct {
	Ticket   string
	Number   string
	Service  string
	Counter  int
	CalledAt time.Time
	Recall   int
	// Booked: an on-time appointment's ticket (the TV marks it).
	Booked bool
}

// Stats are today's figures at the branch.
type Stats struct {
	Day       string
	Issued    int
	Served    int
	NoShow    int
	Cancelled int
	Waiting   int
	MeanWait  time.Duration
	P90Wait   time.Duration
	SLAPct    float64
	// Decided counts the tickets in SLAPct (queue.Judge); WaitingOver those
	// still waiting past their target.
	Decided     int
	WaitingOver int
	ByService   []ServiceStats
}

// ServiceStats are today's figures of one service.
type ServiceStats struct {
	Service  string
	Issued   int
	Served   int
	MeanWait time.Duration
	SLAPct   float64
	Decided  int
}

// SessionInfo is a signed-in executive's session with his current ticket.
type SessionInfo struct {
	Session
	Executive queue.Executive
	Current   *TicketInfo
	// Parked are the visits he set aside, oldest first.
	Parked []TicketInfo
	// PINChangeRequired says the executive's PIN is shorter than the policy.
	PINChangeRequired bool
}

// BranchInfo is the branch's identity and business day.
type BranchInfo struct {
	Branch   string
	TimeZone string
	Day      string
	// OpeningHours are HQ's opening hours ("09:00-14:00", "" until configured).
	OpeningHours string
	// HoursToday are today's opening ranges ("" closed today); nil without
	// hours configured.
	HoursToday *string
	// Closed is why the branch issues no tickets now (branch.closed,
	// branch.holiday); nil when open or without hours.
	Closed error
	// Name and Region are HQ's name and region of the branch ("" until HQ
	// names it: screens show the branch ID).
	Name   string
	Region string
}

// TicketRequest is a kiosk's request for a ticket. RUT and Priority are
// optional; IdempotencyKey makes a retry return the first ticket.
type TicketRequest struct {
	Service        string
	RUT            string
	Priority       string
	Channel        string
	IdempotencyKey string
	// Phone is an optional mobile number for SMS notices; PhoneConsent must
	// be true with it (the customer accepted the notice at the kiosk).
	Phone        string
	PhoneConsent bool
}

// CheckInInfo is a kiosk check-in's answer: the ticket (with its service's
// name and place) and, for a booked customer, his booking and whether he
// came late (his ticket then waits as a walk-in).
type CheckInInfo struct {
	Ticket      TicketInfo
	Appointment *Appointment
	Late        bool
}
