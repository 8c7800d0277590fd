package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
)

// TestHolidaysAndBranchHours: an HQ admin lists, adds and removes a year's
// holidays and sets a branch's hours per weekday, grace and cut-offs; bad
// input is refused in Spanish with nothing stored; the next publication
// carries all of it; only admins reach the pages.
func TestHolidaysAndBranchHours(t *testing.T) {
	e := newEnv(t)
	e.user("admin@hours.cl", "admin", nil, nil)
	e.user("viewer@hours.cl", "viewer", nil, nil)
	c, csrf := e.login("admin@hours.cl")
	post := func(path string, kv ...string) (*http.Response, string) {
		f := url.Values{"csrf": {csrf}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return e.post(c, path, f)
	}
	next := time.Now().Year() + 1
	ny := fmt.Sprintf("%d-01-01", next)

	res, body := post("/config/holidays", "date", fmt.Sprintf("%d-02-30", next), "name", "Nunca")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, body, "Feriado no válido")
	res, _ = post("/config/holidays", "date", ny, "name", "Año Nuevo")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, fmt.Sprintf("/config/holidays?year=%d&saved=1", next), res.Header.Get("Location"))
	res, _ = post("/config/holidays", "date", fmt.Sprintf("%d-05-01", next), "name", "Día del Trabajo")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, body = e.get(c, fmt.Sprintf("/config/holidays?year=%d", next))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "Año Nuevo")
	assert.Contains(t, body, "Día del Trabajo")
	assert.NotContains(t, body, "Nunca")
	res, _ = post(fmt.Sprintf("/config/holidays/%d-05-01/delete", next))
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, body = post(fmt.Sprintf("/config/holidays/%d-05-01/delete", next))
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.Contains(t, body, "No hay feriado")
	_, body = e.get(c, fmt.Sprintf("/config/holidays?year=%d", next))
	assert.NotContains(t, body, "Día del Trabajo")
	assert.Len(t, e.audited(cloud.AuditConfigChange, "admin@hours.cl"), 3)

	res, _ = post("/config/branches", "id", "HR-001", "name", "Horario", "region", "RM", "time_zone", "America/Santiago", "opening_hours", "09:00-14:00")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = post("/config/branches/HR-001/services", "code", "C", "name", "Caja", "target_min", "10", "mean_min", "5", "priority", "1")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, body = e.get(c, "/config/branches/HR-001")
	assert.Contains(t, body, `href="/config/branches/HR-001/hours"`)
	res, body = e.get(c, "/config/branches/HR-001/hours")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `name="last_C"`)
	res, body = post("/config/branches/HR-001/hours", "day_sat", "25:00-26:00", "last_C", "30")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, body, "El horario &#34;25:00-26:00&#34; no es válido")
	assert.Contains(t, body, `value="25:00-26:00"`, "what was typed is kept")
	hs, err := e.store.BranchHours(t.Context(), "HR-001")
	require.NoError(t, err)
	assert.Equal(t, event.Hours{}, hs, "nothing stored")
	res, _ = post("/config/branches/HR-001/hours", "day_sat", "10:00 - 13:00", "day_sun", "cerrado", "close_grace_min", "20", "last_C", "13:30")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, body = e.get(c, "/config/branches/HR-001/hours")
	assert.Regexp(t, regexp.MustCompile(`name="day_sun" value="cerrado"`), body)
	assert.Contains(t, body, `name="day_sat" value="10:00-13:00"`)

	// The review before Publicar says the schedule travels too.
	res, body = e.get(c, "/config/branches/HR-001/publish")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `id="hours-note"`)
	assert.Contains(t, body, `href="/config/branches/HR-001/hours"`)
	res, _ = post("/config/branches/HR-001/publish", "confirm", "1")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.NotEmpty(t, e.pub.got)
	cfg := e.pub.got[len(e.pub.got)-1]
	assert.Equal(t, map[string]string{"sat": "10:00-13:00", "sun": ""}, cfg.WeeklyHours)
	assert.Equal(t, map[string]string{"C": "13:30"}, cfg.LastTicket)
	require.NotNil(t, cfg.CloseGraceMin)
	assert.Equal(t, 20, *cfg.CloseGraceMin)
	assert.Contains(t, cfg.Holidays, event.Holiday{Date: ny, Name: "Año Nuevo"})

	// Both pages are translated, and admin-only.
	key := regexp.MustCompile(`\b(hq|status|priority|action)\.[a-z_]+(\.[a-z_]+)*\b`)
	for _, lang := range []string{"es-CL", "en"} {
		for _, path := range []string{"/config/holidays", "/config/branches/HR-001/hours", "/config/branches/HR-001/publish"} {
			_, body := e.get(c, path, "Accept-Language", lang)
			assert.Empty(t, key.FindAllString(body, -1), "%s %s", lang, path)
		}
	}
	v, _ := e.login("viewer@hours.cl")
	res, _ = e.get(v, "/config/holidays")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res, _ = e.get(v, "/config/branches/HR-001/hours")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
}
