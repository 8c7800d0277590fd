package agent_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// t0 is 10:00 in Santiago (UTC-3 in November).
var t0 = time.Date(2026, 11, 28, 13, 0, 0, 0, time.UTC)

type fixture struct {
	e   *agent.Engine
	now time.Time
	ids int
}

func newFixture(t testing.TB, rules event.Rules, execs ...agent.Executive) *fixture {
	t.Helper()
	return newFixtureWith(t, nil, rules, execs...)
}

// newFixtureWith is newFixture with a last change to the engine's config.
func newFixtureWith(t testing.TB, edit func(*agent.EngineConfig), rules event.Rules, execs ...agent.Executive) *fixture {
	t.Helper()
	loc, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	f := &fixture{now: t0}
	var counters []queue.Counter
	for i := 1; i <= 6; i++ {
		counters = append(counters, queue.Counter{Number: i, Name: fmt.Sprintf("Módulo %d", i)})
	}
	for i := range execs {
		execs[i].Active = true
	}
	cfg := agent.EngineConfig{
		Branch: "SCL-001", Location: loc, Services: queue.DefaultServices(), Counters: counters,
		Executives: execs, Rules: rules,
		NewID:    func() string { f.ids++; return fmt.Sprintf("T%04d", f.ids) },
		NewToken: func() string { return fmt.Sprintf("tok%d", f.ids) },
	}
	if edit != nil {
		edit(&cfg)
	}
	e, err := agent.NewEngine(cfg, agent.EngineState{})
	require.NoError(t, err)
	f.e = e
	f.e.Roll(f.now)
	return f
}

func exec(id string, services ...string) agent.Executive {
	return agent.Executive{Executive: queue.Executive{ID: id, Name: "Ejecutivo " + id, Services: services}}
}

func (f *fixture) tick(d time.Duration) { f.now = f.now.Add(d) }

func (f *fixture) issue(t testing.TB, svc string, p queue.PriorityClass) agent.Ticket {
	t.Helper()
	tk, ch, err := f.e.Issue(f.now, agent.IssueRequest{Service: svc, Priority: p})
	require.NoError(t, err)
	require.Len(t, ch.Events, 1)
	f.tick(time.Second)
	return tk
}

func (f *fixture) login(t testing.TB, id string, counter int) {
	t.Helper()
	_, _, err := f.e.Login(f.now, agent.LoginAttempt{Executive: id, Counter: counter, TokenHash: "h-" + id, PINOK: true})
	require.NoError(t, err)
}

// call calls next for id and completes the ticket at once, returning its number.
func (f *fixture) callDone(t *testing.T, id string, counter int) string {
	t.Helper()
	tk, _, err := f.e.CallNext(f.now, id, counter)
	require.NoError(t, err)
	if tk == nil {
		return ""
	}
	_, _, err = f.e.Apply(f.now, agent.Act{Ticket: tk.ID, Action: queue.ActionStart, Executive: id})
	require.NoError(t, err)
	_, _, err = f.e.Apply(f.now, agent.Act{Ticket: tk.ID, Action: queue.ActionComplete, Executive: id})
	require.NoError(t, err)
	return tk.Display()
}

func TestIssueNumbersPerService(t *testing.T) {
	f := newFixture(t, event.DefaultRules())
	assert.Equal(t, "C-001", f.issue(t, "C", queue.Normal).Display())
	assert.Equal(t, "C-002", f.issue(t, "C", queue.Normal).Display())
	assert.Equal(t, "P-001", f.issue(t, "P", queue.Normal).Display())
	tk := f.issue(t, "C", queue.Preferential)
	assert.Equal(t, "C-003", tk.Display())
	assert.Equal(t, queue.StatusWaiting, tk.Status)
	assert.Equal(t, "2026-11-28", tk.Day)

	_, ch, err := f.e.Issue(f.now, agent.IssueRequest{Service: "X"})
	assert.Equal(t, "service.unknown", queue.ErrorReason(err))
	assert.True(t, ch.Empty())
	_, _, err = f.e.Issue(f.now, agent.IssueRequest{Service: "C", Priority: "vip"})
	assert.Equal(t, "priority.invalid", queue.ErrorReason(err))
	assert.Equal(t, "C-004", f.issue(t, "C", queue.Normal).Display(), "a refused issue takes no number")
}

