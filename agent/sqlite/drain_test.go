package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

func queueOf(e *env, code string) (agent.QueueInfo, bool) {
	_, qs := e.st.Queues(context.Background())
	for _, q := range qs {
		if q.Service == code {
			return q, true
		}
	}
	return agent.QueueInfo{}, false
}

func offered(e *env, code string) bool {
	for _, s := range e.st.Services(context.Background()) {
		if s.Code == code {
			return true
		}
	}
	return false
}

// finish starts and completes a called ticket.
func finish(t *testing.T, e *env, tok, id string) {
	t.Helper()
	for _, a := range []queue.Action{queue.ActionStart, queue.ActionComplete} {
		_, err := e.st.Act(context.Background(), tok, agent.Act{Ticket: id, Action: a})
		require.NoError(t, err)
	}
}

// An HQ config (from a cloud that does not check) removes a service while
// people wait for it: the branch keeps it closed to new tickets, the
// executives who served it call its waiting tickets, and it is dropped once
// nobody is left, also across a restart.
func TestRemovedServiceServedUntilEmpty(t *testing.T) {
	e := MustStore(t, 2)
	ctx := context.Background()
	h, _ := bcrypt.GenerateFromPassword([]byte(TestPIN), bcrypt.MinCost)
	caja := queue.Service{Code: "C", Name: "Caja", TargetWaitS: 600, MeanServiceS: 240, Priority: 1}
	plat := queue.Service{Code: "P", Name: "Plataforma", TargetWaitS: 900, MeanServiceS: 600, Priority: 1}
	cfg := event.Config{V: 1, Branch: "SCL-001", Version: 1, TimeZone: "America/Santiago", Rules: event.DefaultRules(),
		Services: []queue.Service{caja, plat}, Counters: []queue.Counter{{Number: 1}, {Number: 2}},
		Executives: []event.ConfigExecutive{
			{Executive: queue.Executive{ID: "E01", Name: "Ana", Services: []string{"C", "P"}}, PINHash: string(h)},
			{Executive: queue.Executive{ID: "E02", Name: "Luis", Services: []string{"C"}}, PINHash: string(h)}}}
	require.NoError(t, e.st.ApplyConfig(ctx, cfg))
	var waitingP []string
	for range 3 {
		tk, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "P"})
		require.NoError(t, err)
		waitingP = append(waitingP, tk.ID)
	}
	c1, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C"})
	require.NoError(t, err)

	// Version 2 drops P and takes it off Ana's list.
	cfg.Version, cfg.Services = 2, []queue.Service{caja}
	cfg.Executives[0].Services = []string{"C"}
	require.NoError(t, e.st.ApplyConfig(ctx, cfg))

	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "P"})
	assert.Equal(t, "service.draining", queue.ErrorReason(err), "closed to new tickets")
	assert.Contains(t, queue.ErrorMessage("es", err), "ya no recibe números nuevos")
	assert.False(t, offered(e, "P"), "the kiosk no longer offers P")
	q, ok := queueOf(e, "P")
	require.True(t, ok, "the TV and terminals still show P's queue")
	assert.Equal(t, 3, q.Waiting)

	// Luis never served P: he gets C, then nothing.
	luis := e.login(t, "E02", 2)
	tk, err := e.st.CallNext(ctx, luis, 2)
	require.NoError(t, err)
	assert.Equal(t, c1.ID, tk.ID)
	finish(t, e, luis, tk.ID)
	tk, err = e.st.CallNext(ctx, luis, 2)
	require.NoError(t, err)
	assert.Nil(t, tk)

	// Ana served P: she calls its waiting tickets in order, a restart between.
	ana := e.login(t, "E01", 1)
	for i, id := range waitingP {
		if i == 1 {
			e.reopen(t, 2)
			_, ok := queueOf(e, "P")
			require.True(t, ok, "still draining after a restart")
		}
		tk, err := e.st.CallNext(ctx, ana, 1)
		require.NoError(t, err)
		require.NotNil(t, tk, "ticket %d of P callable", i)
		assert.Equal(t, id, tk.ID)
		if i < len(waitingP)-1 {
			finish(t, e, ana, tk.ID)
		}
	}
	_, ok = queueOf(e, "P")
	assert.True(t, ok, "kept while its last ticket is at a counter")
	finish(t, e, ana, waitingP[2])

	// Empty: dropped, now and after a restart.
	_, ok = queueOf(e, "P")
	assert.False(t, ok, "dropped when empty")
	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "P"})
	assert.Equal(t, "service.unknown", queue.ErrorReason(err))
	e.reopen(t, 2)
	_, ok = queueOf(e, "P")
	assert.False(t, ok)

	// HQ bringing P back makes it an ordinary service again.
	cfg.Version, cfg.Services = 3, []queue.Service{caja, plat}
	require.NoError(t, e.st.ApplyConfig(ctx, cfg))
	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "P"})
	require.NoError(t, err)
}

// A config that keeps a service but leaves nobody serving it while people
// wait: closed to new tickets, its waiting tickets called by who served it,
// and open again (as HQ configured it) once they are served, also across a
// restart.
func TestUnservedServiceServedUntilEmpty(t *testing.T) {
	e := MustStore(t, 2)
	ctx := context.Background()
	h, _ := bcrypt.GenerateFromPassword([]byte(TestPIN), bcrypt.MinCost)
	cfg := event.Config{V: 1, Branch: "SCL-001", Version: 1, TimeZone: "America/Santiago", Rules: event.DefaultRules(),
		Services: queue.DefaultServices()[:2], Counters: []queue.Counter{{Number: 1}, {Number: 2}},
		Executives: []event.ConfigExecutive{
			{Executive: queue.Executive{ID: "E01", Name: "Ana", Services: []string{"P", "C"}}, PINHash: string(h)},
			{Executive: queue.Executive{ID: "E02", Name: "Luis", Services: []string{"C"}}, PINHash: string(h)}}}
	require.NoError(t, e.st.ApplyConfig(ctx, cfg))
	waiting, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "P"})
	require.NoError(t, err)

	e.clock.Add(time.Minute)
	cfg.Version = 2
	cfg.Executives[0].Services = []string{"C"} // nobody serves P any more
	require.NoError(t, e.st.ApplyConfig(ctx, cfg))
	e.clock.Add(time.Minute)
	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "P"})
	assert.Equal(t, "service.draining", queue.ErrorReason(err))
	assert.False(t, offered(e, "P"))
	e.reopen(t, 2)
	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "P"})
	assert.Equal(t, "service.draining", queue.ErrorReason(err), "still draining after a restart")

	ana := e.login(t, "E01", 1)
	tk, err := e.st.CallNext(ctx, ana, 1)
	require.NoError(t, err)
	require.NotNil(t, tk)
	assert.Equal(t, waiting.ID, tk.ID, "who served P calls its waiting ticket")
	finish(t, e, ana, tk.ID)

	assert.True(t, offered(e, "P"), "served: P takes tickets again, as HQ configured it")
	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "P"})
	require.NoError(t, err)
	tk, err = e.st.CallNext(ctx, ana, 1)
	require.NoError(t, err)
	assert.Nil(t, tk, "a new P ticket is not Ana's: she no longer serves P")
	e.reopen(t, 2)
	assert.True(t, offered(e, "P"), "not draining again after a restart")
}
