package agent_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// TestCallingRuleProperty runs random days (issues of every class, ticks that
// make tickets overdue, calls, transfers, requeues, cancels) and checks the
// calling rule of the package comment against an independent book-keeping:
//
//   - the position quoted is the calling order: CallNext always calls the
//     ticket at position 1 of its service, and the rest of that service's
//     queue moves up by exactly one; an issue's or a move's quoted position and
//     a ticket.near's are the position the engine reports;
//   - a preferential ticket is never overtaken, except by a normal ticket the
//     ratio makes due (counted here, not read from the engine);
//   - no normal ticket starves: a service never sees more than ratio
//     priority-class calls, by executives who serve it, while a normal ticket
//     waits there; and at the end every ticket is called.
func TestCallingRuleProperty(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 10
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { randomDay(t, uint64(seed)) })
	}
}

func randomDay(t *testing.T, seed uint64) {
	rnd := rand.New(rand.NewPCG(seed, 12))
	rules := event.DefaultRules()
	rules.PreferentialRatio = 1 + rnd.IntN(3)
	rules.PreNoticeAhead = rnd.IntN(4)
	codes := []string{"C", "P", "E", "G"}
	var execs []agent.Executive
	for i := range 2 + rnd.IntN(3) {
		svcs := slices.Clone(codes)
		rnd.Shuffle(len(svcs), func(a, b int) { svcs[a], svcs[b] = svcs[b], svcs[a] })
		execs = append(execs, exec(fmt.Sprintf("E%02d", i+1), svcs[:1+rnd.IntN(3)]...))
	}
	f := newFixture(t, rules, execs...)
	for i, x := range execs {
		f.login(t, x.ID, i+1)
	}
	classes := []queue.PriorityClass{queue.Normal, queue.Normal, queue.Normal, queue.Preferential, queue.Premium}
	passes := map[string]int{} // priority-class calls past a waiting normal, since its service's last normal call
	waiting := func(code string) []agent.Ticket { return f.e.Waiting(code, f.now) }
	checkFigures := func(ch agent.Change, what string) {
		t.Helper()
		for _, em := range ch.Events {
			var id string
			var pos int
			switch d := em.Data.(type) {
			case event.Issued:
				id, pos = d.Ticket, d.Position
			case event.Transferred:
				id, pos = d.Ticket, d.Place.Position
			case event.Near:
				id, pos = d.Ticket, d.Place.Position
				require.LessOrEqual(t, pos-1, d.Threshold, "%s: near within the threshold", what)
			case event.TicketRef:
				if em.Type != event.TicketRequeued {
					continue
				}
				id, pos = d.Ticket, d.Place.Position
			default:
				continue
			}
			require.Equal(t, f.e.Position(id, f.now), pos, "%s: the quoted position is the engine's", what)
		}
	}
	call := func(x agent.Executive, counter int) bool {
		t.Helper()
		before := map[string][]agent.Ticket{}
		for _, c := range codes {
			before[c] = waiting(c)
		}
		tk, ch, err := f.e.CallNext(f.now, x.ID, counter)
		require.NoError(t, err)
		if tk == nil {
			for _, c := range x.Services {
				require.Empty(t, before[c], "nobody waits for %s", x.ID)
			}
			return false
		}
		checkFigures(ch, "call")
		q := before[tk.Service]
		require.Equal(t, tk.ID, q[0].ID, "seed %d: the called ticket was at position 1 of %s", seed, tk.Service)
		after := waiting(tk.Service)
		require.Equal(t, len(q)-1, len(after))
		for i := range after {
			require.Equal(t, q[i+1].ID, after[i].ID, "seed %d: the rest of %s moved up by one", seed, tk.Service)
		}
		// Preferential never overtaken, except by a ratio-due normal ticket.
		if tk.Priority != queue.Preferential {
			for _, c := range x.Services {
				for _, w := range before[c] {
					if w.Priority == queue.Preferential {
						require.Equal(t, queue.Normal, tk.Priority, "seed %d: %s (%s) went before preferential %s", seed, tk.Display(), tk.Priority, w.Display())
						require.GreaterOrEqual(t, passes[tk.Service], f.e.Rules().PreferentialRatio,
							"seed %d: %s went before preferential %s without the ratio", seed, tk.Display(), w.Display())
					}
				}
			}
		}
		if tk.Priority == queue.Normal {
			passes[tk.Service] = 0
		} else {
			for _, c := range x.Services {
				if slices.ContainsFunc(before[c], func(t agent.Ticket) bool { return t.Priority == queue.Normal }) {
					passes[c]++
					require.LessOrEqual(t, passes[c], f.e.Rules().PreferentialRatio,
						"seed %d: a normal ticket of %s passed more than the ratio allows", seed, c)
				}
			}
		}
		return true
	}
	finish := func(x agent.Executive) {
		cur, ok := f.e.Current(x.ID)
		if !ok {
			return
		}
		if cur.Status == queue.StatusCalled {
			_, _, err := f.e.Apply(f.now, agent.Act{Ticket: cur.ID, Action: queue.ActionStart, Executive: x.ID})
			require.NoError(t, err)
		}
		_, _, err := f.e.Apply(f.now, agent.Act{Ticket: cur.ID, Action: queue.ActionComplete, Executive: x.ID})
		require.NoError(t, err)
	}

	for range 400 {
		f.tick(time.Duration(rnd.IntN(150)) * time.Second)
		switch r := rnd.IntN(100); {
		case r < 40:
			_, ch, err := f.e.Issue(f.now, agent.IssueRequest{Service: codes[rnd.IntN(len(codes))], Priority: classes[rnd.IntN(len(classes))]})
			require.NoError(t, err)
			checkFigures(ch, "issue")
		case r < 75:
			i := rnd.IntN(len(execs))
			x := execs[i]
			if cur, ok := f.e.Current(x.ID); ok {
				switch rnd.IntN(10) {
				case 0:
					if cur.Status == queue.StatusCalled {
						_, ch, err := f.e.Apply(f.now, agent.Act{Ticket: cur.ID, Action: queue.ActionRequeue, Executive: x.ID})
						require.NoError(t, err)
						checkFigures(ch, "requeue")
						continue
					}
				case 1:
					to := codes[rnd.IntN(len(codes))]
					if to != cur.Service {
						_, ch, err := f.e.Apply(f.now, agent.Act{Ticket: cur.ID, Action: queue.ActionTransfer, To: to,
							KeepArrival: rnd.IntN(2) == 0, First: rnd.IntN(3) == 0, Executive: x.ID})
						require.NoError(t, err)
						checkFigures(ch, "transfer")
						continue
					}
				}
				finish(x)
			}
			call(x, i+1)
		case r < 85: // transfer a waiting ticket
			c := codes[rnd.IntN(len(codes))]
			w := waiting(c)
			to := codes[rnd.IntN(len(codes))]
			if len(w) == 0 || to == c {
				continue
			}
			by := "" // an executive who serves the queue, else the branch itself
			for _, x := range execs {
				if x.Serves(c) {
					by = x.ID
				}
			}
			_, ch, err := f.e.Apply(f.now, agent.Act{Ticket: w[rnd.IntN(len(w))].ID, Action: queue.ActionTransfer, To: to,
				KeepArrival: rnd.IntN(2) == 0, First: rnd.IntN(4) == 0, Executive: by})
			require.NoError(t, err)
			checkFigures(ch, "transfer waiting")
		case r < 90: // a customer gives up
			c := codes[rnd.IntN(len(codes))]
			if w := waiting(c); len(w) > 0 {
				_, ch, err := f.e.Apply(f.now, agent.Act{Ticket: w[rnd.IntN(len(w))].ID, Action: queue.ActionCancel, By: "customer"})
				require.NoError(t, err)
				checkFigures(ch, "cancel")
			}
		default: // a quiet spell: tickets become overdue
			f.tick(time.Duration(rnd.IntN(20)) * time.Minute)
		}
	}
	// Drain: every executive keeps calling until nobody is left for him; every
	// service someone serves ends empty (nobody starved).
	served := map[string]bool{}
	for _, x := range execs {
		for _, c := range x.Services {
			served[c] = true
		}
	}
	for range 5000 {
		progress := false
		for i, x := range execs {
			finish(x)
			if call(x, i+1) {
				progress = true
			}
		}
		if !progress {
			break
		}
	}
	for c := range served {
		require.Empty(t, waiting(c), "seed %d: service %s drained", seed, c)
	}
}