func TestCallOrder(t *testing.T) {
	N, P, M := queue.Normal, queue.Preferential, queue.Premium
	tests := []struct {
		name  string
		ratio int
		// issued in order, each one second after the other
		tickets []queue.PriorityClass
		want    []string
	}{
		{"fifo within a class", 2, []queue.PriorityClass{N, N, N}, []string{"C-001", "C-002", "C-003"}},
		{"preferential first", 2, []queue.PriorityClass{N, P}, []string{"C-002", "C-001"}},
		{"preferential before premium", 2, []queue.PriorityClass{M, P, N}, []string{"C-002", "C-001", "C-003"}},
		{"premium counts toward the ratio", 1, []queue.PriorityClass{N, M, M}, []string{"C-002", "C-001", "C-003"}},
		{"ratio 2:1 prevents starvation", 2, []queue.PriorityClass{N, N, P, P, P, P, P},
			[]string{"C-003", "C-004", "C-001", "C-005", "C-006", "C-002", "C-007"}},
		{"ratio 1:1", 1, []queue.PriorityClass{N, N, P, P}, []string{"C-003", "C-001", "C-004", "C-002"}},
		{"ratio 0 is strict priority", 0, []queue.PriorityClass{N, P, P, P}, []string{"C-002", "C-003", "C-004", "C-001"}},
		{"no streak without a normal waiting", 2, []queue.PriorityClass{P, P, P}, []string{"C-001", "C-002", "C-003"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rules := event.DefaultRules()
			rules.PreferentialRatio = tc.ratio
			f := newFixture(t, rules, exec("E01", "C"))
			for _, p := range tc.tickets {
				f.issue(t, "C", p)
			}
			// The predicted order (positions) matches the calls made.
			var predicted []string
			for _, tk := range f.e.Waiting("C", f.now) {
				predicted = append(predicted, tk.Display())
			}
			assert.Equal(t, tc.want, predicted, "predicted order")
			f.login(t, "E01", 1)
			var got []string
			for range tc.tickets {
				got = append(got, f.callDone(t, "E01", 1))
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, "", f.callDone(t, "E01", 1), "nobody left")
		})
	}
}

func TestOverdueGoesFirst(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "G", "C"))
	old := f.issue(t, "C", queue.Normal) // Caja's target is 10 min
	f.tick(9 * time.Minute)
	f.issue(t, "G", queue.Normal) // Gerencia has the highest priority
	f.login(t, "E01", 1)
	f.tick(30 * time.Second)
	// C-001 waited 9.5 min: not overdue yet, Gerencia goes first.
	g, _, err := f.e.CallNext(f.now, "E01", 1)
	require.NoError(t, err)
	assert.Equal(t, "G-001", g.Display())
	_, _, err = f.e.Apply(f.now, agent.Act{Ticket: g.ID, Action: queue.ActionRequeue, Executive: "E01"})
	require.NoError(t, err)
	f.tick(time.Minute) // now C-001 waited 10.5 min
	tk, _, err := f.e.CallNext(f.now, "E01", 1)
	require.NoError(t, err)
	assert.Equal(t, old.ID, tk.ID, "the overdue Caja ticket beats the Gerencia one")

	// Within a service an overdue normal ticket beats a fresh premium one, but
	// never a preferential one (the law): only the ratio lets it go first.
	f2 := newFixture(t, event.DefaultRules(), exec("E02", "C"))
	f2.issue(t, "C", queue.Normal)
	f2.tick(11 * time.Minute)
	f2.issue(t, "C", queue.Premium)
	pref := f2.issue(t, "C", queue.Preferential)
	assert.Equal(t, 1, f2.e.Position(pref.ID, f2.now), "a preferential ticket is not placed behind overdue ones")
	f2.login(t, "E02", 2)
	assert.Equal(t, "C-003", f2.callDone(t, "E02", 2))
	assert.Equal(t, "C-001", f2.callDone(t, "E02", 2), "the overdue normal ticket before the premium one")
	assert.Equal(t, "C-002", f2.callDone(t, "E02", 2))

	// Across services too: an overdue normal ticket of a higher service does
	// not overtake a waiting preferential one of another.
	f3 := newFixture(t, event.DefaultRules(), exec("E03", "G", "C"))
	f3.issue(t, "G", queue.Normal)
	f3.tick(31 * time.Minute)
	f3.issue(t, "C", queue.Preferential)
	f3.login(t, "E03", 3)
	assert.Equal(t, "C-001", f3.callDone(t, "E03", 3))
	assert.Equal(t, "G-001", f3.callDone(t, "E03", 3))
}

