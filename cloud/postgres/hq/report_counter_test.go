package hq_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// TestReportOutcomesAndExecutiveKPIs: a branch's day at a counter, as its
// events arrive (sign-in, a visit with two outcome codes, a lunch pause by
// code, a free-text pause, a walk-in, a parked visit called back,
// sign-out), is projected and reported at HQ: visits by outcome code with
// HQ's names, and the executive's serving, idle and paused time with pauses
// by reason.
func TestReportOutcomesAndExecutiveKPIs(t *testing.T) {
	s, f, c := newStore(t)
	ctx := context.Background()
	f.Branch("KP-001", "Kpi", "RM", true)
	t.Cleanup(func() { dropBranch(t, f, "KP-001") })
	t.Cleanup(func() { _, _ = f.Pool.Exec(ctx, `DELETE FROM hq_audit WHERE target LIKE 'KP-001/%'`) })
	t.Cleanup(func() { _, _ = f.Pool.Exec(ctx, `DELETE FROM hq_outcomes`) })
	require.NoError(t, s.PutOutcome(ctx, queue.Outcome{Code: "deposit", Name: "Depósito"}))
	require.NoError(t, s.PutOutcome(ctx, queue.Outcome{Code: "card", Name: "Tarjeta"}))
	assert.Equal(t, queue.CodeInvalid, code(s.PutOutcome(ctx, queue.Outcome{Code: "Bad Code", Name: "x"})))
	assert.Equal(t, queue.CodeNotFound, code(s.DeleteOutcome(ctx, "nope")))

	base := c.t.Add(-2 * time.Hour) // 09:00 in Santiago
	day := base.In(santiago(t)).Format(time.DateOnly)
	var evs []event.Event
	at := func(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }
	add := func(min int, typ event.Type, data any) {
		e, err := event.New(uint64(len(evs)+1), fmt.Sprintf("kp-%d", len(evs)+1), typ, at(min), data)
		require.NoError(t, err)
		evs = append(evs, e)
	}
	ref := func(id string, n int) event.TicketRef {
		return event.TicketRef{Ticket: id, Service: "C", Number: n, Day: day, Printed: queue.DisplayNumber("C", n)}
	}
	held := func(id string, n int) event.TicketRef {
		r := ref(id, n)
		r.Counter, r.Executive = 1, "E1"
		return r
	}
	add(0, event.ExecutiveLoggedIn, event.Session{Executive: "E1", Name: "Ana Pérez", Counter: 1})
	add(0, event.TicketIssued, event.Issued{TicketRef: ref("t1", 1), Priority: "normal", QueuedAt: at(0)})
	add(10, event.TicketCalled, event.Called{TicketRef: held("t1", 1)})
	add(11, event.TicketStarted, held("t1", 1))
	add(21, event.TicketCompleted, event.Completed{TicketRef: held("t1", 1), Outcome: "deposit", Outcomes: []string{"deposit", "card"}})
	add(30, event.ExecutivePaused, event.Session{Executive: "E1", Counter: 1, Reason: "Colación", Code: queue.PauseLunch})
	add(60, event.ExecutiveResumed, event.Session{Executive: "E1", Counter: 1})
	add(70, event.ExecutivePaused, event.Session{Executive: "E1", Counter: 1, Reason: "médico"})
	add(80, event.ExecutiveResumed, event.Session{Executive: "E1", Counter: 1})
	add(90, event.TicketIssued, event.Issued{TicketRef: ref("t2", 2), Priority: "normal", QueuedAt: at(90), Channel: "counter"})
	add(90, event.TicketCalled, event.Called{TicketRef: held("t2", 2)})
	add(90, event.TicketStarted, held("t2", 2))
	add(100, event.TicketCompleted, event.Completed{TicketRef: held("t2", 2), Outcome: "deposit"})
	add(100, event.TicketIssued, event.Issued{TicketRef: ref("t3", 3), Priority: "normal", QueuedAt: at(100)})
	add(100, event.TicketCalled, event.Called{TicketRef: held("t3", 3), Chosen: true, Reason: "cita"})
	add(101, event.TicketStarted, held("t3", 3))
	add(105, event.TicketParked, event.Parked{TicketRef: held("t3", 3), Reason: "cédula"})
	parkedAt := len(evs)
	add(115, event.TicketUnparked, event.Called{TicketRef: held("t3", 3)})
	add(120, event.TicketCompleted, event.Completed{TicketRef: held("t3", 3)})
	add(130, event.ExecutiveLoggedOut, event.Session{Executive: "E1", Counter: 1})
	es := postgres.NewEventStore(f.Pool, nil)
	_, err := es.Ingest(ctx, event.Batch{V: event.Version, Branch: "KP-001", Events: evs[:parkedAt]})
	require.NoError(t, err)
	var status string
	require.NoError(t, f.Pool.QueryRow(ctx, `SELECT status FROM tickets WHERE branch = 'KP-001' AND id = 't3'`).Scan(&status))
	assert.Equal(t, "parked", status, "HQ sees the parked visit")
	_, err = es.Ingest(ctx, event.Batch{V: event.Version, Branch: "KP-001", Events: evs[parkedAt:]})
	require.NoError(t, err)
	var action, detail string
	require.NoError(t, f.Pool.QueryRow(ctx, `SELECT action, detail FROM hq_audit WHERE target = 'KP-001/C-003'`).Scan(&action, &detail))
	assert.Equal(t, "ticket.called", action, "the out-of-order call is audited at HQ")
	assert.Equal(t, "counter=1 reason=cita", detail)
	var outcome string
	require.NoError(t, f.Pool.QueryRow(ctx, `SELECT outcome FROM tickets WHERE branch = 'KP-001' AND id = 't1'`).Scan(&outcome))
	assert.Equal(t, "deposit,card", outcome)

	c.t = base.Add(3 * time.Hour)
	r, err := s.Report(ctx, cloud.AllBranches, cloud.ReportQuery{From: day, To: day, Branch: "KP-001"})
	require.NoError(t, err)
	assert.Equal(t, []cloud.OutcomeCount{{Code: "deposit", Name: "Depósito", Visits: 2}, {Code: "card", Name: "Tarjeta", Visits: 1}}, r.Outcomes)
	require.Len(t, r.Executives, 1)
	x := r.Executives[0]
	assert.Equal(t, "E1", x.Executive)
	assert.Equal(t, "Ana Pérez", x.Name)
	assert.Equal(t, day, x.Day)
	// Serving 10:10-10:21, the walk-in 10:30-10:40, the parked visit 10:40-10:45
	// and 10:55-11:00 = 31 min; paused 30 min of lunch and 10 of free text
	// ("other"); idle the rest of 9:00-11:10 = 59 min.
	assert.InDelta(t, 31*60, x.ServingS, 1)
	assert.InDelta(t, 40*60, x.PausedS, 1)
	assert.InDelta(t, 59*60, x.IdleS, 1)
	require.Len(t, x.Pauses, 2)
	assert.InDelta(t, 1800, x.Pauses[queue.PauseLunch], 1)
	assert.InDelta(t, 600, x.Pauses[queue.PauseOther], 1)

	// Time is counted up to now, not beyond (a report read at 11:05).
	c.t = base.Add(125 * time.Minute)
	r, err = s.Report(ctx, cloud.AllBranches, cloud.ReportQuery{From: day, To: day, Branch: "KP-001", Executive: "E1"})
	require.NoError(t, err)
	require.Len(t, r.Executives, 1)
	assert.InDelta(t, 54*60, r.Executives[0].IdleS, 1)
}
