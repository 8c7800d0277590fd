package web_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/appt"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
	"github.com/ticketero/ticketero/cloud/web"
)

// TestAppointmentsHQ: an admin sets a service's booking schedule with an
// exception and the branch's appointment rules (bad input refused in Spanish,
// nothing stored), the rules travel in the next published config, the book
// lists the day's bookings to anyone in scope and lets a supervisor or admin
// cancel one with a reason (audited), and the appointment report and its CSV
// count it.
func TestAppointmentsHQ(t *testing.T) {
	book := appt.New(hqtest.MustPool(t, dsn), nil)
	e := newEnv(t, func(c *web.Config) { c.Appointments = book })
	e.user("admin@appt.cl", "admin", nil, nil)
	e.user("viewer@appt.cl", "viewer", nil, []string{"AP-001"})
	e.user("other@appt.cl", "viewer", nil, []string{"AP-999"})
	c, csrf := e.login("admin@appt.cl")
	post := func(c *http.Client, csrf, path string, kv ...string) (*http.Response, string) {
		f := url.Values{"csrf": {csrf}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return e.post(c, path, f)
	}
	res, _ := post(c, csrf, "/config/branches", "id", "AP-001", "name", "Citas", "region", "Citas HQ", "time_zone", "America/Santiago", "opening_hours", "09:00-14:00")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = post(c, csrf, "/config/branches/AP-001/services", "code", "C", "name", "Caja", "target_min", "10", "mean_min", "5", "priority", "1")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, body := e.get(c, "/config/branches/AP-001")
	assert.Contains(t, body, `href="/config/branches/AP-001/appointments"`)

	// Tomorrow in Santiago: its slots are in the future whatever the hour.
	tomorrow := time.Now().In(scl).AddDate(0, 0, 1)
	day := tomorrow.Format(time.DateOnly)
	wd := cloud.WeekdayKey(tomorrow.Weekday())

	res, body = e.get(c, "/config/branches/AP-001/appointments")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `action="/config/branches/AP-001/appointments/C"`)
	res, body = post(c, csrf, "/config/branches/AP-001/appointments/C", "slot_min", "30", "reserve_pct", "50",
		"hours_"+wd, "25:00-26:00", "executives_"+wd, "2")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, body, "Dato no válido en weekly."+wd)
	sc, err := book.Schedules(t.Context(), "AP-001")
	require.NoError(t, err)
	assert.Empty(t, sc, "nothing stored")
	res, _ = post(c, csrf, "/config/branches/AP-001/appointments/C", "slot_min", "30", "reserve_pct", "50", "horizon_days", "7",
		"hours_"+wd, "09:00-11:00", "executives_"+wd, "2", "exceptions", tomorrow.AddDate(0, 0, 7).Format(time.DateOnly)+" cerrado Feriado")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, body = e.get(c, "/config/branches/AP-001/appointments")
	assert.Contains(t, body, `name="hours_`+wd+`" value="09:00-11:00"`)
	assert.Contains(t, body, "cerrado Feriado")
	slots, err := book.Slots(t.Context(), "AP-001", "C", day)
	require.NoError(t, err)
	require.Len(t, slots, 4)
	assert.Equal(t, 1, slots[0].Free, "floor(2 × 50 %) = 1 place")

	// Rules: validated, then published with the config.
	res, body = post(c, csrf, "/config/branches/AP-001/appointments/rules", "run_max", "99")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, body, "Dato no válido en run_max")
	res, _ = post(c, csrf, "/config/branches/AP-001/appointments/rules", "early_min", "20", "remote_C", "1", "cap_C", "5")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	var stored int
	require.NoError(t, hqtest.MustPool(t, dsn).QueryRow(t.Context(), `SELECT (appointment_rules->>'early_min')::int
		FROM hq_branch_settings WHERE branch = 'AP-001'`).Scan(&stored), "beside the branch's other draft rules")
	assert.Equal(t, 20, stored)
	_, body = e.get(c, "/config/branches/AP-001/appointments")
	assert.Contains(t, body, `name="early_min" type="number" min="0" max="240" value="20"`)
	res, _ = post(c, csrf, "/config/branches/AP-001/publish", "confirm", "1")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.NotEmpty(t, e.pub.got)
	cfg := e.pub.got[len(e.pub.got)-1]
	assert.Equal(t, 20, cfg.Rules.Appointments.EarlyMin)
	assert.True(t, cfg.Rules.Appointments.Remote["C"].Open)
	assert.Equal(t, 5, cfg.Rules.Appointments.Remote["C"].Cap)

	// The book: a booking shows to a viewer in scope, without the cancel form.
	bk, err := book.Book(t.Context(), cloud.BookRequest{Branch: "AP-001", Service: "C", Start: slots[0].Start,
		RUT: "12345678-5", Channel: "web", Note: "Trámite de <pensión>"})
	require.NoError(t, err)
	v, vcsrf := e.login("viewer@appt.cl")
	res, body = e.get(v, "/branches/AP-001/book?day="+day)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, bk.Code)
	assert.Contains(t, body, "Trámite de &lt;pensión&gt;")
	assert.NotContains(t, body, "/cancel")
	res, _ = post(v, vcsrf, "/branches/AP-001/book/"+bk.ID+"/cancel", "reason", "x")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	o, _ := e.login("other@appt.cl")
	res, _ = e.get(o, "/branches/AP-001/book?day="+day)
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "out of scope")

	_, body = e.get(c, "/branches/AP-001/book?day="+day)
	assert.Contains(t, body, `action="/branches/AP-001/book/`+bk.ID+`/cancel"`)
	res, body = post(c, csrf, "/branches/AP-001/book/"+bk.ID+"/cancel", "reason", "")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, body, "Indique el motivo")
	res, _ = post(c, csrf, "/branches/AP-001/book/"+bk.ID+"/cancel", "reason", "Ejecutivo con licencia")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	got, err := book.Booking(t.Context(), bk.ID, bk.Code)
	require.NoError(t, err)
	assert.Equal(t, cloud.BookingCancelled, got.Status)
	_, body = e.get(c, "/branches/AP-001/book?day="+day)
	assert.Contains(t, body, "Ejecutivo con licencia")
	assert.Contains(t, body, "admin@appt.cl")
	res, body = post(c, csrf, "/branches/AP-001/book/"+bk.ID+"/cancel", "reason", "otra vez")
	assert.Equal(t, http.StatusConflict, res.StatusCode)
	assert.Contains(t, body, "ya no se puede cambiar")

	// The report and its CSV.
	res, body = e.get(c, "/reports/appointments?from="+day+"&to="+day)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `href="/branches/AP-001/book"`)
	res, body = e.get(c, "/reports/appointments.csv?from="+day+"&to="+day+"&branch=AP-001")
	require.Equal(t, http.StatusOK, res.StatusCode)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil { // the export may use ';' for Excel in Spanish
		r := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff")))
		r.Comma = ';'
		rows, err = r.ReadAll()
	}
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, "Sucursal", rows[0][0])
	assert.Equal(t, []string{"AP-001", "1", "0", "0", "0", "1", "0"}, rows[1][:7])
	res, _ = e.get(c, "/reports/appointments?from=2026-13-01")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)

	// Every page is translated.
	key := regexp.MustCompile(`\b(hq|appointment)\.[a-z_]+(\.[a-z_]+)*\b`)
	for _, lang := range []string{"es-CL", "en"} {
		for _, path := range []string{"/config/branches/AP-001/appointments", "/branches/AP-001/book?day=" + day,
			"/reports/appointments?from=" + day + "&to=" + day} {
			_, body := e.get(c, path, "Accept-Language", lang)
			assert.Empty(t, key.FindAllString(body, -1), "%s %s", lang, path)
		}
	}
	// Without the book the pages are not there.
	e2 := newEnv(t)
	e2.user("admin2@appt.cl", "admin", nil, nil)
	c2, _ := e2.login("admin2@appt.cl")
	res, _ = e2.get(c2, "/reports/appointments")
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}

var scl, _ = time.LoadLocation("America/Santiago")