// TestPreferentialNotPushedBack is the issue's case: a preferential customer
// issued while normal tickets are past their target is next, and stays next.
func TestPreferentialNotPushedBack(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"))
	for range 3 {
		f.issue(t, "C", queue.Normal)
	}
	f.tick(12 * time.Minute)
	tk, ch, err := f.e.Issue(f.now, agent.IssueRequest{Service: "C", Priority: queue.Preferential})
	require.NoError(t, err)
	assert.Equal(t, 1, ch.Events[0].Data.(event.Issued).Position)
	f.tick(5 * time.Minute)
	assert.Equal(t, 1, f.e.Position(tk.ID, f.now), "no new arrivals: still next")
}

// TestCrossServiceRatio: an executive serving two services does not starve the
// normal tickets of one behind the preferential stream of the other.
func TestCrossServiceRatio(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "G", "C"))
	f.issue(t, "C", queue.Normal)
	for range 4 {
		f.issue(t, "G", queue.Preferential)
	}
	f.login(t, "E01", 1)
	var got []string
	for range 5 {
		got = append(got, f.callDone(t, "E01", 1))
	}
	assert.Equal(t, []string{"G-001", "G-002", "C-001", "G-003", "G-004"}, got)
}

func TestServicePriorityAndOrder(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C", "P", "E"), exec("E02", "E", "P"))
	f.issue(t, "C", queue.Normal)
	f.issue(t, "P", queue.Normal)
	f.issue(t, "E", queue.Normal)
	f.issue(t, "P", queue.Normal)
	f.login(t, "E01", 1)
	f.login(t, "E02", 2)
	// P and E share priority 2 (above C's 1): E01 prefers P, E02 prefers E.
	assert.Equal(t, "P-001", f.callDone(t, "E01", 1))
	assert.Equal(t, "E-001", f.callDone(t, "E02", 2))
	assert.Equal(t, "P-002", f.callDone(t, "E02", 2))
	assert.Equal(t, "C-001", f.callDone(t, "E01", 1))
	assert.Equal(t, "", f.callDone(t, "E02", 2), "E02 does not serve Caja")
}

func TestCallNextRefusals(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"), exec("E02", "C"))
	f.issue(t, "C", queue.Normal)
	f.issue(t, "C", queue.Normal)
	_, _, err := f.e.CallNext(f.now, "E01", 1)
	assert.Equal(t, "session.required", queue.ErrorReason(err))
	f.login(t, "E01", 1)
	f.login(t, "E02", 2)
	_, _, err = f.e.CallNext(f.now, "E01", 2)
	assert.Equal(t, "session.wrong_counter", queue.ErrorReason(err))
	assert.Equal(t, queue.CodeForbidden, queue.ErrorCode(err))
	tk, _, err := f.e.CallNext(f.now, "E01", 1)
	require.NoError(t, err)
	_, _, err = f.e.CallNext(f.now, "E01", 1)
	assert.Equal(t, "session.busy", queue.ErrorReason(err))
	// Another executive can't act on his ticket, and gets the other one.
	_, _, err = f.e.Apply(f.now, agent.Act{Ticket: tk.ID, Action: queue.ActionStart, Executive: "E02"})
	assert.Equal(t, "ticket.not_yours", queue.ErrorReason(err))
	tk2, _, err := f.e.CallNext(f.now, "E02", 2)
	require.NoError(t, err)
	assert.NotEqual(t, tk.ID, tk2.ID)
	_, _, err = f.e.Pause(f.now, "h-E02", "colación")
	assert.Equal(t, "session.busy", queue.ErrorReason(err))
	_, _, err = f.e.Apply(f.now, agent.Act{Ticket: tk2.ID, Action: queue.ActionNoShow, Executive: "E02"})
	require.NoError(t, err)
	_, _, err = f.e.Pause(f.now, "h-E02", "colación")
	require.NoError(t, err)
	assert.Equal(t, agent.StatePaused, f.e.ExecutiveState("E02").State)
	_, _, err = f.e.CallNext(f.now, "E02", 2)
	assert.Equal(t, "session.paused", queue.ErrorReason(err))
	_, _, err = f.e.Resume(f.now, "h-E02")
	require.NoError(t, err)
	_, _, err = f.e.Resume(f.now, "h-E02")
	assert.Equal(t, "session.not_paused", queue.ErrorReason(err))
	assert.Equal(t, agent.StateAvailable, f.e.ExecutiveState("E02").State)
	assert.Equal(t, agent.StateCalled, f.e.ExecutiveState("E01").State)
}

