package agent_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// TestTargetedTransferProperty runs random days with transfers to counters
// and named executives, parked visits and calls out of order, and checks with
// its own book-keeping: a ticket transferred to a counter or an executive is
// called only there; it is never in a service's listed order; the parked ones
// are nobody's to call; and at the end every ticket is called.
func TestTargetedTransferProperty(t *testing.T) {
	seeds := 40
	if testing.Short() {
		seeds = 8
	}
	calls, parks := 0, 0
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			c, p := targetedDay(t, uint64(seed))
			calls, parks = calls+c, parks+p
		})
	}
	require.Greater(t, calls, seeds, "the days had targeted transfers called")
	require.Greater(t, parks, seeds, "the days had parked visits")
}

// targetedDay runs one day; it returns how many targeted tickets were called
// and how many visits were parked.
func targetedDay(t *testing.T, seed uint64) (int, int) {
	rnd := rand.New(rand.NewPCG(seed, 99))
	execs := []agent.Executive{exec("E01", "C", "P"), exec("E02", "C"), exec("E03", "P", "E"), exec("E04", "E")}
	f := newFixture(t, event.DefaultRules(), execs...)
	counter := map[string]int{}
	for i, x := range execs {
		f.login(t, x.ID, i+1)
		counter[x.ID] = i + 1
	}
	type target struct {
		exec    string
		counter int
	}
	targets := map[string]target{} // ticket → where it was sent
	parked := map[string]string{}  // ticket → its executive
	issued := map[string]bool{}
	called := map[string]bool{}
	classes := []queue.PriorityClass{queue.Normal, queue.Normal, queue.Preferential, queue.Premium}
	codes := []string{"C", "P", "E"}
	targetedCalls, parks := 0, 0
	check := func(x string, tk *agent.Ticket) {
		t.Helper()
		if tk == nil {
			return
		}
		if tg, ok := targets[tk.ID]; ok {
			require.True(t, tg.exec == x || tg.counter == counter[x], "%s called %s sent to %+v", x, tk.Display(), tg)
			delete(targets, tk.ID)
			targetedCalls++
		}
		require.NotContains(t, parked, tk.ID, "a parked visit is nobody's to call")
		called[tk.ID] = true
	}
	for range 300 {
		f.tick(20 * 1e9)
		x := execs[rnd.IntN(len(execs))].ID
		cur, busy := f.e.Current(x)
		switch r := rnd.IntN(10); {
		case r < 3:
			tk := f.issue(t, codes[rnd.IntN(len(codes))], classes[rnd.IntN(len(classes))])
			issued[tk.ID] = true
		case !busy && r < 6:
			tk, _, err := f.e.CallNext(f.now, x, counter[x])
			require.NoError(t, err)
			check(x, tk)
		case !busy && r == 6:
			for id, holder := range parked {
				if holder == x {
					_, _, err := f.e.Apply(f.now, agent.Act{Ticket: id, Action: queue.ActionUnpark, Executive: x})
					require.NoError(t, err)
					delete(parked, id)
					break
				}
			}
		case busy && r == 7:
			other := execs[rnd.IntN(len(execs))].ID
			if other == x {
				break
			}
			a := agent.Act{Ticket: cur.ID, Action: queue.ActionTransfer, Executive: x, First: rnd.IntN(2) == 0, KeepArrival: rnd.IntN(2) == 0}
			tg := target{exec: other}
			if rnd.IntN(2) == 0 {
				a.ToCounter, tg = counter[other], target{counter: counter[other]}
			} else {
				a.ToExecutive = other
			}
			_, _, err := f.e.Apply(f.now, a)
			require.NoError(t, err)
			targets[cur.ID] = tg
		case busy && r == 8 && cur.Status == queue.StatusCalled:
			_, _, err := f.e.Apply(f.now, agent.Act{Ticket: cur.ID, Action: queue.ActionStart, Executive: x})
			require.NoError(t, err)
			if rnd.IntN(2) == 0 {
				_, _, err = f.e.Apply(f.now, agent.Act{Ticket: cur.ID, Action: queue.ActionPark, Executive: x})
				require.NoError(t, err)
				parked[cur.ID] = x
				parks++
			}
		case busy:
			if cur.Status == queue.StatusCalled {
				_, _, err := f.e.Apply(f.now, agent.Act{Ticket: cur.ID, Action: queue.ActionStart, Executive: x})
				require.NoError(t, err)
			}
			_, _, err := f.e.Apply(f.now, agent.Act{Ticket: cur.ID, Action: queue.ActionComplete, Executive: x})
			require.NoError(t, err)
		}
		for _, c := range codes {
			for _, w := range f.e.Waiting(c, f.now) {
				require.NotContains(t, targets, w.ID, "a targeted ticket is out of its service's order")
				require.Positive(t, f.e.Position(w.ID, f.now))
			}
		}
		for id := range targets {
			require.Positive(t, f.e.Position(id, f.now), "a targeted ticket has its place at its target")
		}
	}
	// Close the day: everyone finishes, calls back what he parked, and calls
	// until nobody waits for him.
	for round := 0; round < 1000; round++ {
		progress := false
		for _, xx := range execs {
			x := xx.ID
			if cur, ok := f.e.Current(x); ok {
				if cur.Status == queue.StatusCalled {
					_, _, err := f.e.Apply(f.now, agent.Act{Ticket: cur.ID, Action: queue.ActionStart, Executive: x})
					require.NoError(t, err)
				}
				_, _, err := f.e.Apply(f.now, agent.Act{Ticket: cur.ID, Action: queue.ActionComplete, Executive: x})
				require.NoError(t, err)
				progress = true
				continue
			}
			if p := f.e.Parked(x); len(p) > 0 {
				_, _, err := f.e.Apply(f.now, agent.Act{Ticket: p[0].ID, Action: queue.ActionUnpark, Executive: x})
				require.NoError(t, err)
				delete(parked, p[0].ID)
				progress = true
				continue
			}
			tk, _, err := f.e.CallNext(f.now, x, counter[x])
			require.NoError(t, err)
			if tk != nil {
				check(x, tk)
				progress = true
			}
		}
		if !progress {
			break
		}
	}
	for id := range issued {
		require.True(t, called[id], "every ticket is called in the end")
	}
	require.Empty(t, f.e.Open(), "nothing left open")
	return targetedCalls, parks
}
