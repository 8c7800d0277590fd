package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// TestOutcomesConfiguredAndReported: an HQ admin defines the network's
// outcome codes (bad input refused in Spanish, nothing stored); the next
// publication carries them to the branch; the branch's day (a visit with two
// codes, a lunch pause by code) shows in the reports page as visits by code
// with HQ's names and as the executive's serving, idle and paused time with
// the pause's reason.
func TestOutcomesConfiguredAndReported(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	t.Cleanup(func() { _, _ = e.f.Pool.Exec(ctx, `DELETE FROM hq_outcomes`) })
	e.user("admin@out.cl", "admin", nil, nil)
	c, csrf := e.login("admin@out.cl")
	post := func(path string, kv ...string) (*http.Response, string) {
		f := url.Values{"csrf": {csrf}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return e.post(c, path, f)
	}
	res, body := post("/config/outcomes", "code", "Depósito", "name", "Depósito")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	has(t, body, "no es válido")
	res, _ = post("/config/outcomes", "code", "deposit", "name", "Depósito")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = post("/config/outcomes", "code", "card", "name", "Tarjeta nueva")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = post("/config/outcomes", "code", "gone", "name", "Se va")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = post("/config/outcomes/gone/delete")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, body = e.get(c, "/config/outcomes")
	has(t, body, "<code>deposit</code></td><td>Depósito</td>")
	has(t, body, "Tarjeta nueva")
	hasNot(t, body, "Se va")
	list, err := e.store.Outcomes(ctx)
	require.NoError(t, err)
	assert.Equal(t, []queue.Outcome{{Code: "deposit", Name: "Depósito"}, {Code: "card", Name: "Tarjeta nueva"}}, list)

	res, _ = post("/config/branches", "id", "OC-001", "name", "Resultados", "region", "RM", "time_zone", "America/Santiago", "opening_hours", "09:00-14:00")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	t.Cleanup(func() { dropBranchRows(t, e, "OC-001") })
	cfg, err := e.store.Publish(ctx, "OC-001", "admin@out.cl", testRUTSealKey)
	require.NoError(t, err)
	assert.Equal(t, list, cfg.Outcomes, "published to the branch")

	// The branch's morning, as its events arrive.
	loc, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	base := time.Now().Add(-90 * time.Minute)
	day := base.In(loc).Format(time.DateOnly)
	if time.Now().In(loc).Format(time.DateOnly) != day {
		t.Skip("the test's 90 minutes cross midnight in Santiago")
	}
	var evs []event.Event
	add := func(min int, typ event.Type, data any) {
		ev, err := event.New(uint64(len(evs)+1), fmt.Sprintf("oc-%d", len(evs)+1), typ, base.Add(time.Duration(min)*time.Minute), data)
		require.NoError(t, err)
		evs = append(evs, ev)
	}
	ref := event.TicketRef{Ticket: "oc1", Service: "C", Number: 1, Day: day, Printed: "C-001"}
	held := ref
	held.Counter, held.Executive = 1, "E1"
	add(0, event.ExecutiveLoggedIn, event.Session{Executive: "E1", Name: "Ana Pérez", Counter: 1})
	add(0, event.TicketIssued, event.Issued{TicketRef: ref, Priority: "normal", QueuedAt: base})
	add(5, event.TicketCalled, event.Called{TicketRef: held})
	add(6, event.TicketStarted, held)
	add(20, event.TicketCompleted, event.Completed{TicketRef: held, Outcome: "deposit", Outcomes: []string{"deposit", "card"}})
	add(30, event.ExecutivePaused, event.Session{Executive: "E1", Counter: 1, Reason: "Colación", Code: queue.PauseLunch})
	add(60, event.ExecutiveResumed, event.Session{Executive: "E1", Counter: 1})
	add(70, event.ExecutiveLoggedOut, event.Session{Executive: "E1", Counter: 1})
	_, err = postgres.NewEventStore(e.f.Pool, nil).Ingest(ctx, event.Batch{V: event.Version, Branch: "OC-001", Events: evs})
	require.NoError(t, err)

	res, body = e.get(c, "/reports?branch=OC-001&from="+day)
	require.Equal(t, http.StatusOK, res.StatusCode)
	has(t, body, `<h2 id="outcomes-title">Resultados de la atención <a class="csv" id="csv-outcomes"`)
	has(t, body, `<tr><td><code>deposit</code> · Depósito</td><td>1</td></tr>`)
	has(t, body, `<tr><td><code>card</code> · Tarjeta nueva</td><td>1</td></tr>`)
	has(t, body, `Ana Pérez · E1`)
	has(t, body, `data-reason="lunch">Colación`)
	has(t, body, "Ocioso = con sesión iniciada, sin atender y sin pausa.")
	_, body = e.get(c, "/reports.csv?table=outcomes&branch=OC-001&from="+day)
	rows := readExcelCSV(t, body)
	assert.Equal(t, [][]string{{"Resultado", "Nombre", "Atenciones"}, {"deposit", "Depósito", "1"}, {"card", "Tarjeta nueva", "1"}}, rows)
	_, body = e.get(c, "/reports.csv?table=executives&branch=OC-001&from="+day)
	rows = readExcelCSV(t, body)
	require.Len(t, rows, 2)
	assert.Equal(t, []string{day, "OC-001", "E1", "Ana Pérez", "900,0", "1500,0", "1800,0", "1800,0", "0,0", "0,0", "0,0", "0,0", "0,0"}, rows[1])
	assert.Equal(t, "En pausa: Colación (s)", rows[0][7])
	r, err := e.store.Report(ctx, cloud.AllBranches, cloud.ReportQuery{From: day, Branch: "OC-001"})
	require.NoError(t, err)
	require.Len(t, r.Executives, 1)
	assert.InDelta(t, 15*60, r.Executives[0].ServingS, 1)
	assert.InDelta(t, 25*60, r.Executives[0].IdleS, 1)
	assert.InDelta(t, 30*60, r.Executives[0].PausedS, 1)
}

func dropBranchRows(t *testing.T, e *env, id string) {
	ctx := context.Background()
	for _, tb := range []string{"executive_activity", "tickets", "events", "executive_sessions", "branch_sync", "hq_branch_configs",
		"hq_services", "hq_counters", "hq_executives", "hq_branch_settings"} {
		_, _ = e.f.Pool.Exec(ctx, `DELETE FROM `+tb+` WHERE branch = $1`, id)
	}
	_, _ = e.f.Pool.Exec(ctx, `DELETE FROM branches WHERE id = $1`, id)
}