func TestTicketActions(t *testing.T) {
	rules := event.DefaultRules()
	rules.RecallLimit = 2
	f := newFixture(t, rules, exec("E01", "C", "P"))
	f.login(t, "E01", 1)
	a := f.issue(t, "C", queue.Normal)
	b := f.issue(t, "C", queue.Normal)
	act := func(id string, action queue.Action) (agent.Ticket, agent.Change, error) {
		return f.e.Apply(f.now, agent.Act{Ticket: id, Action: action, Executive: "E01"})
	}

	t.Run("illegal transitions", func(t *testing.T) {
		for _, action := range []queue.Action{queue.ActionRecall, queue.ActionStart, queue.ActionComplete, queue.ActionNoShow, queue.ActionRequeue} {
			_, ch, err := act(a.ID, action)
			assert.Equal(t, "ticket.illegal_transition", queue.ErrorReason(err), action)
			assert.True(t, ch.Empty())
		}
	})
	t.Run("recall limit", func(t *testing.T) {
		tk, _, err := f.e.CallNext(f.now, "E01", 1)
		require.NoError(t, err)
		require.Equal(t, a.ID, tk.ID)
		for i := 1; i <= 2; i++ {
			r, ch, err := act(a.ID, queue.ActionRecall)
			require.NoError(t, err)
			assert.Equal(t, i, r.Recalls)
			assert.Equal(t, event.TicketRecalled, ch.Events[0].Type)
			assert.Equal(t, i, ch.Events[0].Data.(event.Called).Recall)
		}
		_, _, err = act(a.ID, queue.ActionRecall)
		assert.Equal(t, "ticket.recall_limit", queue.ErrorReason(err))
	})
	t.Run("requeue keeps arrival", func(t *testing.T) {
		r, ch, err := act(a.ID, queue.ActionRequeue)
		require.NoError(t, err)
		assert.Equal(t, queue.StatusWaiting, r.Status)
		assert.Zero(t, r.Counter)
		assert.Equal(t, a.QueuedAt, r.QueuedAt)
		assert.Equal(t, event.TicketRequeued, ch.Events[0].Type)
		assert.Equal(t, 1, f.e.Position(a.ID, f.now))
		assert.Equal(t, 2, f.e.Position(b.ID, f.now))
	})
	t.Run("transfer keeps arrival", func(t *testing.T) {
		p1 := f.issue(t, "P", queue.Normal)
		r, ch, err := f.e.Apply(f.now, agent.Act{Ticket: a.ID, Action: queue.ActionTransfer, Executive: "E01", To: "P", KeepArrival: true})
		require.NoError(t, err)
		assert.Equal(t, "P", r.Service)
		assert.Equal(t, "C-001", r.Display(), "keeps its number")
		tr := ch.Events[0].Data.(event.Transferred)
		assert.Equal(t, "C", tr.Service)
		assert.Equal(t, "P", tr.To)
		assert.Equal(t, 1, f.e.Position(a.ID, f.now), "arrived before P-001")
		assert.Equal(t, 2, f.e.Position(p1.ID, f.now))
		_, _, err = f.e.Apply(f.now, agent.Act{Ticket: a.ID, Action: queue.ActionTransfer, Executive: "E01", To: "P"})
		assert.Equal(t, "transfer.same_service", queue.ErrorReason(err))
		_, _, err = f.e.Apply(f.now, agent.Act{Ticket: a.ID, Action: queue.ActionTransfer, Executive: "E01", To: "Z"})
		assert.Equal(t, "service.unknown", queue.ErrorReason(err))
	})
	t.Run("transfer as arriving now, or first in line", func(t *testing.T) {
		c := f.issue(t, "C", queue.Normal)
		r, _, err := f.e.Apply(f.now, agent.Act{Ticket: b.ID, Action: queue.ActionTransfer, Executive: "E01", To: "P"})
		require.NoError(t, err)
		assert.Equal(t, f.now.UTC(), r.QueuedAt)
		assert.Equal(t, 3, f.e.Position(b.ID, f.now), "behind the others in P")
		_, _, err = f.e.Apply(f.now, agent.Act{Ticket: c.ID, Action: queue.ActionTransfer, Executive: "E01", To: "P", First: true})
		require.NoError(t, err)
		assert.Equal(t, 1, f.e.Position(c.ID, f.now), "first in line")
	})
	t.Run("start complete with outcome feeds the mean", func(t *testing.T) {
		tk, _, err := f.e.CallNext(f.now, "E01", 1)
		require.NoError(t, err)
		before := f.e.MeanService("P")
		_, ch, err := act(tk.ID, queue.ActionStart)
		require.NoError(t, err)
		assert.Equal(t, event.TicketStarted, ch.Events[0].Type)
		f.tick(5 * time.Minute)
		_, _, err = f.e.Apply(f.now, agent.Act{Ticket: tk.ID, Action: queue.ActionComplete, Executive: "E01", Outcome: "Bad Outcome!"})
		assert.Equal(t, "ticket.outcome_invalid", queue.ErrorReason(err))
		r, ch, err := f.e.Apply(f.now, agent.Act{Ticket: tk.ID, Action: queue.ActionComplete, Executive: "E01", Outcome: "deposito"})
		require.NoError(t, err)
		assert.Equal(t, queue.StatusDone, r.Status)
		assert.Equal(t, "deposito", ch.Events[0].Data.(event.Completed).Outcome)
		// 0.8 × 900 s + 0.2 × 300 s = 780 s
		assert.Equal(t, 780*time.Second, f.e.MeanService("P"))
		assert.Less(t, f.e.MeanService("P"), before)
		_, ok := f.e.Ticket(tk.ID)
		assert.False(t, ok, "closed tickets leave the engine")
	})
	t.Run("cancel a waiting ticket", func(t *testing.T) {
		w := f.e.Waiting("P", f.now)
		require.NotEmpty(t, w)
		r, ch, err := f.e.Apply(f.now, agent.Act{Ticket: w[0].ID, Action: queue.ActionCancel, Executive: "E01"})
		require.NoError(t, err)
		assert.Equal(t, queue.StatusCancelled, r.Status)
		assert.Equal(t, "executive", ch.Events[0].Data.(event.Cancelled).By)
	})
}

