package hq_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
	"github.com/ticketero/ticketero/shared/event"
)

// TestBranchViewPrintedNumber: after a transfer HQ shows the number as
// printed (C-004 stays C-004, never P-004 beside the real P-004), also for a
// ticket projected from an old agent's events; C-1000 is not cut to C-100.
func TestBranchViewPrintedNumber(t *testing.T) {
	s, f, c := newStore(t)
	ctx := context.Background()
	f.Branch("PR-001", "Printed", "RM", true)
	t.Cleanup(func() { dropBranch(t, f, "PR-001") }) // other tests count the branches
	day := c.t.In(santiago(t)).Format("2006-01-02")
	ref := func(id, svc string, n int, printed string) event.TicketRef {
		return event.TicketRef{Ticket: id, Service: svc, Number: n, Day: day, Printed: printed}
	}
	var evs []event.Event
	add := func(typ event.Type, data any) {
		e, err := event.New(uint64(len(evs)+1), "pr-"+string(rune('a'+len(evs))), typ, c.t, data)
		require.NoError(t, err)
		evs = append(evs, e)
	}
	add(event.TicketIssued, event.Issued{TicketRef: ref("c4", "C", 4, "C-004"), Priority: "normal", QueuedAt: c.t})
	add(event.TicketIssued, event.Issued{TicketRef: ref("p4", "P", 4, "P-004"), Priority: "normal", QueuedAt: c.t})
	add(event.TicketIssued, event.Issued{TicketRef: ref("old", "C", 5, ""), Priority: "normal", QueuedAt: c.t})
	add(event.TicketIssued, event.Issued{TicketRef: ref("k", "C", 1000, "C-1000"), Priority: "normal", QueuedAt: c.t})
	add(event.TicketTransferred, event.Transferred{TicketRef: ref("c4", "C", 4, "C-004"), To: "P", QueuedAt: c.t})
	add(event.TicketTransferred, event.Transferred{TicketRef: ref("old", "C", 5, ""), To: "P", QueuedAt: c.t})
	called := ref("c4", "P", 4, "C-004")
	called.Counter, called.Executive = 1, "E1"
	add(event.TicketCalled, event.Called{TicketRef: called, ExecutiveName: "Ana"})
	add(event.ExecutiveLoggedIn, event.Session{Executive: "E1", Name: "Ana", Counter: 1})
	_, err := postgres.NewEventStore(f.Pool, nil).Ingest(ctx, event.Batch{V: event.Version, Branch: "PR-001", Events: evs})
	require.NoError(t, err)

	v, err := s.BranchView(ctx, cloud.AllBranches, "PR-001", day)
	require.NoError(t, err)
	got := map[string]string{}
	for _, tk := range v.Tickets {
		got[tk.ID] = tk.Display
	}
	assert.Equal(t, map[string]string{"c4": "C-004", "p4": "P-004", "old": "C-005", "k": "C-1000"}, got)
	require.Len(t, v.Executives, 1)
	assert.Equal(t, "C-004", v.Executives[0].Ticket)
}

func santiago(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	return loc
}

// dropBranch deletes every row of a branch (tables with a branch column, and
// the branch itself).
func dropBranch(t *testing.T, f hqtest.Fixture, id string) {
	ctx := context.Background()
	rows, err := f.Pool.Query(ctx, `SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND c.column_name = 'branch' AND t.table_type = 'BASE TABLE'`)
	require.NoError(t, err)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	for _, tb := range tables {
		_, err := f.Pool.Exec(ctx, `DELETE FROM `+pgx.Identifier{tb}.Sanitize()+` WHERE branch = $1`, id)
		require.NoError(t, err)
	}
	_, err = f.Pool.Exec(ctx, `DELETE FROM branches WHERE id = $1`, id)
	require.NoError(t, err)
}
