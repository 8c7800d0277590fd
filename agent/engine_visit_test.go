package agent_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// refused asserts a refusal with a stable code and reason that changed nothing.
func refused(t *testing.T, ch agent.Change, err error, code queue.Code, reason string) {
	t.Helper()
	require.Error(t, err)
	assert.Equal(t, code, queue.ErrorCode(err), "code of %v", err)
	assert.Equal(t, reason, queue.ErrorReason(err))
	assert.True(t, ch.Empty(), "a refusal writes nothing")
}

func (f *fixture) serve(t *testing.T, id string, counter int) agent.Ticket {
	t.Helper()
	tk, _, err := f.e.CallNext(f.now, id, counter)
	require.NoError(t, err)
	require.NotNil(t, tk)
	s, _, err := f.e.Apply(f.now, agent.Act{Ticket: tk.ID, Action: queue.ActionStart, Executive: id})
	require.NoError(t, err)
	return s
}

func TestParkAndCallBack(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"), exec("E02", "C"))
	f.login(t, "E01", 1)
	f.login(t, "E02", 2)
	a := f.issue(t, "C", queue.Normal)
	b := f.issue(t, "C", queue.Normal)
	f.serve(t, "E01", 1)

	// Only a visit in service can be parked, only by its executive.
	_, ch, err := f.e.Apply(f.now, agent.Act{Ticket: b.ID, Action: queue.ActionPark, Executive: "E01"})
	refused(t, ch, err, queue.CodeConflict, "ticket.illegal_transition")
	_, ch, err = f.e.Apply(f.now, agent.Act{Ticket: a.ID, Action: queue.ActionPark, Executive: "E02"})
	refused(t, ch, err, queue.CodeForbidden, "ticket.not_yours")
	_, ch, err = f.e.Apply(f.now, agent.Act{Ticket: a.ID, Action: queue.ActionPark, Executive: "E01", Reason: "bad\x00"})
	refused(t, ch, err, queue.CodeInvalid, "text.invalid")

	p, ch, err := f.e.Apply(f.now, agent.Act{Ticket: a.ID, Action: queue.ActionPark, Executive: "E01", Reason: "fue por su cédula"})
	require.NoError(t, err)
	assert.Equal(t, queue.StatusParked, p.Status)
	require.Len(t, ch.Events, 1)
	assert.Equal(t, event.TicketParked, ch.Events[0].Type)
	pk := ch.Events[0].Data.(event.Parked)
	assert.Equal(t, "fue por su cédula", pk.Reason)
	assert.Equal(t, "E01", pk.Actor.Executive)
	assert.Equal(t, agent.StateAvailable, f.e.ExecutiveState("E01").State, "a parked visit frees the executive")
	assert.Equal(t, 0, f.e.Position(a.ID, f.now), "a parked visit is in no queue")

	// He serves the next customer meanwhile; E02 cannot call the parked one.
	f.tick(time.Minute)
	next := f.serve(t, "E01", 1)
	assert.Equal(t, b.ID, next.ID)
	_, ch, err = f.e.Apply(f.now, agent.Act{Ticket: a.ID, Action: queue.ActionUnpark, Executive: "E01"})
	refused(t, ch, err, queue.CodeConflict, "session.busy")
	_, ch, err = f.e.Apply(f.now, agent.Act{Ticket: a.ID, Action: queue.ActionUnpark, Executive: "E02"})
	refused(t, ch, err, queue.CodeForbidden, "ticket.not_yours")
	tok, _ := f.e.SessionOf("E01")
	ch, err = f.e.Logout(f.now, tok.TokenHash)
	refused(t, ch, err, queue.CodeConflict, "session.busy")
	_, _, err = f.e.Apply(f.now, agent.Act{Ticket: b.ID, Action: queue.ActionComplete, Executive: "E01"})
	require.NoError(t, err)
	ch, err = f.e.Logout(f.now, tok.TokenHash)
	refused(t, ch, err, queue.CodeConflict, "session.has_parked")
	assert.Equal(t, []string{a.ID}, ids(f.e.Parked("E01")))

	// Called back: called again to his counter (the TV shows it).
	f.tick(time.Minute)
	u, ch, err := f.e.Apply(f.now, agent.Act{Ticket: a.ID, Action: queue.ActionUnpark, Executive: "E01"})
	require.NoError(t, err)
	assert.Equal(t, queue.StatusCalled, u.Status)
	assert.Equal(t, 1, u.Counter)
	assert.Equal(t, f.now.UTC(), u.CalledAt)
	require.Len(t, ch.Events, 1)
	assert.Equal(t, event.TicketUnparked, ch.Events[0].Type)
	assert.Equal(t, "Ejecutivo E01", ch.Events[0].Data.(event.Called).ExecutiveName)
	_, _, err = f.e.Apply(f.now, agent.Act{Ticket: a.ID, Action: queue.ActionStart, Executive: "E01"})
	require.NoError(t, err)
	_, _, err = f.e.Apply(f.now, agent.Act{Ticket: a.ID, Action: queue.ActionComplete, Executive: "E01"})
	require.NoError(t, err)
	assert.Empty(t, f.e.Parked("E01"))
}

