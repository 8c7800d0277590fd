package agent_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// booked books an appointment of svc starting at start and checks its
// customer in now; it returns his ticket.
func (f *fixture) booked(t testing.TB, svc string, start time.Time) agent.Ticket {
	t.Helper()
	f.ids++
	code := fmt.Sprintf("%06d", 100000+f.ids)
	ch, res := f.e.BookAppointment(f.now, order("A"+code, 1, svc, start, code), "c"+code)
	require.Len(t, ch.Events, 1, res)
	require.Equal(t, event.AppointmentReceived, ch.Events[0].Type, res)
	got, _, err := f.e.CheckIn(f.now, agent.CheckIn{Code: code})
	require.NoError(t, err)
	f.tick(time.Second)
	return got.Ticket
}

func TestAppointmentsAheadOfWalkInsWithRunLimit(t *testing.T) {
	f := newFixture(t, apptRules(), exec("E1", "P"))
	f.login(t, "E1", 1)
	w1 := f.issue(t, "P", queue.Normal)
	w2 := f.issue(t, "P", queue.Normal)
	early := f.booked(t, "P", f.now.Add(20*time.Minute))
	a := []agent.Ticket{f.booked(t, "P", f.now), f.booked(t, "P", f.now), f.booked(t, "P", f.now.Add(-5*time.Minute))}
	// Positions count the order calls will take: due ones first, two in a
	// row, then a walk-in; the early one after every walk-in.
	want := []agent.Ticket{a[2], a[0], w1, a[1], w2, early}
	for i, tk := range want {
		assert.Equal(t, i+1, f.e.Position(tk.ID, f.now), tk.Display())
	}
	var got []string
	for range want {
		got = append(got, f.callDone(t, "E1", 1))
	}
	var names []string
	for _, tk := range want {
		names = append(names, tk.Display())
	}
	assert.Equal(t, names, got)
	assert.Empty(t, f.callDone(t, "E1", 1))
}

func TestEarlyAppointmentWaitsForItsTime(t *testing.T) {
	f := newFixture(t, apptRules(), exec("E1", "P"))
	f.login(t, "E1", 1)
	early := f.booked(t, "P", f.now.Add(10*time.Minute))
	w := f.issue(t, "P", queue.Normal)
	assert.Equal(t, w.Display(), f.callDone(t, "E1", 1), "a walk-in waits: the early one is not called")
	w2 := f.issue(t, "P", queue.Normal)
	f.tick(10 * time.Minute) // its time
	assert.Equal(t, early.Display(), f.callDone(t, "E1", 1))
	assert.Equal(t, w2.Display(), f.callDone(t, "E1", 1))
	// Nobody else waits: an early one is called before its time.
	early2 := f.booked(t, "P", f.now.Add(25*time.Minute))
	assert.Equal(t, early2.Display(), f.callDone(t, "E1", 1))
}

// TestCallingRuleProperties checks the three properties of
// docs/appointments.md over many random days: walk-ins (some preferential)
// and booked customers (on time, early, late) arrive at random while one or
// two executives serve two services. For every service:
//  1. every walk-in is eventually called;
//  2. between two walk-in calls, while a walk-in waits, at most run_max
//     appointments are called;
//  3. a due appointment is never passed by a walk-in of its service that
//     arrived after its due time, except when run_max appointments just went.
func TestCallingRuleProperties(t *testing.T) {
	for seed := uint64(1); seed <= 300; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { callingRuleCase(t, seed) })
	}
}

