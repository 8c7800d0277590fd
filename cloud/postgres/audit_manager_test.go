package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
)

// TestManagerActionsReachHQAudit: the branch manager's sign-ins and actions
// on the branch page are rows of HQ's audit with the manager as actor; an
// executive's own sign-out is not, one the manager made is.
func TestManagerActionsReachHQAudit(t *testing.T) {
	s := store(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 30, 13, 0, 0, 0, time.UTC)
	until := at.Add(time.Hour)
	mgr := &event.Actor{Kind: event.ActorManager, Executive: "G01", Address: "10.9.0.40"}
	data := []struct {
		typ event.Type
		pl  any
	}{
		{event.ManagerLoginFailed, event.SignIn{Executive: "E01", Address: "10.9.0.40", Failures: 1,
			Actor: &event.Actor{Kind: event.ActorManager, Executive: "E01", Address: "10.9.0.40"}}},
		{event.ManagerSignedIn, event.Manager{Day: "2026-11-30", Executive: "G01", Name: "Marta Rojas", Actor: mgr}},
		{event.ServiceClosedToday, event.Manager{Day: "2026-11-30", Service: "E", Actor: mgr}},
		{event.ExecutiveServicesToday, event.Manager{Day: "2026-11-30", Executive: "E01", Services: []string{"P", "C"}, Actor: mgr}},
		{event.ExecutiveLoggedOut, event.Session{Executive: "E02", Counter: 3}}, // his own: not audited
		{event.ExecutiveLoggedOut, event.Session{Executive: "E01", Counter: 2, Reason: "manager", Actor: mgr}},
		{event.DisplayMessage, event.Manager{Day: "2026-11-30", Text: "Caja cerrada por arqueo", Until: &until, Actor: mgr}},
	}
	var evs []event.Event
	for i, d := range data {
		e, err := event.New(uint64(i+1), "MGR-EVT-"+string(rune('a'+i)), d.typ, at.Add(time.Duration(i)*time.Second), d.pl)
		require.NoError(t, err)
		evs = append(evs, e)
	}
	res, err := s.Ingest(ctx, batch("MGR-001", evs))
	require.NoError(t, err)
	assert.Equal(t, uint64(len(data)), res.Applied)

	rows, err := testDB.Query(ctx, `SELECT actor, action, target, detail, ip FROM hq_audit WHERE actor LIKE 'MGR-001%' ORDER BY at, id`)
	require.NoError(t, err)
	defer rows.Close()
	var got [][5]string
	for rows.Next() {
		var r [5]string
		require.NoError(t, rows.Scan(&r[0], &r[1], &r[2], &r[3], &r[4]))
		got = append(got, r)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, [][5]string{
		{"MGR-001: manager E01", "manager.login_failed", "MGR-001/E01", "failures=1", "10.9.0.40"},
		{"MGR-001: manager G01", "manager.signed_in", "MGR-001/G01", "", "10.9.0.40"},
		{"MGR-001: manager G01", "service.closed_today", "MGR-001", "service=E", "10.9.0.40"},
		{"MGR-001: manager G01", "executive.services_today", "MGR-001/E01", "services=P,C", "10.9.0.40"},
		{"MGR-001: manager G01", "executive.logged_out", "MGR-001/E01", "counter=2", "10.9.0.40"},
		{"MGR-001: manager G01", "display.message", "MGR-001", `message_text="Caja cerrada por arqueo" shown_until=2026-11-30T14:00:00Z`, "10.9.0.40"},
	}, got)
}
