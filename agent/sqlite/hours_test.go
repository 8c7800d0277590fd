package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// TestHoursAppliedAndDayClosedAtGrace: HQ's schedule is stored with the
// config and survives a restart; the day ends at closing + grace with its
// open tickets abandoned, and is not closed a second time at midnight even
// after a restart.
func TestHoursAppliedAndDayClosedAtGrace(t *testing.T) {
	ctx := context.Background()
	e := MustStore(t, 2)
	loc, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	set := func(day, hhmm string) {
		at, err := time.ParseInLocation(time.DateOnly+" 15:04", day+" "+hhmm, loc)
		require.NoError(t, err)
		e.clock.Add(at.Sub(e.clock.Now()))
	}
	grace := 20
	set("2026-11-30", "08:00")
	require.NoError(t, e.st.ApplyConfig(ctx, event.Config{V: 1, Branch: "SCL-001", Version: 1, TimeZone: "America/Santiago",
		Services: queue.DefaultServices(), Counters: []queue.Counter{{Number: 1}}, Rules: event.DefaultRules(),
		OpeningHours: "09:00-14:00", Hours: event.Hours{CloseGraceMin: &grace,
			Holidays: []event.Holiday{{Date: "2026-12-08", Name: "Inmaculada Concepción"}}}}))
	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "C"})
	assert.Equal(t, "branch.closed", queue.ErrorReason(err))
	e.reopen(t, 2)
	set("2026-11-30", "13:55")
	tk, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C"})
	require.NoError(t, err)

	set("2026-11-30", "14:20")
	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "C"}) // any write rolls first
	assert.Equal(t, "branch.closed", queue.ErrorReason(err))
	got, err := e.st.Ticket(ctx, tk.ID)
	require.NoError(t, err)
	assert.Equal(t, queue.StatusAbandoned, got.Status)
	evs, err := e.st.Pending(ctx, 0, 100)
	require.NoError(t, err)
	last := evs[len(evs)-1]
	assert.Equal(t, event.DayClosed, last.Type)
	p, err := last.Payload()
	require.NoError(t, err)
	assert.Equal(t, &event.Day{Day: "2026-11-30", Abandoned: 1, Actor: &event.Actor{Kind: event.ActorSystem}}, p)

	e.reopen(t, 2)
	set("2026-12-01", "09:00")
	tk, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "C"})
	require.NoError(t, err)
	assert.Equal(t, "C-001", tk.Display())
	again, err := e.st.Pending(ctx, 0, 100)
	require.NoError(t, err)
	assert.Len(t, again, len(evs)+1, "no second day.closed at midnight, only the new ticket")

	set("2026-12-08", "10:00")
	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "C"})
	assert.Equal(t, "branch.holiday", queue.ErrorReason(err), "holidays survive the restart")
}
