package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
)

// An admin manages two branches of a region through a template: tags, the
// template form (refusing bad input in Spanish), a branch keeping its own
// hours, the preview (what changes where, the branch whose waiting customers
// it would strand refused), the staged publication (first stage sent,
// confirmation, the refusal per branch), the version report filtered by
// region and tag, and the audit. A supervisor cannot reach any of it.
func TestTemplatePages(t *testing.T) {
	e := newEnv(t)
	e.user("admin@tpl.cl", "admin", nil, nil)
	e.user("sup@tpl.cl", "supervisor", []string{"Web Norte"}, nil)
	c, csrf := e.login("admin@tpl.cl")
	post := func(path string, kv ...string) (*http.Response, string) {
		f := url.Values{"csrf": {csrf}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Add(kv[i], kv[i+1])
		}
		return e.post(c, path, f)
	}
	for _, b := range []string{"WT-001", "WT-002"} {
		res, _ := post("/config/branches", "id", b, "name", "Sucursal "+b, "region", "Web Norte", "time_zone", "America/Santiago", "opening_hours", "09:00-14:00")
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		res, _ = post("/config/branches/"+b+"/services", "code", "C", "name", "Caja", "target_min", "10", "mean_min", "4", "priority", "1")
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
	}
	res, _ := post("/config/branches/WT-002/services", "code", "P", "name", "Plataforma", "target_min", "15", "mean_min", "10", "priority", "1")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	e.f.Ticket(hqtest.Ticket{Day: today(t), Branch: "WT-002", ID: "wt2-p1", Service: "P", Number: 1, QueuedAt: time.Now().Add(-5 * time.Minute)})

	// Tags.
	res, body := post("/config/tags", "branch", "WT-002", "tags", "mall, con espacio!")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, body, "Etiqueta no válida: espacio!")
	res, _ = post("/config/tags", "branch", "WT-002", "tags", "mall piloto")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = post("/config/tags", "branch", "NO-404", "tags", "mall")
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	_, body = e.get(c, "/config/templates?tags=WT-002")
	assert.Contains(t, body, "Etiquetas de WT-002 guardadas.")
	assert.Contains(t, body, `<input name="tags" value="mall, piloto" aria-label="Etiquetas WT-002"`)

	// The template form: bad input refused in Spanish, nothing stored.
	res, body = post("/config/templates", "name", "Norte web", "target_kind", "region", "target_value", "Web Norte",
		"manage_services", "1", "services", "C | Caja | diez | 4 | 1")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, body, "Línea 1 no válida: C | Caja | diez | 4 | 1")
	res, body = post("/config/templates", "name", "", "target_kind", "region", "target_value", "Web Norte")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, body, "El nombre de la plantilla es obligatorio")
	res, _ = post("/config/templates", "name", "Norte web", "target_kind", "region", "target_value", "Web Norte",
		"manage_services", "1", "services", "C | Caja | 12 | 4 | 1\nE | Empresas | 20 | 15 | 2",
		"manage_hours", "1", "opening_hours", "08:30-14:00")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	loc := res.Header.Get("Location")
	m := regexp.MustCompile(`^/config/templates/(\d+)\?saved=1$`).FindStringSubmatch(loc)
	require.NotNil(t, m, loc)
	tpl := "/config/templates/" + m[1]
	res, body = e.get(c, loc)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "Plantilla guardada (versión 1).")
	assert.Contains(t, body, `<form method="post" action="`+tpl+`/overrides" class="grid" id="own-WT-002">`)

	// WT-002 keeps its own hours.
	res, _ = post(tpl+"/overrides", "branch", "WT-002", "field", "opening_hours")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, body = e.get(c, tpl)
	assert.Contains(t, body, `<span class="own">Conserva: Horario de atención</span>`)
	assert.Contains(t, body, `<input type="checkbox" name="field" value="opening_hours" checked> Horario de atención`)

	// The preview: counts, and per branch the changes and the guard.
	res, body = e.get(c, tpl+"/preview")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "2 sucursales: 1 cambian, 0 sin cambios, 1 rechazadas. 1 conservan campos propios.")
	assert.Contains(t, body, `<details class="branch-preview" id="preview-WT-002" open>`)
	assert.Contains(t, body, "quita el servicio P (Plataforma), con 1 en espera")
	assert.Contains(t, body, `<tr class="diff-added"><td>Servicios</td><td>E</td><td>se agrega</td><td></td><td>Empresas · meta 20 min · atención media 15 min · prioridad 2</td></tr>`)
	require.Empty(t, e.pub.got, "a preview sends nothing")

	// Stage one: WT-001 only.
	res, body = post(tpl+"/publish", "first_n", "uno")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, body, "debe ser un número")
	res, _ = post(tpl+"/publish", "first_n", "1")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	rollout := res.Header.Get("Location")
	require.Regexp(t, `^/config/rollouts/\d+$`, rollout)
	require.Len(t, e.pub.got, 1)
	assert.Equal(t, "WT-001", e.pub.got[0].Branch)
	assert.Equal(t, "08:30-14:00", e.pub.got[0].OpeningHours)
	_, body = e.get(c, rollout)
	assert.Contains(t, body, "Primera etapa publicada: revise las sucursales y confirme el resto.")
	assert.Contains(t, body, "1 publicadas, 0 sin cambios, 0 rechazadas, 0 sin enviar, 1 pendientes.")
	assert.Contains(t, body, `id="continue"`)

	// The rest: WT-002 refused like its own publication.
	res, _ = post(rollout + "/continue")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, body = e.get(c, rollout)
	assert.Contains(t, body, "Publicación terminada.")
	assert.Contains(t, body, `<tr class="result-refused" id="result-WT-002">`)
	assert.Contains(t, body, "quita el servicio P (Plataforma), con 1 en espera")
	assert.NotContains(t, body, `id="continue"`)
	assert.Len(t, e.pub.got, 1, "nothing sent to the refused branch")
	res, body = post(rollout + "/continue")
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.Contains(t, body, "Esta publicación ya no está pendiente.")

	// The version report.
	_, body = e.get(c, "/config/versions?region=Web+Norte")
	assert.Contains(t, body, "2 sucursales, 1 atrasadas.")
	assert.Contains(t, body, `<tr id="v-WT-001" class="late">`)
	_, body = e.get(c, "/config/versions?tag=mall")
	assert.Contains(t, body, `id="v-WT-002"`)
	assert.NotContains(t, body, `id="v-WT-001"`)
	assert.Contains(t, body, "<td>mall, piloto</td>")

	// The audit: one publication, the template's changes and stages.
	pubs := e.audited(cloud.AuditConfigPublish, "admin@tpl.cl")
	require.Len(t, pubs, 1)
	assert.Equal(t, "branch:WT-001", pubs[0].Target)
	assert.Len(t, e.audited(cloud.AuditConfigTemplate, "admin@tpl.cl"), 5, "tags, create, override, stage 1, stage 2")

	// Every page translated; a supervisor reaches none.
	key := regexp.MustCompile(`\b(hq|status|priority|action)\.[a-z_]+(\.[a-z_]+)*\b`)
	sc, _ := e.login("sup@tpl.cl")
	for _, path := range []string{"/config/templates", tpl, tpl + "/preview", rollout, "/config/versions"} {
		for _, lang := range []string{"es-CL", "en"} {
			res, body := e.get(c, path, "Accept-Language", lang)
			assert.Equal(t, http.StatusOK, res.StatusCode, path)
			assert.Empty(t, key.FindAllString(body, -1), "%s %s", lang, path)
			assertLabelled(t, path, body)
		}
		res, _ := e.get(sc, path)
		assert.Equal(t, http.StatusForbidden, res.StatusCode, path)
	}
	res, _ = e.post(sc, tpl+"/publish", url.Values{"csrf": {csrf}})
	assert.NotEqual(t, http.StatusSeeOther, res.StatusCode)

	// Deleting the template keeps what it published.
	res, _ = post(tpl + "/delete")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = e.get(c, tpl)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	res, _ = e.get(c, "/config/templates/abc")
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	_, body = e.get(c, "/config/versions?region=Web+Norte")
	assert.True(t, strings.Contains(body, `<tr id="v-WT-001" class="late">`))
}