func TestCancelByCommand(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"))
	f.login(t, "E01", 1)
	a := f.issue(t, "C", queue.Normal)
	b := f.issue(t, "C", queue.Normal)
	_, ch, err := f.e.CancelByCommand(f.now, b.ID, "cmd-1")
	require.NoError(t, err)
	require.Len(t, ch.Events, 1)
	c := ch.Events[0].Data.(event.Cancelled)
	assert.Equal(t, "telegram", c.By)
	assert.Equal(t, "cmd-1", c.Request)
	tk, _, err := f.e.CallNext(f.now, "E01", 1)
	require.NoError(t, err)
	require.Equal(t, a.ID, tk.ID)
	_, ch, err = f.e.CancelByCommand(f.now, a.ID, "cmd-2")
	require.NoError(t, err)
	require.Len(t, ch.Events, 2, "a called ticket is put back, then cancelled")
	assert.Equal(t, event.TicketRequeued, ch.Events[0].Type)
	assert.Equal(t, event.TicketCancelled, ch.Events[1].Type)
	assert.Equal(t, agent.StateAvailable, f.e.ExecutiveState("E01").State)
}

func TestSessions(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"), exec("E02", "C"))
	_, _, err := f.e.Login(f.now, agent.LoginAttempt{Executive: "E01", Counter: 9, TokenHash: "h1", PINOK: true})
	assert.Equal(t, "counter.unknown", queue.ErrorReason(err))
	_, _, err = f.e.Login(f.now, agent.LoginAttempt{Executive: "NOPE", Counter: 1, TokenHash: "h1", PINOK: true})
	assert.Equal(t, "session.bad_pin", queue.ErrorReason(err))
	_, ch, err := f.e.Login(f.now, agent.LoginAttempt{Executive: "E01", Counter: 1, TokenHash: "h1", PINOK: true})
	require.NoError(t, err)
	assert.Equal(t, event.ExecutiveLoggedIn, ch.Events[0].Type)
	_, _, err = f.e.Login(f.now, agent.LoginAttempt{Executive: "E02", Counter: 1, TokenHash: "h2", PINOK: true})
	assert.Equal(t, "session.counter_taken", queue.ErrorReason(err))
	_, _, err = f.e.Login(f.now, agent.LoginAttempt{Executive: "E01", Counter: 2, TokenHash: "h3", PINOK: true})
	assert.Equal(t, "session.executive_busy", queue.ErrorReason(err))
	// Signing in again at the same counter replaces the token.
	_, ch, err = f.e.Login(f.now, agent.LoginAttempt{Executive: "E01", Counter: 1, TokenHash: "h4", PINOK: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"h1"}, ch.EndedSessions)
	_, ok := f.e.SessionByToken("h1")
	assert.False(t, ok)
	ch, err = f.e.Logout(f.now, "h4")
	require.NoError(t, err)
	assert.Equal(t, event.ExecutiveLoggedOut, ch.Events[0].Type)
	assert.Equal(t, agent.StateOffline, f.e.ExecutiveState("E01").State)
	_, err = f.e.Logout(f.now, "h4")
	assert.Equal(t, "session.required", queue.ErrorReason(err))
	_, _, err = f.e.Pause(f.now, "h4", "x")
	assert.Equal(t, "session.required", queue.ErrorReason(err))
}