func ids(ts []agent.Ticket) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func TestParkedCancelledAndDayClose(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"))
	f.login(t, "E01", 1)
	a := f.issue(t, "C", queue.Normal)
	f.serve(t, "E01", 1)
	_, _, err := f.e.Apply(f.now, agent.Act{Ticket: a.ID, Action: queue.ActionPark, Executive: "E01"})
	require.NoError(t, err)
	c, ch, err := f.e.Apply(f.now, agent.Act{Ticket: a.ID, Action: queue.ActionCancel, Executive: "E01"})
	require.NoError(t, err)
	assert.Equal(t, queue.StatusCancelled, c.Status)
	assert.Equal(t, event.TicketCancelled, ch.Events[0].Type)

	b := f.issue(t, "C", queue.Normal)
	f.serve(t, "E01", 1)
	_, _, err = f.e.Apply(f.now, agent.Act{Ticket: b.ID, Action: queue.ActionPark, Executive: "E01"})
	require.NoError(t, err)
	roll := f.e.Roll(t0.Add(24 * time.Hour))
	require.NotEmpty(t, roll.Events)
	assert.Equal(t, event.TicketAbandoned, roll.Events[0].Type, "the day close abandons a parked visit")
	assert.Empty(t, f.e.Parked("E01"))
}

func TestCallTicketOutOfOrder(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"), exec("E02", "P"))
	f.login(t, "E01", 1)
	f.login(t, "E02", 2)
	first := f.issue(t, "C", queue.Normal)
	chosen := f.issue(t, "C", queue.Normal)
	other := f.issue(t, "P", queue.Normal)

	for _, c := range []struct {
		name, exec, ticket, reason string
		counter                    int
		code                       queue.Code
		want                       string
	}{
		{"no reason", "E01", chosen.ID, "", 1, queue.CodeInvalid, "call.reason_required"},
		{"control char in reason", "E01", chosen.ID, "cita\n", 1, queue.CodeInvalid, "call.reason_required"},
		{"not his service", "E01", other.ID, "cita", 1, queue.CodeForbidden, "ticket.not_your_service"},
		{"unknown ticket", "E01", "nope", "cita", 1, queue.CodeNotFound, "ticket.not_found"},
		{"wrong counter", "E01", chosen.ID, "cita", 2, queue.CodeForbidden, "session.wrong_counter"},
		{"no session", "E09", chosen.ID, "cita", 1, queue.CodeUnauthorized, "session.required"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tk, ch, err := f.e.CallTicket(f.now, c.exec, c.counter, c.ticket, c.reason)
			assert.Nil(t, tk)
			refused(t, ch, err, c.code, c.want)
		})
	}
	assert.Equal(t, 2, f.e.Position(chosen.ID, f.now), "nothing moved")

	tk, ch, err := f.e.CallTicket(f.now, "E01", 1, chosen.ID, "cliente con hora agendada")
	require.NoError(t, err)
	assert.Equal(t, chosen.ID, tk.ID)
	assert.Equal(t, queue.StatusCalled, tk.Status)
	require.NotEmpty(t, ch.Events)
	c := ch.Events[0].Data.(event.Called)
	assert.Equal(t, event.TicketCalled, ch.Events[0].Type)
	assert.True(t, c.Chosen)
	assert.Equal(t, "cliente con hora agendada", c.Reason)
	assert.Equal(t, event.ActorExecutive, c.Actor.Kind)
	assert.Equal(t, 1, f.e.Position(first.ID, f.now))

	_, ch, err = f.e.CallTicket(f.now, "E01", 1, first.ID, "otra")
	refused(t, ch, err, queue.CodeConflict, "session.busy")
	_, ch, err = f.e.CallTicket(f.now, "E02", 2, chosen.ID, "x")
	refused(t, ch, err, queue.CodeConflict, "ticket.not_waiting")
}

