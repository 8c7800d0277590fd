package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
)

// TestBranchSecurityEventsReachHQAudit: failed sign-ins, sign-in waits and
// branch-local admin changes of a branch are rows of HQ's audit, naming the
// actor; an older event without actor still projects.
func TestBranchSecurityEventsReachHQAudit(t *testing.T) {
	s := store(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 30, 13, 0, 0, 0, time.UTC)
	guess := &event.Actor{Kind: event.ActorExecutive, Executive: "E01", Counter: 2, Address: "10.9.0.66"}
	data := []struct {
		typ event.Type
		pl  any
	}{
		{event.ExecutiveAdmin, event.Admin{Action: event.AdminAdded, Executive: "E01", Name: "Ana Pérez", Services: []string{"C", "P"},
			Actor: &event.Actor{Kind: event.ActorAdmin, User: "root (sudo jperez)"}}},
		{event.ExecutiveLoginFailed, event.SignIn{Executive: "E01", Counter: 2, Address: "10.9.0.66", Failures: 3, Actor: guess}},
		{event.ExecutiveLocked, event.SignIn{Executive: "E01", Counter: 2, Address: "10.9.0.66", Failures: 3, RetryS: 30, Actor: guess}},
		{event.ExecutiveAdmin, event.Admin{Action: event.AdminPINSet, Executive: "E01"}}, // no actor: an older agent
	}
	var evs []event.Event
	for i, d := range data {
		e, err := event.New(uint64(i+1), "AUD-EVT-"+string(rune('a'+i)), d.typ, at.Add(time.Duration(i)*time.Second), d.pl)
		require.NoError(t, err)
		evs = append(evs, e)
	}
	res, err := s.Ingest(ctx, batch("AUD-001", evs))
	require.NoError(t, err)
	assert.Equal(t, uint64(4), res.Applied)

	rows, err := testDB.Query(ctx, `SELECT actor, action, target, detail, ip FROM hq_audit WHERE target LIKE 'AUD-001/%' ORDER BY at, id`)
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
		{"AUD-001: admin root (sudo jperez)", "executive.admin", "AUD-001/E01", "added name=Ana Pérez services=C,P", ""},
		{"AUD-001: executive E01 @2", "executive.login_failed", "AUD-001/E01", "counter=2 failures=3", "10.9.0.66"},
		{"AUD-001: executive E01 @2", "executive.locked", "AUD-001/E01", "counter=2 failures=3 retry_s=30", "10.9.0.66"},
		{"AUD-001", "executive.admin", "AUD-001/E01", "pin_set", ""},
	}, got)
}
