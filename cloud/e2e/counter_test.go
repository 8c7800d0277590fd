package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/ticketero/ticketero/cloud"
)

// TestCounterActionsEndToEnd runs the real agent, broker and cloud: HQ defines
// outcome codes and publishes; the branch applies them; an executive parks a
// visit, serves a walk-in with two outcome codes, pauses for lunch, calls the
// parked visit back and finishes it; the events sync and HQ's report shows
// visits by outcome code and the executive's serving, idle and paused time
// with the pause's reason.
func TestCounterActionsEndToEnd(t *testing.T) {
	parallel(t)
	e := newEnv(t, "E2E-CTR")
	e.setenv("TICKETERO_CONFIG_REPORT", "1s")
	e.startCloud()
	e.startAgent()
	ctx := context.Background()
	count := func(q string) int {
		var n int
		require.NoError(t, e.db.QueryRow(ctx, q, e.branch).Scan(&n))
		return n
	}
	require.Eventually(t, func() bool { return count(`SELECT count(*) FROM hq_services WHERE branch = $1`) > 0 },
		60*time.Second, 100*time.Millisecond, "not imported: %s", e.agent.output())

	hqf := e.hqAdmin()
	for _, o := range [][2]string{{"deposit", "Depósito"}, {"card", "Tarjeta nueva"}} {
		code, body := hqf.post("/config/outcomes", "code", o[0], "name", o[1])
		require.Equal(t, http.StatusSeeOther, code, body)
	}
	code, _ := hqf.post("/config/branches", "from", "branch", "id", e.branch, "name", "Mostrador", "region", "RM",
		"time_zone", "America/Santiago", "opening_hours", "00:00-23:59")
	require.Equal(t, http.StatusSeeOther, code)
	code, body := hqf.post("/config/branches/"+e.branch+"/publish", "confirm", "1")
	require.Equal(t, http.StatusSeeOther, code, body)
	var oc struct {
		Outcomes []struct{ Code, Name string } `json:"outcomes"`
	}
	require.Eventually(t, func() bool {
		_, err := e.do("GET", "/api/v1/outcomes", "", nil, &oc)
		return err == nil && len(oc.Outcomes) == 2
	}, 30*time.Second, 50*time.Millisecond, "outcomes not applied: %s", e.agent.output())

	e.login()
	type tk struct {
		ID  string `json:"id"`
		Day string
	}
	must := func(want int, method, path string, body any, out any) {
		t.Helper()
		code, err := e.do(method, path, e.token, body, out)
		require.NoError(t, err)
		require.Equal(t, want, code, "%s %s", method, path)
	}
	var parked, walk tk
	must(201, "POST", "/api/v1/tickets", map[string]string{"service": "C"}, &parked)
	must(200, "POST", "/api/v1/counters/1/call-next", nil, &parked)
	must(200, "POST", "/api/v1/tickets/"+parked.ID+"/start", nil, nil)
	time.Sleep(1100 * time.Millisecond)
	must(200, "POST", "/api/v1/tickets/"+parked.ID+"/park", map[string]string{"reason": "fue por su cédula"}, nil)
	must(201, "POST", "/api/v1/counters/1/walk-in", map[string]string{"service": "C", "rut": "12.345.678-5"}, &walk)
	must(400, "POST", "/api/v1/tickets/"+walk.ID+"/complete", map[string]any{"outcomes": []string{"loan"}}, nil)
	must(200, "POST", "/api/v1/tickets/"+walk.ID+"/complete", map[string]any{"outcomes": []string{"deposit", "card"}}, nil)
	must(200, "POST", "/api/v1/sessions/current/pause", map[string]string{"code": "lunch"}, nil)
	time.Sleep(1500 * time.Millisecond)
	must(200, "POST", "/api/v1/sessions/current/resume", nil, nil)
	must(200, "POST", "/api/v1/tickets/"+parked.ID+"/unpark", nil, nil)
	must(200, "POST", "/api/v1/tickets/"+parked.ID+"/start", nil, nil)
	must(200, "POST", "/api/v1/tickets/"+parked.ID+"/complete", map[string]any{"outcomes": []string{"deposit"}}, nil)
	var b struct {
		Day string `json:"day"`
	}
	must(200, "GET", "/api/v1/branch", nil, &b)
	e.converge(60 * time.Second)

	var rep cloud.Report
	require.Eventually(t, func() bool {
		code, body := hqf.get(fmt.Sprintf("/hq/v1/reports?branch=%s&from=%s&to=%s", e.branch, b.Day, b.Day))
		return code == http.StatusOK && json.Unmarshal([]byte(body), &rep) == nil && len(rep.Outcomes) == 2 && len(rep.Executives) == 1
	}, 30*time.Second, 100*time.Millisecond, "report: %+v", rep)
	assert.Equal(t, []cloud.OutcomeCount{{Code: "deposit", Name: "Depósito", Visits: 2}, {Code: "card", Name: "Tarjeta nueva", Visits: 1}}, rep.Outcomes)
	x := rep.Executives[0]
	assert.Equal(t, "E01", x.Executive)
	assert.GreaterOrEqual(t, x.ServingS, 1.0, "the first visit was served a second")
	assert.GreaterOrEqual(t, x.PausedS, 1.4)
	assert.GreaterOrEqual(t, x.Pauses["lunch"], 1.4, "paused for lunch, by code")
	assert.Positive(t, x.IdleS+x.ServingS)
	require.Len(t, rep.Rows, 1)
	assert.Equal(t, 2, rep.Rows[0].Issued, "the walk-in counts like any ticket")
	assert.Equal(t, 2, rep.Rows[0].Served)
	var status string
	require.NoError(t, e.db.QueryRow(ctx, `SELECT channel FROM tickets WHERE branch = $1 AND id = $2`, e.branch, walk.ID).Scan(&status))
	assert.Equal(t, "counter", status)
}
