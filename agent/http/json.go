package http

import (
	"io"
	"time"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/queue"
)

var errEOF = io.EOF

// ticketJSON is the Ticket of the API contract. position and estimated_wait
// appear while waiting; counter and called_at are null until called. No
// personal data. token (the Telegram link) is only in the issue response: the
// kiosk that printed the ticket needs it, and ticket IDs are listed openly in
// /queues, so returning it elsewhere would let anyone on the LAN link (and
// cancel through Telegram) someone else's ticket.
type ticketJSON struct {
	ID            string          `json:"id"`
	Number        string          `json:"number"`
	Service       string          `json:"service"`
	ServiceName   string          `json:"service_name"`
	Status        queue.Status    `json:"status"`
	Priority      string          `json:"priority"`
	Position      int             `json:"position,omitempty"`
	EstimatedWait *agent.Estimate `json:"estimated_wait,omitempty"`
	CreatedAt     time.Time       `json:"created_at"`
	Token         string          `json:"token,omitempty"`
	Counter       *int            `json:"counter"`
	CalledAt      *time.Time      `json:"called_at"`
	Recall        int             `json:"recall"`
	// TargetCounter/TargetExecutive: a waiting ticket transferred to a
	// counter or an executive (only they call it).
	TargetCounter   int      `json:"target_counter,omitempty"`
	TargetExecutive string   `json:"target_executive,omitempty"`
	Outcomes        []string `json:"outcomes,omitempty"`
	// Appointment and Due: an on-time appointment's ticket and its slot's
	// start; Unchecked and HoldUntil: a remote ticket whose customer has not
	// checked in, and when it expires once it reached the front.
	Appointment bool       `json:"appointment,omitempty"`
	Due         *time.Time `json:"due,omitempty"`
	Unchecked   bool       `json:"unchecked,omitempty"`
	HoldUntil   *time.Time `json:"hold_until,omitempty"`
}

func ticketView(t agent.TicketInfo) ticketJSON {
	v := ticketJSON{ID: t.ID, Number: t.Display(), Service: t.Service, ServiceName: t.ServiceName,
		Status: t.Status, Priority: string(t.Priority), CreatedAt: t.CreatedAt.UTC(), Recall: t.Recalls}
	if t.Status == queue.StatusWaiting {
		v.Position = t.Position
		est := t.Estimate
		v.EstimatedWait = &est
	}
	v.TargetCounter, v.TargetExecutive, v.Outcomes = t.TargetCounter, t.TargetExecutive, t.Outcomes()
	if t.Booked() {
		d := t.Due.UTC()
		v.Appointment, v.Due = true, &d
	}
	if t.Unchecked && t.Status == queue.StatusWaiting {
		v.Unchecked = true
		if !t.HoldUntil.IsZero() {
			h := t.HoldUntil.UTC()
			v.HoldUntil = &h
		}
	}
	if t.Counter != 0 && (t.Status == queue.StatusCalled || t.Status == queue.StatusServing || t.Status == queue.StatusParked) {
		c := t.Counter
		v.Counter = &c
	}
	if !t.CalledAt.IsZero() {
		c := t.CalledAt.UTC()
		v.CalledAt = &c
	}
	return v
}

type executiveJSON struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Services []string `json:"services"`
}

func executiveView(x queue.Executive) executiveJSON {
	svcs := x.Services
	if svcs == nil {
		svcs = []string{}
	}
	return executiveJSON{ID: x.ID, Name: x.Name, Services: svcs}
}

type sessionJSON struct {
	Executive   executiveJSON `json:"executive"`
	Counter     int           `json:"counter"`
	Paused      bool          `json:"paused"`
	PauseReason string        `json:"pause_reason"`
	PauseCode   string        `json:"pause_code,omitempty"`
	State       string        `json:"state"`
	Current     *ticketJSON   `json:"current"`
	// Parked are the visits the executive set aside, oldest first.
	Parked []ticketJSON `json:"parked"`
	// PINChangeRequired: the PIN is shorter than 6 digits (an older one).
	PINChangeRequired bool `json:"pin_change_required"`
}

func sessionView(si agent.SessionInfo) sessionJSON {
	v := sessionJSON{Executive: executiveView(si.Executive), Counter: si.Counter, Paused: si.Paused,
		PauseReason: si.PauseReason, PauseCode: si.PauseCode, State: agent.StateAvailable, PINChangeRequired: si.PINChangeRequired,
		Parked: []ticketJSON{}}
	for _, p := range si.Parked {
		v.Parked = append(v.Parked, ticketView(p))
	}
	if si.Paused {
		v.State = agent.StatePaused
	}
	if si.Current != nil {
		t := ticketView(*si.Current)
		v.Current = &t
		v.State = agent.StateCalled
		if si.Current.Status == queue.StatusServing {
			v.State = agent.StateServing
		}
	}
	return v
}

func seconds(d time.Duration) int { return int(d / time.Second) }
