package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
)

type projected struct {
	origin, service, printed, status string
	number                           int
	pos, typ, up                     *int
	at                               *time.Time
}

func projectedTicket(t *testing.T, branch, id string) projected {
	t.Helper()
	var p projected
	require.NoError(t, testDB.QueryRow(context.Background(), `SELECT origin_service, service, printed, status, number,
		place_position, place_typical_s, place_upper_s, place_at FROM tickets WHERE branch = $1 AND id = $2`, branch, id).
		Scan(&p.origin, &p.service, &p.printed, &p.status, &p.number, &p.pos, &p.typ, &p.up, &p.at))
	return p
}

// TestProjectPrintedAndPlace: the projection keeps the printed number the
// branch sent (a transferred C-004 stays C-004, C-1000 stays C-1000) and the
// branch's last relayed place, in one batch and across batches.
func TestProjectPrintedAndPlace(t *testing.T) {
	s := store(t)
	ctx := context.Background()
	const b = "PLACE-01"
	at := time.Date(2026, 11, 28, 13, 0, 0, 0, time.UTC)
	mk := func(seq uint64, typ event.Type, data any) event.Event {
		e, err := event.New(seq, b+"-"+string(rune('a'+seq)), typ, at.Add(time.Duration(seq)*time.Minute), data)
		require.NoError(t, err)
		return e
	}
	ref := func(id, svc string, n int, printed string) event.TicketRef {
		return event.TicketRef{Ticket: id, Service: svc, Number: n, Day: "2026-11-28", Printed: printed}
	}
	moved := ref("t4", "C", 4, "C-004")
	moved.Place = &event.Place{Position: 2, TypicalS: 600, UpperS: 900}
	first := []event.Event{
		mk(1, event.TicketIssued, event.Issued{TicketRef: ref("t4", "C", 4, "C-004"), Priority: "normal", QueuedAt: at,
			Position: 7, QuotedTypical: 2100, QuotedUpper: 3150}),
		mk(2, event.TicketTransferred, event.Transferred{TicketRef: moved, To: "P", QueuedAt: at}),
		mk(3, event.TicketIssued, event.Issued{TicketRef: ref("t1000", "C", 1000, "C-1000"), Priority: "normal", QueuedAt: at,
			Position: 3, QuotedTypical: 600, QuotedUpper: 900}),
	}
	_, err := s.Ingest(ctx, batch(b, first))
	require.NoError(t, err)
	p := projectedTicket(t, b, "t4")
	assert.Equal(t, "C-004", p.printed)
	assert.Equal(t, "P", p.service)
	assert.Equal(t, 2, *p.pos, "the place after the transfer, folded in the same batch")
	assert.Equal(t, at.Add(2*time.Minute), p.at.UTC())
	assert.Equal(t, "C-1000", projectedTicket(t, b, "t1000").printed)

	// ticket.near in a later batch only moves the place; the status stays.
	near := ref("t4", "P", 4, "C-004")
	near.Place = &event.Place{Position: 1, TypicalS: 0, UpperS: 900}
	_, err = s.Ingest(ctx, batch(b, []event.Event{mk(4, event.TicketNear, event.Near{TicketRef: near, Threshold: 3})}))
	require.NoError(t, err)
	p = projectedTicket(t, b, "t4")
	assert.Equal(t, "waiting", p.status)
	assert.Equal(t, 1, *p.pos)
	assert.Equal(t, 900, *p.up)
	assert.Equal(t, at.Add(4*time.Minute), p.at.UTC())

	// A requeue without a place (an old agent) keeps the last one.
	_, err = s.Ingest(ctx, batch(b, []event.Event{
		mk(5, event.TicketCalled, event.Called{TicketRef: ref("t4", "P", 4, "C-004")}),
		mk(6, event.TicketRequeued, ref("t4", "P", 4, "")),
	}))
	require.NoError(t, err)
	p = projectedTicket(t, b, "t4")
	assert.Equal(t, "waiting", p.status)
	assert.Equal(t, 1, *p.pos)
	assert.Equal(t, "C-004", p.printed)
}

// TestProjectLegacyEvents: events of agents from before the printed number
// and the place (shared/event/testdata/legacy) are still projected; the
// printed number is rebuilt from the service of issue, never the current one.
func TestProjectLegacyEvents(t *testing.T) {
	s := store(t)
	ctx := context.Background()
	for _, f := range []string{"ticket_issued", "ticket_transferred", "ticket_requeued"} {
		// The protocol's own legacy goldens, in this workspace's shared module.
		raw, err := os.ReadFile(filepath.Join(repoRoot, "shared", "event", "testdata", "legacy", f+".json"))
		require.NoError(t, err)
		b, err := event.DecodeBatch(event.EventsTopic("SCL-001"), raw)
		require.NoError(t, err)
		ev := b.Events[0]
		ev.Seq = map[string]uint64{"ticket_issued": 1, "ticket_transferred": 2, "ticket_requeued": 3}[f]
		ev.ID = "legacy-" + f
		_, err = s.Ingest(ctx, batch("LEGACY-01", []event.Event{ev}))
		require.NoError(t, err)
	}
	p := projectedTicket(t, "LEGACY-01", "01JDZ8ABCDEF")
	assert.Equal(t, "C", p.origin)
	assert.Equal(t, "P", p.service, "transferred to P")
	assert.Equal(t, "waiting", p.status)
	assert.Equal(t, "C-023", p.printed)
	assert.Equal(t, 4, *p.pos, "the quote at issue is the last figure")
}

// repoRoot is the repository's root from this package's folder.
var repoRoot = filepath.Join("..", "..")