func callingRuleCase(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	rules := apptRules()
	rules.Appointments.RunMax = 1 + rng.IntN(3)
	rules.PreferentialRatio = rng.IntN(3)
	runMax := rules.Appointments.RunMax
	f := newFixture(t, rules, exec("E1", "C", "P"), exec("E2", "P"))
	f.login(t, "E1", 1)
	if rng.IntN(2) == 0 {
		f.login(t, "E2", 2)
	}
	svcs := []string{"C", "P"}
	run := map[string]int{} // appointments called while a walk-in waited, since its last walk-in call
	issuedWalkIns := map[string]bool{}
	called := map[string]bool{}
	call := func(exec string, counter int) bool {
		tk, _, err := f.e.CallNext(f.now, exec, counter)
		require.NoError(t, err)
		if tk == nil {
			return false
		}
		// The queue of its service just before the call (it is out of it now).
		waiting := append(f.e.Waiting(tk.Service, f.now), *tk)
		walkInWaits := false
		for _, w := range waiting {
			if !w.Booked() {
				walkInWaits = true
			}
		}
		if tk.Booked() {
			if walkInWaits {
				run[tk.Service]++
			}
			require.LessOrEqual(t, run[tk.Service], runMax, "property 2: %s", tk.Display())
		} else {
			for _, a := range waiting {
				if a.Booked() && !f.now.Before(a.Due) && tk.QueuedAt.After(a.Due) {
					require.Equal(t, runMax, run[tk.Service], "property 3: walk-in %s passed due %s", tk.Display(), a.Display())
				}
			}
			run[tk.Service] = 0
		}
		called[tk.ID] = true
		for _, act := range []queue.Action{queue.ActionStart, queue.ActionComplete} {
			_, _, err = f.e.Apply(f.now, agent.Act{Ticket: tk.ID, Action: act, Executive: exec})
			require.NoError(t, err)
		}
		return true
	}
	// A morning: arrivals faster than service for a while, then calls only.
	for step := 0; step < 120; step++ {
		f.tick(time.Duration(10+rng.IntN(90)) * time.Second)
		svc := svcs[rng.IntN(2)]
		switch r := rng.IntN(10); {
		case r < 4:
			prio := queue.Normal
			if rng.IntN(5) == 0 {
				prio = queue.Preferential
			}
			tk := f.issue(t, svc, prio)
			issuedWalkIns[tk.ID] = true
		case r < 7:
			f.booked(t, svc, f.now.Add(time.Duration(rng.IntN(38)-9)*time.Minute))
		default:
			if rng.IntN(2) == 0 {
				call("E1", 1)
			} else if _, ok := f.e.SessionOf("E2"); ok {
				call("E2", 2)
			}
		}
	}
	// Property 1: calling on drains every walk-in (the bound is generous:
	// there are at most 120 tickets).
	for i := 0; i < 500; i++ {
		f.tick(time.Minute)
		if !call("E1", 1) && f.e.WaitingCount("C")+f.e.WaitingCount("P") == 0 {
			break
		}
	}
	for id := range issuedWalkIns {
		assert.True(t, called[id], "property 1: walk-in %s never called", id)
	}
	assert.Zero(t, f.e.WaitingCount("C")+f.e.WaitingCount("P"))
}

func TestRemoteTicketSlidesAndExpires(t *testing.T) {
	rules := apptRules()
	f := newFixture(t, rules, exec("E1", "C"))
	f.login(t, "E1", 1)
	ch, _ := f.e.Join(f.now, &event.JoinOrder{Service: "C", Code: "555000"}, "j1")
	remote := only(t, ch, event.TicketIssued).(event.Issued)
	assert.Equal(t, 1, remote.Position)
	f.tick(time.Second)
	var w []agent.Ticket
	for range 5 {
		w = append(w, f.issue(t, "C", queue.Normal))
	}
	assert.Equal(t, 1, f.e.Position(w[0].ID, f.now), "an unchecked remote ticket is not counted ahead")
	assert.Equal(t, 1, f.e.Position(remote.Ticket, f.now), "its own place: where it would stand")
	assert.Equal(t, 5, f.e.WaitingCount("C"))

	// At the front unchecked: it slides back three places, its hold starts.
	ch = f.e.Timers(f.now)
	slid := only(t, ch, event.TicketSlid).(event.Slid)
	assert.Equal(t, 1, slid.Slides)
	assert.Equal(t, 4, slid.Place.Position)
	hold := f.now.Add(15 * time.Minute)
	assert.True(t, slid.HoldUntil.Equal(hold))
	assert.Equal(t, event.ActorSystem, slid.Actor.Kind)
	assert.True(t, f.e.Timers(f.now).Empty(), "once")

	// Never called while unchecked, not even sent to a counter.
	_, _, err := f.e.Apply(f.now, agent.Act{Ticket: remote.Ticket, Action: queue.ActionTransfer, ToCounter: 1})
	assert.Equal(t, "ticket.not_present", queue.ErrorReason(err))
	_, _, err = f.e.CallTicket(f.now, "E1", 1, remote.Ticket, "lo conozco")
	assert.Equal(t, "ticket.not_present", queue.ErrorReason(err))
	// Three calls take the walk-ins.
	for i := range 3 {
		assert.Equal(t, w[i].Display(), f.callDone(t, "E1", 1))
	}
	f.tick(5 * time.Minute)
	slid = only(t, f.e.Timers(f.now), event.TicketSlid).(event.Slid)
	assert.Equal(t, 2, slid.Slides)
	assert.True(t, slid.HoldUntil.Equal(hold), "the hold counts from the first time at the front")
	assert.Equal(t, 3, slid.Place.Position, "behind the two left")

	// The hold runs out: it expires, a no-show.
	f.tick(10 * time.Minute)
	ch = f.e.Timers(f.now)
	require.NotEmpty(t, ch.Events)
	assert.Equal(t, event.TicketExpired, ch.Events[0].Type)
	assert.Equal(t, queue.StatusNoShow, ch.Tickets[0].Status)
	_, ok := f.e.Ticket(remote.Ticket)
	assert.False(t, ok)
}