func TestWalkIn(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"))
	f.login(t, "E01", 1)
	f.issue(t, "C", queue.Normal)

	_, ch, err := f.e.WalkIn(f.now, agent.WalkInRequest{Executive: "E01", Counter: 1, Service: "Z"})
	refused(t, ch, err, queue.CodeInvalid, "service.unknown")
	_, ch, err = f.e.WalkIn(f.now, agent.WalkInRequest{Executive: "E01", Counter: 1, Service: "C", Priority: "vip"})
	refused(t, ch, err, queue.CodeInvalid, "priority.invalid")
	_, ch, err = f.e.WalkIn(f.now, agent.WalkInRequest{Executive: "E01", Counter: 2, Service: "C"})
	refused(t, ch, err, queue.CodeForbidden, "session.wrong_counter")

	tk, ch, err := f.e.WalkIn(f.now, agent.WalkInRequest{Executive: "E01", Counter: 1, Service: "C", Priority: queue.Preferential})
	require.NoError(t, err)
	assert.Equal(t, "C-002", tk.Display(), "numbered like any ticket")
	assert.Equal(t, queue.StatusServing, tk.Status)
	assert.Equal(t, agent.ChannelCounter, tk.Channel)
	var types []event.Type
	for _, e := range ch.Events {
		types = append(types, e.Type)
	}
	assert.Equal(t, []event.Type{event.TicketIssued, event.TicketCalled, event.TicketStarted}, types)
	assert.Equal(t, agent.ChannelCounter, ch.Events[0].Data.(event.Issued).Channel)
	assert.Equal(t, agent.StateServing, f.e.ExecutiveState("E01").State)
	_, ch, err = f.e.WalkIn(f.now, agent.WalkInRequest{Executive: "E01", Counter: 1, Service: "C"})
	refused(t, ch, err, queue.CodeConflict, "session.busy")
	assert.Equal(t, 1, f.e.WaitingCount("C"), "the waiting customer keeps his place")
}