// TestPINThrottleIsPerAddress: wrong PINs make the guessing address wait,
// longer and longer, with an event for each failure and each wait; the
// executive signs in from his own terminal meanwhile (the old lockout
// refused even his right PIN for 5 minutes after anyone's 5 guesses).
func TestPINThrottleIsPerAddress(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"))
	const evil, own = "10.0.0.66", "10.0.0.21"
	try := func(addr string, ok bool) (agent.Change, error) {
		_, ch, err := f.e.Login(f.now, agent.LoginAttempt{Executive: "E01", Counter: 1, Addr: addr, TokenHash: "h-" + addr, PINOK: ok})
		return ch, err
	}
	for i := 1; i < agent.FreePINFailures; i++ {
		ch, err := try(evil, false)
		assert.Equal(t, "session.bad_pin", queue.ErrorReason(err))
		require.Len(t, ch.Events, 1)
		assert.Equal(t, event.ExecutiveLoginFailed, ch.Events[0].Type)
		si := ch.Events[0].Data.(event.SignIn)
		assert.Equal(t, event.SignIn{Executive: "E01", Counter: 1, Address: evil, Failures: i,
			Actor: &event.Actor{Kind: event.ActorExecutive, Executive: "E01", Counter: 1, Address: evil}}, si)
	}
	ch, err := try(evil, false)
	assert.Equal(t, "session.locked", queue.ErrorReason(err))
	assert.Equal(t, queue.CodeForbidden, queue.ErrorCode(err))
	require.Len(t, ch.Events, 2)
	assert.Equal(t, event.ExecutiveLocked, ch.Events[1].Type)
	assert.Equal(t, 30, ch.Events[1].Data.(event.SignIn).RetryS)

	// The right PIN from the guessing address waits too...
	_, err = try(evil, true)
	assert.Equal(t, "session.locked", queue.ErrorReason(err))
	// ...but not from the executive's own terminal.
	ch, err = try(own, true)
	require.NoError(t, err)
	assert.Equal(t, event.ExecutiveLoggedIn, ch.Events[0].Type)
	_, err = f.e.Logout(f.now, "h-"+own)
	require.NoError(t, err)

	// Each further wrong PIN doubles the wait, up to an hour.
	waits := []int{}
	for range 10 {
		f.tick(2 * time.Hour)
		ch, err := try(evil, false)
		assert.Equal(t, "session.locked", queue.ErrorReason(err))
		waits = append(waits, ch.Events[1].Data.(event.SignIn).RetryS)
	}
	assert.Equal(t, []int{60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600}, waits)

	// A right PIN after the wait clears the address.
	f.tick(time.Hour)
	_, err = try(evil, true)
	require.NoError(t, err)
	_, err = f.e.Logout(f.now, "h-"+evil)
	require.NoError(t, err)
	ch, err = try(evil, false)
	assert.Equal(t, "session.bad_pin", queue.ErrorReason(err))
	assert.Equal(t, 1, ch.Events[0].Data.(event.SignIn).Failures)
}

func TestPINDelay(t *testing.T) {
	assert.Zero(t, agent.PINDelay(agent.FreePINFailures-1))
	assert.Equal(t, agent.PINDelayBase, agent.PINDelay(agent.FreePINFailures))
	assert.Equal(t, 2*agent.PINDelayBase, agent.PINDelay(agent.FreePINFailures+1))
	assert.Equal(t, agent.PINDelayMax, agent.PINDelay(1000))
}

func TestPositionAndEstimate(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"), exec("E02", "C", "P"))
	var tks []agent.Ticket
	for range 4 {
		tks = append(tks, f.issue(t, "C", queue.Normal))
	}
	// Nobody serving: one executive assumed, 5 min each.
	assert.Equal(t, agent.Estimate{TypicalS: 1200, UpperS: 1800}, f.e.Estimate("C", 4))
	f.login(t, "E01", 1)
	f.login(t, "E02", 2)
	assert.Equal(t, 2, f.e.Serving("C"))
	assert.Equal(t, 4, f.e.Position(tks[3].ID, f.now))
	assert.Equal(t, agent.Estimate{TypicalS: 600, UpperS: 900}, f.e.Estimate("C", 4))
	assert.Equal(t, agent.Estimate{TypicalS: 150, UpperS: 450}, f.e.Estimate("C", 1))
	_, _, err := f.e.Pause(f.now, "h-E02", "reunión")
	require.NoError(t, err)
	assert.Equal(t, 1, f.e.Serving("C"), "a paused executive does not count")
	pref := f.issue(t, "C", queue.Preferential)
	assert.Equal(t, 1, f.e.Position(pref.ID, f.now))
	assert.Equal(t, 5, f.e.Position(tks[3].ID, f.now))
}

