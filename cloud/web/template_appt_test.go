package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
)

// The template form manages appointment rules: bad values refused with the
// appointments page's message, the values shown again, a branch may keep
// its own, the preview lists the changes per branch (remote joining only
// where the branch has the service) and the publication sends them.
func TestTemplateAppointmentForm(t *testing.T) {
	e := newEnv(t)
	e.user("admin@tpa.cl", "admin", nil, nil)
	c, csrf := e.login("admin@tpa.cl")
	post := func(path string, kv ...string) (*http.Response, string) {
		f := url.Values{"csrf": {csrf}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Add(kv[i], kv[i+1])
		}
		return e.post(c, path, f)
	}
	for _, b := range []string{"WA-001", "WA-002"} {
		res, _ := post("/config/branches", "id", b, "name", "Citas "+b, "region", "Web Citas", "time_zone", "America/Santiago", "opening_hours", "09:00-14:00")
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		res, _ = post("/config/branches/"+b+"/services", "code", "C", "name", "Caja", "target_min", "10", "mean_min", "4", "priority", "1")
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
	}
	res, _ := post("/config/branches/WA-001/services", "code", "P", "name", "Plataforma", "target_min", "15", "mean_min", "10", "priority", "1")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)

	form := func(runMax, remote string) []string {
		return []string{"name", "Citas web", "target_kind", "region", "target_value", "Web Citas",
			"manage_appointments", "1", "early_min", "", "grace_min", "", "run_max", runMax, "hold_min", "20", "slide_by", "", "remote", remote}
	}
	res, body := post("/config/templates", form("99", "C")...)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, body, "Dato no válido en run_max: 0..10.")
	res, body = post("/config/templates", form("1", "C=cinco")...)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, body, "Dato no válido en remote: C=cinco.")
	res, _ = post("/config/templates", form("1", "c=5 P")...)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	tpl := regexp.MustCompile(`^/config/templates/\d+`).FindString(res.Header.Get("Location"))
	require.NotEmpty(t, tpl)

	_, body = e.get(c, "/config/templates")
	assert.Contains(t, body, "<td>reglas de citas y fila a distancia </td>", "the list names the parts")
	_, body = e.get(c, tpl)
	assert.Contains(t, body, `<input type="checkbox" name="manage_appointments" value="1" checked>`)
	assert.Contains(t, body, `name="run_max" type="number" min="0" max="10" value="1" placeholder="2"`)
	assert.Contains(t, body, `name="early_min" type="number" min="0" max="240" value="" placeholder="30"`)
	assert.Contains(t, body, `<input name="remote" id="tpl-remote" value="C=5 P"`)
	assert.Contains(t, body, `<input type="checkbox" name="field" value="appointment_rules"> Reglas de citas y fila a distancia`)

	// The preview: WA-001 gets remote joining for C and P, WA-002 for C.
	_, body = e.get(c, tpl+"/preview")
	assert.Contains(t, body, "2 sucursales: 2 cambian, 0 sin cambios, 0 rechazadas.")
	row := func(key, after string) string {
		return `<td>Reglas</td><td>` + key + `</td><td>cambia</td>` + after
	}
	sections := regexp.MustCompile(`(?s)<details class="branch-preview" id="preview-(WA-\d+)".*?</details>`).FindAllStringSubmatch(body, -1)
	require.Len(t, sections, 2)
	assert.Contains(t, sections[0][0], row("appointments", `<td>citas: llegada desde 30 min antes, tolerancia 10 min, hasta 2 seguidas · fila remota: espera 15 min, retrocede 3 lugares</td><td>citas: llegada desde 30 min antes, tolerancia 10 min, hasta 1 seguidas · fila remota: espera 20 min, retrocede 3 lugares</td>`))
	assert.Contains(t, sections[0][0], `<td>remote:P</td><td>se agrega</td><td></td><td>fila remota abierta</td>`)
	assert.Contains(t, sections[1][0], `<td>remote:C</td><td>se agrega</td><td></td><td>fila remota abierta, hasta 5 sin llegar</td>`)
	assert.NotContains(t, sections[1][0], "remote:P", "WA-002 has no Plataforma")

	// WA-002 keeps its own; the publication sends WA-001 the template's and
	// WA-002 its own.
	res, _ = post(tpl+"/overrides", "branch", "WA-002", "field", "appointment_rules")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, body = e.get(c, tpl+"/preview")
	assert.Contains(t, body, "2 sucursales: 2 cambian, 0 sin cambios, 0 rechazadas. 1 conservan campos propios.")
	assert.Contains(t, body, "<span class=\"own\">Conserva: Reglas de citas y fila a distancia</span>")
	res, _ = post(tpl + "/publish")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Len(t, e.pub.got, 2)
	assert.Equal(t, "WA-001", e.pub.got[0].Branch)
	assert.Zero(t, e.pub.got[1].Rules.Appointments, "WA-002 publishes its own (none)")
	assert.Equal(t, event.AppointmentRules{RunMax: 1, HoldMin: 20, Remote: map[string]event.RemoteRule{"C": {Open: true, Cap: 5}, "P": {Open: true}}},
		e.pub.got[0].Rules.Appointments)
	d, err := e.store.BranchConfig(context.Background(), "WA-002")
	require.NoError(t, err)
	assert.Zero(t, d.Rules.Appointments, "WA-002's own, untouched")
}