func TestTransferToExecutive(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "P"), exec("E02", "E"), exec("E03", "E"))
	f.login(t, "E01", 1)
	f.login(t, "E02", 2)
	f.login(t, "E03", 3)
	early := f.issue(t, "E", queue.Normal)
	p := f.issue(t, "P", queue.Normal)
	late := f.issue(t, "E", queue.Normal)
	f.serve(t, "E01", 1)

	bad := []struct {
		name string
		act  agent.Act
		code queue.Code
		want string
	}{
		{"both targets", agent.Act{ToCounter: 2, ToExecutive: "E02"}, queue.CodeInvalid, "transfer.one_target"},
		{"unknown executive", agent.Act{ToExecutive: "E99"}, queue.CodeInvalid, "transfer.executive_unknown"},
		{"himself", agent.Act{ToExecutive: "E01"}, queue.CodeConflict, "transfer.same_target"},
		{"unknown counter", agent.Act{ToCounter: 42}, queue.CodeInvalid, "counter.unknown"},
		{"empty counter", agent.Act{ToCounter: 5}, queue.CodeConflict, "transfer.counter_empty"},
		{"own counter", agent.Act{ToCounter: 1}, queue.CodeConflict, "transfer.same_target"},
		{"no target, same service", agent.Act{To: "P"}, queue.CodeConflict, "transfer.same_service"},
		{"no target, no service", agent.Act{}, queue.CodeInvalid, "service.unknown"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			a := c.act
			a.Ticket, a.Action, a.Executive = p.ID, queue.ActionTransfer, "E01"
			_, ch, err := f.e.Apply(f.now, a)
			refused(t, ch, err, c.code, c.want)
		})
	}

	// To Empresas, for E03 by name, keeping its arrival (earlier than "late",
	// later than "early").
	tr, ch, err := f.e.Apply(f.now, agent.Act{Ticket: p.ID, Action: queue.ActionTransfer, Executive: "E01",
		To: "E", ToExecutive: "E03", KeepArrival: true})
	require.NoError(t, err)
	assert.Equal(t, "E03", tr.TargetExecutive)
	d := ch.Events[0].Data.(event.Transferred)
	assert.Equal(t, "E", d.To)
	assert.Equal(t, "Empresas", d.ToName)
	assert.Equal(t, "E03", d.ToExecutive)
	assert.Equal(t, "Ejecutivo E03", d.ToExecutiveName)
	require.NotNil(t, d.Place)
	assert.Equal(t, 1, d.Place.Position, "first among the tickets for E03")

	// E02 serves Empresas too but never gets it.
	assert.Equal(t, early.ID, f.serve(t, "E02", 2).ID)
	_, _, err = f.e.Apply(f.now, agent.Act{Ticket: early.ID, Action: queue.ActionComplete, Executive: "E02"})
	require.NoError(t, err)
	assert.Equal(t, late.ID, f.serve(t, "E02", 2).ID, "the targeted ticket is skipped by others")
	_, ch, err = f.e.CallTicket(f.now, "E01", 1, p.ID, "x")
	refused(t, ch, err, queue.CodeForbidden, "ticket.targeted_elsewhere")
	// E03: the ticket sent to him, even though nobody else waits.
	assert.Equal(t, p.ID, f.serve(t, "E03", 3).ID)
}

func TestTransferToCounterOrder(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"), exec("E02", "C"))
	f.login(t, "E01", 1)
	f.login(t, "E02", 2)
	a := f.issue(t, "C", queue.Normal)
	b := f.issue(t, "C", queue.Normal)
	c := f.issue(t, "C", queue.Normal)
	f.tick(time.Minute)
	// E01 takes a, sends it to counter 2 keeping its arrival: it is the oldest
	// there, so counter 2 calls it before b.
	f.serve(t, "E01", 1)
	_, _, err := f.e.Apply(f.now, agent.Act{Ticket: a.ID, Action: queue.ActionTransfer, Executive: "E01", ToCounter: 2, KeepArrival: true})
	require.NoError(t, err)
	assert.Equal(t, b.ID, f.serve(t, "E01", 1).ID, "counter 1 skips it")
	assert.Equal(t, a.ID, f.serve(t, "E02", 2).ID, "counter 2 calls it by its arrival")
	_, _, err = f.e.Apply(f.now, agent.Act{Ticket: b.ID, Action: queue.ActionTransfer, Executive: "E01", ToCounter: 2, KeepArrival: false})
	require.NoError(t, err)
	// Not first in line and arriving now: c (older) goes first at counter 2.
	_, _, err = f.e.Apply(f.now, agent.Act{Ticket: a.ID, Action: queue.ActionComplete, Executive: "E02"})
	require.NoError(t, err)
	assert.Equal(t, c.ID, f.serve(t, "E02", 2).ID)
	_, _, err = f.e.Apply(f.now, agent.Act{Ticket: c.ID, Action: queue.ActionComplete, Executive: "E02"})
	require.NoError(t, err)
	// b waits for counter 2 alone now; a newer ticket d is for anyone: E02
	// takes b (older than d), and E01 took the rest.
	d := f.issue(t, "C", queue.Normal)
	assert.Equal(t, b.ID, f.serve(t, "E02", 2).ID)
	_ = d
}

