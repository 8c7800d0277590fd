package agent_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// actorOf returns the actor of an emitted event's payload.
func actorOf(t *testing.T, e agent.Emitted) *event.Actor {
	t.Helper()
	switch d := e.Data.(type) {
	case event.TicketRef:
		return d.Actor
	case event.Issued:
		return d.Actor
	case event.Called:
		return d.Actor
	case event.Completed:
		return d.Actor
	case event.Transferred:
		return d.Actor
	case event.Cancelled:
		return d.Actor
	case event.Session:
		return d.Actor
	case event.Day:
		return d.Actor
	}
	t.Fatalf("no actor field in %T", e.Data)
	return nil
}

func TestWaitingTicketOnlyByItsServiceExecutives(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"), exec("E02", "P"))
	f.login(t, "E01", 1)
	f.login(t, "E02", 2)
	c := f.issue(t, "C", queue.Normal)
	for _, a := range []agent.Act{
		{Ticket: c.ID, Action: queue.ActionCancel, Executive: "E02"},
		{Ticket: c.ID, Action: queue.ActionTransfer, Executive: "E02", To: "P", First: true},
	} {
		_, ch, err := f.e.Apply(f.now, a)
		assert.Equal(t, "ticket.not_your_service", queue.ErrorReason(err), a.Action)
		assert.Equal(t, queue.CodeForbidden, queue.ErrorCode(err))
		assert.True(t, ch.Empty(), "nothing written")
	}
	tk, ok := f.e.Ticket(c.ID)
	require.True(t, ok)
	assert.Equal(t, queue.StatusWaiting, tk.Status)
	assert.Equal(t, 1, f.e.Position(c.ID, f.now), "still first in C")

	// His own service's executive may; the event names him and his counter.
	_, ch, err := f.e.Apply(f.now, agent.Act{Ticket: c.ID, Action: queue.ActionTransfer, Executive: "E01", To: "P", First: true})
	require.NoError(t, err)
	assert.Equal(t, &event.Actor{Kind: event.ActorExecutive, Executive: "E01", Counter: 1}, actorOf(t, ch.Events[0]))
	// Now in P: E02 may cancel it, E01 no longer.
	_, _, err = f.e.Apply(f.now, agent.Act{Ticket: c.ID, Action: queue.ActionCancel, Executive: "E01"})
	assert.Equal(t, "ticket.not_your_service", queue.ErrorReason(err))
	_, ch, err = f.e.Apply(f.now, agent.Act{Ticket: c.ID, Action: queue.ActionCancel, Executive: "E02"})
	require.NoError(t, err)
	cc := ch.Events[0].Data.(event.Cancelled)
	assert.Equal(t, "executive", cc.By, "the old field stays for older readers")
	assert.Equal(t, &event.Actor{Kind: event.ActorExecutive, Executive: "E02", Counter: 2}, cc.Actor)
}

func TestEveryEventNamesItsActor(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"))
	var evs []agent.Emitted
	collect := func(ch agent.Change, err error) {
		t.Helper()
		require.NoError(t, err)
		evs = append(evs, ch.Events...)
	}
	_, ch, err := f.e.Login(f.now, agent.LoginAttempt{Executive: "E01", Counter: 3, TokenHash: "h1", PINOK: true})
	collect(ch, err)
	_, ch, err = f.e.Issue(f.now, agent.IssueRequest{Service: "C"})
	collect(ch, err)
	tg, ch, err := f.e.Issue(f.now, agent.IssueRequest{Service: "C", Channel: "telegram"})
	collect(ch, err)
	tk, ch, err := f.e.CallNext(f.now, "E01", 3)
	collect(ch, err)
	_, ch, err = f.e.Apply(f.now, agent.Act{Ticket: tk.ID, Action: queue.ActionStart, Executive: "E01"})
	collect(ch, err)
	_, ch, err = f.e.Apply(f.now, agent.Act{Ticket: tk.ID, Action: queue.ActionComplete, Executive: "E01"})
	collect(ch, err)
	_, ch, err = f.e.CancelByCommand(f.now, tg.ID, "cmd-9")
	collect(ch, err)
	_, ch, err = f.e.Pause(f.now, "h1", "colación")
	collect(ch, err)
	_, ch, err = f.e.Resume(f.now, "h1")
	collect(ch, err)
	ch, err = f.e.Logout(f.now, "h1")
	collect(ch, err)

	me := &event.Actor{Kind: event.ActorExecutive, Executive: "E01", Counter: 3}
	want := []*event.Actor{me, {Kind: event.ActorKiosk}, {Kind: event.ActorTelegram}, me, me, me,
		{Kind: event.ActorTelegram, Request: "cmd-9"}, me, me, me}
	require.Len(t, evs, len(want))
	for i, e := range evs {
		assert.Equal(t, want[i], actorOf(t, e), "%d %s", i, e.Type)
	}
}