func TestRemoteTicketCheckedInKeepsItsPlace(t *testing.T) {
	f := newFixture(t, apptRules(), exec("E1", "C"))
	f.login(t, "E1", 1)
	a := f.issue(t, "C", queue.Normal)
	ch, _ := f.e.Join(f.now, &event.JoinOrder{Service: "C", Code: "555001", RUTCheck: "rutcheck"}, "j1")
	remote := only(t, ch, event.TicketIssued).(event.Issued)
	f.tick(time.Second)
	b := f.issue(t, "C", queue.Normal)
	assert.Equal(t, 2, f.e.Position(b.ID, f.now))
	got, ch, err := f.e.CheckIn(f.now, agent.CheckIn{RUTCheck: "rutcheck"})
	require.NoError(t, err)
	assert.Nil(t, got.Appointment)
	c := only(t, ch, event.TicketCheckedIn).(event.CheckedIn)
	assert.Equal(t, "rut", c.By)
	assert.Equal(t, 2, c.Place.Position)
	assert.Equal(t, 3, f.e.Position(b.ID, f.now), "present now: counted ahead")
	for _, want := range []agent.Ticket{a, {ID: remote.Ticket}, b} {
		tk, _, err := f.e.CallNext(f.now, "E1", 1)
		require.NoError(t, err)
		assert.Equal(t, want.ID, tk.ID)
		_, _, err = f.e.Apply(f.now, agent.Act{Ticket: tk.ID, Action: queue.ActionNoShow, Executive: "E1"})
		require.NoError(t, err)
	}
}

func TestMissedAppointmentByTimer(t *testing.T) {
	f := newFixture(t, apptRules())
	ch, _ := f.e.BookAppointment(f.now, order("M1", 1, "C", f.now.Add(30*time.Minute), "123123"), "c1")
	only(t, ch, event.AppointmentReceived)
	f.tick(99 * time.Minute) // start + grace + 60 min is 100 min from now
	assert.True(t, f.e.Timers(f.now).Empty())
	f.tick(time.Minute)
	ch = f.e.Timers(f.now)
	m := only(t, ch, event.AppointmentMissed).(event.AppointmentRef)
	assert.Equal(t, "M1", m.Appointment)
	assert.Equal(t, agent.ApptMissed, ch.Appointments[0].Status)
	assert.True(t, f.e.Timers(f.now).Empty(), "once")
}

// BenchmarkCallNextWithAppointments: call-next (and the positions it
// updates) in the engine with 500 waiting in two services, 50 of them booked
// appointments and 20 numbers taken from the phone not yet here; each
// iteration calls, completes and lets one more walk-in arrive, so the queue
// keeps its size. Compare with the same queue without appointments.
func BenchmarkCallNextWithAppointments(b *testing.B) {
	for _, booked := range []bool{false, true} {
		b.Run(fmt.Sprintf("appointments=%v", booked), func(b *testing.B) {
			t := b
			f := newFixture(t, apptRules(), exec("E1", "C", "P"))
			f.login(t, "E1", 1)
			for i := range 500 {
				svc := []string{"C", "P"}[i%2]
				switch {
				case booked && i%10 == 0:
					f.booked(t, svc, f.now.Add(time.Duration(i%30-5)*time.Minute))
				case booked && i%25 == 1:
					_, _ = f.e.Join(f.now, &event.JoinOrder{Service: "C", Code: fmt.Sprintf("9%05d", i)}, fmt.Sprint("j", i))
				default:
					f.issue(t, svc, queue.Normal)
				}
			}
			b.ResetTimer()
			for i := range b.N {
				tk, _, err := f.e.CallNext(f.now, "E1", 1)
				if err != nil || tk == nil {
					b.Fatal(err, tk)
				}
				for _, act := range []queue.Action{queue.ActionStart, queue.ActionComplete} {
					if _, _, err := f.e.Apply(f.now, agent.Act{Ticket: tk.ID, Action: act, Executive: "E1"}); err != nil {
						b.Fatal(err)
					}
				}
				if _, _, err := f.e.Issue(f.now, agent.IssueRequest{Service: []string{"C", "P"}[i%2]}); err != nil {
					b.Fatal(err)
				}
				f.now = f.now.Add(time.Second)
				_ = f.e.Position(tk.ID, f.now)
			}
		})
	}
}
