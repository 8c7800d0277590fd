package e2e

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/queue"
)

// TestTemplateRegionEndToEnd runs the real cloud, Mosquitto with mTLS and two
// real agents set up locally in one region. HQ writes a template for the
// region in its forms (Caja renamed, calling rules, appointment rules with
// remote joining for Caja); the second branch keeps its own Caja. The preview shows both changing; the staged publication
// sends the first branch its version, which it runs while the second waits;
// on confirmation the second gets its own. Each agent runs the new version:
// the first's kiosk lists "Caja Rápida", the second's still "Caja"; both
// versions carry the appointment rules; the version report shows both up to
// date.
func TestTemplateRegionEndToEnd(t *testing.T) {
	parallel(t)
	a := newEnv(t, "E2E-TPA")
	a.setenv("TICKETERO_CONFIG_REPORT", "1s")
	a.startCloud()
	a.startAgent()
	// The second branch: the same broker, database and cloud.
	b := a.sibling("E2E-TPB")
	b.startAgent()
	ctx := t.Context()
	count := func(q, branch string) int {
		var n int
		require.NoError(t, a.db.QueryRow(ctx, q, branch).Scan(&n))
		return n
	}
	for _, e := range []*env{a, b} {
		require.Eventually(t, func() bool {
			return count(`SELECT count(*) FROM hq_services WHERE branch = $1`, e.branch) == len(queue.DefaultServices())
		}, 60*time.Second, 100*time.Millisecond, "%s not imported: %s", e.branch, e.agent.output())
	}

	hqf := a.hqAdmin()
	for _, e := range []*env{a, b} {
		code, body := hqf.post("/config/branches", "from", "branch", "id", e.branch, "name", "Sucursal "+e.branch, "region", "Sur E2E",
			"time_zone", "America/Santiago", "opening_hours", "00:00-23:59")
		require.Equal(t, http.StatusSeeOther, code, body)
	}
	code, body := hqf.post("/config/templates", "name", "Sur estándar", "target_kind", "region", "target_value", "Sur E2E",
		"manage_services", "1", "services", "C | Caja Rápida | 8 | 5 | 1\nP | Personal Banker | 20 | 15 | 2\nE | Empresas | 20 | 20 | 2\nG | Gerencia | 30 | 30 | 3",
		"manage_rules", "1", "preferential_ratio", "3", "recall_limit", "2", "pre_notice_ahead", "3",
		"manage_appointments", "1", "run_max", "1", "hold_min", "20", "remote", "C=4")
	require.Equal(t, http.StatusSeeOther, code, body)
	loc := regexp.MustCompile(`/config/templates/(\d+)`).FindString(hqf.location)
	require.NotEmpty(t, loc, hqf.location)
	code, body = hqf.post(loc+"/overrides", "branch", b.branch, "field", "service:C")
	require.Equal(t, http.StatusSeeOther, code, body)

	code, body = hqf.get(loc + "/preview")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "2 sucursales: 2 cambian, 0 sin cambios, 0 rechazadas. 1 conservan campos propios.")
	assert.Contains(t, body, "Conserva: Servicios C")

	// Stage one: E2E-TPA only; it runs version 1, E2E-TPB waits.
	running := func(e *env) int {
		return count(`SELECT coalesce((SELECT config_version FROM branch_sync WHERE branch = $1), 0)`, e.branch)
	}
	code, body = hqf.post(loc+"/publish", "first_n", "1")
	require.Equal(t, http.StatusSeeOther, code, body)
	rollout := hqf.location
	require.Eventually(t, func() bool { return running(a) == 1 }, 60*time.Second, 100*time.Millisecond, "%s", a.agent.output())
	assert.Zero(t, running(b), "the second stage waits for HQ")
	_, body = hqf.get("/config/versions?region=Sur+E2E")
	assert.Contains(t, body, "2 sucursales, 0 atrasadas.", "E2E-TPB has nothing published yet")

	code, body = hqf.post(rollout + "/continue")
	require.Equal(t, http.StatusSeeOther, code, body)
	require.Eventually(t, func() bool { return running(b) == 1 }, 60*time.Second, 100*time.Millisecond, "%s", b.agent.output())

	// Each agent runs its version: the template's Caja at one, its own at
	// the other; the template's rules at both.
	name := func(e *env, code string) string {
		var out struct {
			Services []struct {
				Code string `json:"code"`
				Name string `json:"name"`
			} `json:"services"`
		}
		_, err := e.do("GET", "/api/v1/services", "", nil, &out)
		require.NoError(t, err)
		for _, sv := range out.Services {
			if sv.Code == code {
				return sv.Name
			}
		}
		return ""
	}
	require.Eventually(t, func() bool { return name(a, "C") == "Caja Rápida" }, 30*time.Second, 100*time.Millisecond)
	assert.Equal(t, "Caja", name(b, "C"), "E2E-TPB kept its own Caja")
	var ratio, runMax, remoteCap int
	for _, e := range []*env{a, b} {
		require.NoError(t, a.db.QueryRow(ctx, `SELECT (snapshot->'rules'->>'preferential_ratio')::int, (snapshot->'rules'->'appointments'->>'run_max')::int,
			(snapshot->'rules'->'appointments'->'remote'->'C'->>'cap')::int FROM hq_branch_configs WHERE branch = $1 AND version = 1`,
			e.branch).Scan(&ratio, &runMax, &remoteCap))
		assert.Equal(t, 3, ratio, e.branch)
		assert.Equal(t, 1, runMax, "%s: the template's appointment rules", e.branch)
		assert.Equal(t, 4, remoteCap, "%s: remote joining for Caja", e.branch)
	}
	_, body = hqf.get("/config/versions?region=Sur+E2E")
	assert.Contains(t, body, "2 sucursales, 0 atrasadas.")
	assert.NotContains(t, body, `class="late"`)
	assert.Equal(t, 2, count(`SELECT count(*) FROM hq_audit WHERE action = 'config.publish' AND detail LIKE '%' || $1 || '%'`, `template "Sur estándar" v1`))
}