func TestDayBoundary(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"))
	// 23:50 in Santiago on the 28th is 02:50 UTC on the 29th.
	f.now = time.Date(2026, 11, 29, 2, 50, 0, 0, time.UTC)
	assert.True(t, f.e.Roll(f.now).Empty(), "still the 28th in Santiago")
	a := f.issue(t, "C", queue.Normal)
	f.issue(t, "C", queue.Normal)
	f.login(t, "E01", 1)
	called, _, err := f.e.CallNext(f.now, "E01", 1)
	require.NoError(t, err)
	assert.Equal(t, a.ID, called.ID)
	assert.Equal(t, "2026-11-28", a.Day)

	f.now = time.Date(2026, 11, 29, 3, 0, 1, 0, time.UTC) // 00:00:01 on the 29th
	ch := f.e.Roll(f.now)
	require.Len(t, ch.Events, 3)
	assert.Equal(t, event.TicketAbandoned, ch.Events[0].Type)
	assert.Equal(t, event.TicketAbandoned, ch.Events[1].Type)
	assert.Equal(t, event.DayClosed, ch.Events[2].Type)
	assert.Equal(t, event.Day{Day: "2026-11-28", Abandoned: 2}, ch.Events[2].Data)
	for _, tk := range ch.Tickets {
		assert.Equal(t, queue.StatusAbandoned, tk.Status)
	}
	assert.Equal(t, "2026-11-29", ch.Meta[agent.MetaDay])
	assert.Empty(t, f.e.Open())
	assert.Equal(t, agent.StateAvailable, f.e.ExecutiveState("E01").State, "the session survives, its ticket does not")
	tk := f.issue(t, "C", queue.Normal)
	assert.Equal(t, "C-001", tk.Display(), "numbers restart")
	assert.Equal(t, "2026-11-29", tk.Day)
	assert.True(t, f.e.Roll(f.now).Empty())
}

func TestEngineResumesFromState(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"))
	f.issue(t, "C", queue.Normal)
	f.issue(t, "C", queue.Preferential)
	f.login(t, "E01", 1)
	loc, _ := time.LoadLocation("America/Santiago")
	s, _ := f.e.SessionOf("E01")
	e2, err := agent.NewEngine(agent.EngineConfig{Branch: "SCL-001", Location: loc, Services: queue.DefaultServices(),
		Counters: []queue.Counter{{Number: 1}}, Executives: []agent.Executive{{Executive: queue.Executive{ID: "E01", Services: []string{"C"}}, Active: true}},
		Rules: event.DefaultRules(), NewID: func() string { return "X1" }, NewToken: func() string { return "k" }},
		agent.EngineState{Day: f.e.Day(), Tickets: f.e.Open(), Sessions: []agent.Session{s}, Numbering: map[string]int{"C": 2}})
	require.NoError(t, err)
	tk, _, err := e2.Issue(f.now, agent.IssueRequest{Service: "C"})
	require.NoError(t, err)
	assert.Equal(t, "C-003", tk.Display())
	assert.Equal(t, 3, tk.QuotedTypical/300, "third in line, one executive")
	called, _, err := e2.CallNext(f.now, "E01", 1)
	require.NoError(t, err)
	assert.Equal(t, "C-002", called.Display())
}

// TestIssuePositionMatchesCallingOrder: the position quoted at issue (one
// pass) equals the position in the simulated calling order, for random
// mixes of classes, ratios, calls and overdue tickets.
func TestIssuePositionMatchesCallingOrder(t *testing.T) {
	classes := []queue.PriorityClass{queue.Normal, queue.Normal, queue.Normal, queue.Preferential, queue.Premium}
	for seed := range 200 {
		rules := event.DefaultRules()
		rules.PreferentialRatio = seed % 4
		f := newFixture(t, rules, exec("E01", "C"))
		f.login(t, "E01", 1)
		r := uint32(seed*7919 + 1)
		rnd := func(n int) int { r = r*1103515245 + 12345; return int(r>>16) % n }
		for i := range 60 {
			tk, ch, err := f.e.Issue(f.now, agent.IssueRequest{Service: "C", Priority: classes[rnd(len(classes))]})
			require.NoError(t, err)
			quoted := ch.Events[0].Data.(event.Issued).Position
			if f.e.Position(tk.ID, f.now) != quoted {
				for _, w := range f.e.Waiting("C", f.now) {
					t.Logf("%s %s q=%s first=%v", w.Display(), w.Priority, w.QueuedAt.Sub(t0), w.FirstInLine)
				}
				t.Logf("now=%s", f.now.Sub(t0))
			}
			require.Equal(t, f.e.Position(tk.ID, f.now), quoted, "seed %d ticket %d", seed, i)
			f.tick(time.Duration(rnd(90)) * time.Second)
			if rnd(3) == 0 {
				f.callDone(t, "E01", 1)
			}
		}
	}
}