func TestTransferFirstInLineAndRelease(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"), exec("E02", "C"))
	f.login(t, "E01", 1)
	f.login(t, "E02", 2)
	old := f.issue(t, "C", queue.Normal)
	x := f.issue(t, "C", queue.Normal)
	_ = old
	f.tick(time.Minute)
	// E01 calls the oldest and sends it to E02 first in line.
	got := f.serve(t, "E01", 1)
	require.Equal(t, old.ID, got.ID)
	_, _, err := f.e.Apply(f.now, agent.Act{Ticket: old.ID, Action: queue.ActionTransfer, Executive: "E01", ToExecutive: "E02", First: true})
	require.NoError(t, err)
	y := f.issue(t, "C", queue.Preferential)
	// E02 signs out: the ticket goes back to Caja's queue, first in line kept.
	s, _ := f.e.SessionOf("E02")
	ch, err := f.e.Logout(f.now, s.TokenHash)
	require.NoError(t, err)
	var req *event.TicketRef
	for _, e := range ch.Events {
		if e.Type == event.TicketRequeued {
			r := e.Data.(event.TicketRef)
			req = &r
		}
	}
	require.NotNil(t, req, "released with ticket.requeued")
	assert.Equal(t, old.ID, req.Ticket)
	assert.Equal(t, event.ActorSystem, req.Actor.Kind)
	tk, _ := f.e.Ticket(old.ID)
	assert.False(t, tk.Targeted())
	assert.Equal(t, []string{y.ID, old.ID, x.ID}, ids(f.e.Waiting("C", f.now)), "preferential, then first in line, then arrival")
}

func TestOutcomesConfigured(t *testing.T) {
	outs := []queue.Outcome{{Code: "deposit", Name: "Depósito"}, {Code: "card.new", Name: "Tarjeta nueva"}}
	f := newFixtureWith(t, func(c *agent.EngineConfig) { c.Outcomes = outs }, event.DefaultRules(), exec("E01", "C"))
	f.login(t, "E01", 1)
	f.issue(t, "C", queue.Normal)
	tk := f.serve(t, "E01", 1)
	for _, c := range []struct {
		name  string
		codes []string
		want  string
	}{
		{"unknown", []string{"deposit", "loan"}, "ticket.outcome_unknown"},
		{"malformed", []string{"Depósito"}, "ticket.outcome_invalid"},
		{"comma", []string{"a,b"}, "ticket.outcome_invalid"},
		{"too many", []string{"deposit", "deposit", "deposit", "deposit", "deposit", "deposit"}, "ticket.outcome_invalid"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, ch, err := f.e.Apply(f.now, agent.Act{Ticket: tk.ID, Action: queue.ActionComplete, Executive: "E01", Outcomes: c.codes})
			refused(t, ch, err, queue.CodeInvalid, c.want)
		})
	}
	done, ch, err := f.e.Apply(f.now, agent.Act{Ticket: tk.ID, Action: queue.ActionComplete, Executive: "E01",
		Outcomes: []string{"card.new", "deposit", "card.new"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"card.new", "deposit"}, done.Outcomes())
	c := ch.Events[0].Data.(event.Completed)
	assert.Equal(t, "card.new", c.Outcome, "older readers see the first")
	assert.Equal(t, []string{"card.new", "deposit"}, c.Codes())
	assert.Equal(t, outs, f.e.Outcomes())
}

func TestPauseByReasonCode(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"))
	f.login(t, "E01", 1)
	_, ch, err := f.e.PauseFor(f.now, "h-E01", "siesta", "")
	refused(t, ch, err, queue.CodeInvalid, "session.reason_code_invalid")
	s, ch, err := f.e.PauseFor(f.now, "h-E01", queue.PauseLunch, "")
	require.NoError(t, err)
	assert.Equal(t, "Colación", s.PauseReason)
	assert.Equal(t, queue.PauseLunch, s.PauseCode)
	d := ch.Events[0].Data.(event.Session)
	assert.Equal(t, queue.PauseLunch, d.Code)
	assert.Equal(t, "Colación", d.Reason)
}
