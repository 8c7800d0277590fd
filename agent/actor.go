package agent

import "github.com/ticketero/ticketero/shared/event"

// By names a as the actor of every event of c from index from on that does not
// name one yet (an operation that calls another keeps the inner actor).
func (c *Change) By(a *event.Actor, from int) {
	for i := from; i < len(c.Events); i++ {
		c.Events[i].Data = withActor(c.Events[i].Data, a)
	}
}

// withActor returns data with its actor set, if it has an actor field and
// none is set.
func withActor(data any, a *event.Actor) any {
	set := func(p **event.Actor) {
		if *p == nil {
			*p = a
		}
	}
	switch d := data.(type) {
	case event.TicketRef:
		set(&d.Actor)
		return d
	case event.Issued:
		set(&d.Actor)
		return d
	case event.Called:
		set(&d.Actor)
		return d
	case event.Completed:
		set(&d.Actor)
		return d
	case event.Transferred:
		set(&d.Actor)
		return d
	case event.Cancelled:
		set(&d.Actor)
		return d
	case event.Parked:
		set(&d.Actor)
		return d
	case event.Session:
		set(&d.Actor)
		return d
	case event.Day:
		set(&d.Actor)
		return d
	case event.ConfigRef:
		set(&d.Actor)
		return d
	case event.SignIn:
		set(&d.Actor)
		return d
	case event.Admin:
		set(&d.Actor)
		return d
	case event.Manager:
		set(&d.Actor)
		return d
	case event.AppointmentRef:
		set(&d.Actor)
		return d
	case event.AppointmentDecline:
		set(&d.Actor)
		return d
	case event.AppointmentCancel:
		set(&d.Actor)
		return d
	case event.AppointmentCheckIn:
		set(&d.Actor)
		return d
	case event.CheckedIn:
		set(&d.Actor)
		return d
	case event.Slid:
		set(&d.Actor)
		return d
	}
	return data
}

// executiveActor is an executive at his counter (the counter of his session,
// if any).
func (e *Engine) executiveActor(id string) *event.Actor {
	a := &event.Actor{Kind: event.ActorExecutive, Executive: id}
	if s, ok := e.sessions[id]; ok {
		a.Counter = s.Counter
	}
	return a
}

// SystemActor is the agent itself (day close, session timeouts).
func SystemActor() *event.Actor { return &event.Actor{Kind: event.ActorSystem} }