func TestDayCloseFreesExecutives(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"))
	f.issue(t, "C", queue.Normal)
	f.login(t, "E01", 1)
	_, _, err := f.e.CallNext(f.now, "E01", 1)
	require.NoError(t, err)
	ch := f.e.Roll(f.now.Add(24 * time.Hour))
	require.Equal(t, event.TicketAbandoned, ch.Events[0].Type)
	assert.Equal(t, agent.StateAvailable, ch.Events[0].Executive.State)
	assert.Zero(t, f.e.WaitingCount("C"))
}

func nears(ch agent.Change) []event.Near {
	var out []event.Near
	for _, e := range ch.Events {
		if e.Type == event.TicketNear {
			out = append(out, e.Data.(event.Near))
		}
	}
	return out
}

// TestNear: ticket.near is emitted once per ticket when its people ahead come
// down to the branch's threshold (or the service's override), with the place
// the calling rule gives it.
func TestNear(t *testing.T) {
	rules := event.DefaultRules()
	rules.PreNoticeAhead = 2
	rules.PreNoticeByService = map[string]int{"P": 0}
	f := newFixture(t, rules, exec("E01", "C", "P"))
	var tks []agent.Ticket
	for range 6 {
		tks = append(tks, f.issue(t, "C", queue.Normal))
	}
	assert.True(t, tks[2].Near, "issued within the threshold: no separate notice")
	assert.False(t, tks[3].Near)
	f.login(t, "E01", 1)
	tk, ch, err := f.e.CallNext(f.now, "E01", 1)
	require.NoError(t, err)
	require.Equal(t, tks[0].ID, tk.ID)
	n := nears(ch)
	require.Len(t, n, 1)
	assert.Equal(t, tks[3].ID, n[0].Ticket)
	assert.Equal(t, "C-004", n[0].Printed)
	assert.Equal(t, 3, n[0].Place.Position)
	assert.Equal(t, 2, n[0].Threshold)
	assert.Equal(t, f.e.Position(tks[3].ID, f.now), n[0].Place.Position, "the figure is the agent's position")
	got, _ := f.e.Ticket(tks[3].ID)
	assert.True(t, got.Near)

	// Requeue puts C-001 back at the head: nobody new comes within 2 ahead.
	_, ch, err = f.e.Apply(f.now, agent.Act{Ticket: tk.ID, Action: queue.ActionRequeue, Executive: "E01"})
	require.NoError(t, err)
	assert.Empty(t, nears(ch))
	require.Equal(t, event.TicketRequeued, ch.Events[0].Type)
	assert.Equal(t, 1, ch.Events[0].Data.(event.TicketRef).Place.Position)

	// Transfer C-006 to P (override 0): it is alone there, so near at once,
	// and its printed number stays C-006.
	_, ch, err = f.e.Apply(f.now, agent.Act{Ticket: tks[5].ID, Action: queue.ActionTransfer, To: "P", KeepArrival: true, Executive: "E01"})
	require.NoError(t, err)
	tr := ch.Events[0].Data.(event.Transferred)
	assert.Equal(t, "C-006", tr.Printed)
	assert.Equal(t, "C", tr.Service)
	assert.Equal(t, "P", tr.To)
	require.NotNil(t, tr.Place)
	assert.Equal(t, 1, tr.Place.Position)
	n = nears(ch)
	require.Len(t, n, 1)
	assert.Equal(t, "C-006", n[0].Printed)
	assert.Equal(t, 0, n[0].Threshold)

	// Once per ticket: calling everything emits no second notice for anyone.
	seen := map[string]int{}
	for {
		tk, ch, err := f.e.CallNext(f.now, "E01", 1)
		require.NoError(t, err)
		if tk == nil {
			break
		}
		for _, x := range nears(ch) {
			seen[x.Ticket]++
		}
		_, _, err = f.e.Apply(f.now, agent.Act{Ticket: tk.ID, Action: queue.ActionStart, Executive: "E01"})
		require.NoError(t, err)
		_, _, err = f.e.Apply(f.now, agent.Act{Ticket: tk.ID, Action: queue.ActionComplete, Executive: "E01"})
		require.NoError(t, err)
	}
	assert.Equal(t, map[string]int{tks[4].ID: 1}, seen)
}
