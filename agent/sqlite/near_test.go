package sqlite_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// eventsOf returns the outbox events of a type, decoded.
func eventsOf[T any](t *testing.T, st interface {
	Pending(context.Context, uint64, int) ([]event.Event, error)
}, typ event.Type) []T {
	t.Helper()
	evs, err := st.Pending(context.Background(), 0, 1_000_000)
	require.NoError(t, err)
	var out []T
	for _, e := range evs {
		if e.Type == typ {
			var v T
			require.NoError(t, json.Unmarshal(e.Data, &v))
			out = append(out, v)
		}
	}
	return out
}

// TestNearAndLocate: ticket.near is written once per ticket, also across a
// restart (the flag is stored); a ticket.locate command answers with
// ticket.placed, the ticket's place now, once per command ID.
func TestNearAndLocate(t *testing.T) {
	e := MustStore(t, 2)
	ctx := context.Background()
	MustExecutive(t, e.path, "E01", "C")
	var ids []string
	for range 6 {
		tk, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C"})
		require.NoError(t, err)
		ids = append(ids, tk.ID)
	}
	tok := e.login(t, "E01", 1)
	first, err := e.st.CallNext(ctx, tok, 1)
	require.NoError(t, err)
	for _, a := range []queue.Action{queue.ActionStart, queue.ActionComplete} {
		_, err = e.st.Act(ctx, tok, agent.Act{Ticket: first.ID, Action: a})
		require.NoError(t, err)
	}
	near := eventsOf[event.Near](t, e.st, event.TicketNear)
	require.Len(t, near, 1, "the default threshold is 3 ahead: the fifth ticket")
	assert.Equal(t, ids[4], near[0].Ticket)
	assert.Equal(t, 4, near[0].Place.Position)

	e.reopen(t, 2) // the session survives the restart
	got, err := e.st.CallNext(ctx, tok, 1)
	require.NoError(t, err)
	require.Equal(t, ids[1], got.ID)
	near = eventsOf[event.Near](t, e.st, event.TicketNear)
	require.Len(t, near, 2, "the fifth is not noticed twice after a restart; the sixth is")
	assert.Equal(t, ids[5], near[1].Ticket)

	cmd := event.Command{V: 1, Branch: "SCL-001", ID: "tg-locate-1", Type: event.CommandLocateTicket, Ticket: ids[5]}
	require.NoError(t, e.st.ApplyCommand(ctx, cmd))
	require.NoError(t, e.st.ApplyCommand(ctx, cmd), "once per command ID")
	placed := eventsOf[event.Placed](t, e.st, event.TicketPlaced)
	require.Len(t, placed, 1)
	assert.Equal(t, "tg-locate-1", placed[0].Request)
	assert.Equal(t, "C-006", placed[0].Printed)
	info, err := e.st.Ticket(ctx, ids[5])
	require.NoError(t, err)
	assert.Equal(t, info.Position, placed[0].Place.Position, "the agent's own position")
	// A ticket no longer waiting: recorded, nothing written, not an error.
	require.NoError(t, e.st.ApplyCommand(ctx, event.Command{V: 1, Branch: "SCL-001", ID: "tg-locate-2", Type: event.CommandLocateTicket, Ticket: ids[0]}))
	assert.Len(t, eventsOf[event.Placed](t, e.st, event.TicketPlaced), 1)
}
