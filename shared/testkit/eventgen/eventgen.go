// Package eventgen produces realistic, valid event streams of a branch for sync
// tests and benchmarks: tickets issued, called, recalled, served, transferred,
// cancelled, and executive sessions, with a gap-free seq.
package eventgen

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ticketero/ticketero/shared/event"
)

// Gen generates the events of one branch.
type Gen struct {
	Branch string
	Day    string
	seq    uint64
	at     time.Time
	rnd    *rand.Rand
	n      int
	open   []open // tickets not yet finished
}

type open struct {
	id, service string
	number      int
	state       int // 0 waiting, 1 called, 2 serving
}

// New starts a generator at seq 1 with a deterministic seed.
func New(branch string, seed uint64) *Gen {
	return &Gen{Branch: branch, Day: "2026-11-28", at: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC),
		rnd: rand.New(rand.NewPCG(seed, 7))}
}

// Seq is the last seq generated.
func (g *Gen) Seq() uint64 { return g.seq }

func (g *Gen) emit(t event.Type, data any) event.Event {
	g.seq++
	g.at = g.at.Add(time.Duration(1+g.rnd.IntN(3000)) * time.Millisecond)
	e, err := event.New(g.seq, fmt.Sprintf("%s-e%d", g.Branch, g.seq), t, g.at, data)
	if err != nil {
		panic(err)
	}
	return e
}

var services = []string{"C", "P", "E", "G"}

// Next returns the next event: mostly issues and the steps that serve them.
func (g *Gen) Next() event.Event {
	if g.seq == 0 {
		return g.emit(event.ExecutiveLoggedIn, event.Session{Executive: "E01", Name: "Ana Pérez", Counter: 1})
	}
	if len(g.open) < 3 || g.rnd.IntN(3) == 0 {
		g.n++
		svc := services[g.rnd.IntN(len(services))]
		id := fmt.Sprintf("%s-t%d", g.Branch, g.n)
		g.open = append(g.open, open{id: id, service: svc, number: g.n})
		return g.emit(event.TicketIssued, event.Issued{
			TicketRef: event.TicketRef{Ticket: id, Service: svc, Number: g.n, Day: g.Day},
			Priority:  []string{"normal", "normal", "preferential", "premium"}[g.rnd.IntN(4)],
			QueuedAt:  g.at, Position: len(g.open), QuotedTypical: 300, QuotedUpper: 600,
			Token: fmt.Sprintf("tk_%s_%d", g.Branch, g.n), Channel: "kiosk",
		})
	}
	i := g.rnd.IntN(len(g.open))
	o := &g.open[i]
	ref := event.TicketRef{Ticket: o.id, Service: o.service, Number: o.number, Day: g.Day, Counter: 1, Executive: "E01"}
	finish := func() { g.open = append(g.open[:i], g.open[i+1:]...) }
	switch o.state {
	case 0:
		if g.rnd.IntN(20) == 0 {
			finish()
			return g.emit(event.TicketCancelled, event.Cancelled{TicketRef: event.TicketRef{Ticket: ref.Ticket,
				Service: ref.Service, Number: ref.Number, Day: g.Day}, By: "customer"})
		}
		o.state = 1
		return g.emit(event.TicketCalled, event.Called{TicketRef: ref, ExecutiveName: "Ana Pérez"})
	case 1:
		switch g.rnd.IntN(10) {
		case 0:
			return g.emit(event.TicketRecalled, event.Called{TicketRef: ref, Recall: 1})
		case 1:
			finish()
			return g.emit(event.TicketNoShow, ref)
		}
		o.state = 2
		return g.emit(event.TicketStarted, ref)
	default:
		if g.rnd.IntN(10) == 0 {
			o.state = 0
			to := services[(g.rnd.IntN(3)+1)%len(services)]
			o.service = to
			return g.emit(event.TicketTransferred, event.Transferred{TicketRef: ref, To: to, QueuedAt: g.at})
		}
		finish()
		return g.emit(event.TicketCompleted, event.Completed{TicketRef: ref, Outcome: "ok"})
	}
}

// Take returns the next n events.
func (g *Gen) Take(n int) []event.Event {
	out := make([]event.Event, n)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}

// Statuses folds events (in seq order) into each ticket's final status, as the
// cloud's tickets projection must show it.
func Statuses(events []event.Event) map[string]string {
	out := map[string]string{}
	for _, e := range events {
		p, err := e.Payload()
		if err != nil {
			continue
		}
		if r := event.TicketOf(p); r != nil && e.Type.Status() != "" {
			out[r.Ticket] = string(e.Type.Status())
		}
	}
	return out
}
