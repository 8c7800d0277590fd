package booking_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/ratelimit"
)

// TestBookOnThePage walks the customer's flow on the real book: search the
// branch, choose service, day and slot, give a RUT, get the code; bad input
// is refused in Spanish with nothing written; the booking is moved and
// cancelled with its RUT only.
func TestBookOnThePage(t *testing.T) {
	e := newEnv(t, envOpt{})
	b := e.browser()

	res, page := b.get("/agenda?q=valparaiso")
	require.Equal(t, 200, res.StatusCode)
	assert.Contains(t, page, `lang="es-CL"`)
	assert.Contains(t, page, "Valparaíso Puerto", "accents folded in the search")
	assert.NotContains(t, page, "Providencia Centro")

	// A network of many branches: the home lists 50 and asks to search.
	many := newEnv(t, envOpt{branches: 60})
	_, page = many.browser().get("/agenda")
	assert.Contains(t, page, "Mostrando 50 de 62 sucursales")
	assert.Equal(t, 50, strings.Count(page, `<li><a href="/agenda/sucursal/`))

	_, page = b.get("/agenda/sucursal/SCL-001")
	assert.Contains(t, page, "Agendar hora")
	assert.Contains(t, page, "Tomar número ahora", "P has remote joining open")

	day := e.tomorrow()
	res, page = b.get("/agenda/sucursal/SCL-001/C?dia=" + day)
	require.Equal(t, 200, res.StatusCode)
	start := e.at(day, "10:30")
	formPath := "/agenda/sucursal/SCL-001/C/reservar?inicio=" + strconv.FormatInt(start.Unix(), 10)
	assert.Contains(t, page, `href="`+strings.ReplaceAll(formPath, "&", "&amp;")+`"`)
	assert.Contains(t, page, "1 cupos")

	post := "/agenda/sucursal/SCL-001/C/reservar"
	form := func(rut, note string) url.Values {
		return url.Values{"inicio": {strconv.FormatInt(start.Unix(), 10)}, "rut": {rut}, "nota": {note}}
	}
	// No CSRF token: refused, nothing written.
	res, page = b.post("", post, form(rutOf(12345678), ""))
	assert.Equal(t, 403, res.StatusCode)
	assert.Contains(t, page, "El formulario expiró")
	// A wrong check digit, a control character in the note: refused in Spanish.
	res, page = b.post(formPath, post, form("12.345.678-9", ""))
	assert.Equal(t, 400, res.StatusCode)
	assert.Contains(t, page, "dígito verificador")
	res, page = b.post(formPath, post, form(rutOf(12345678), "hola\x07"))
	assert.Equal(t, 400, res.StatusCode)
	assert.Contains(t, page, "La nota tiene caracteres no permitidos")
	assert.Zero(t, e.count(`SELECT count(*) FROM appt_bookings`))

	// Booked: redirected to the booking's page with its code.
	res, _ = b.post(formPath, post, form(rutOf(12345678), "Vengo por un crédito"))
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	loc := res.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, "/agenda/hora/"), loc)
	_, page = b.get(loc)
	var code string
	require.NoError(t, e.pool.QueryRow(t.Context(), `SELECT code FROM appt_bookings`).Scan(&code))
	assert.Contains(t, page, "¡Listo! Tu hora quedó agendada")
	assert.Contains(t, page, `<p class="code">`+code+`</p>`)
	assert.Contains(t, page, "10:30")
	assert.NotContains(t, page, "12345678", "the RUT is never shown back")

	// The slot had one place: another customer finds it full.
	other := e.browser()
	res, page = other.post(formPath, post, form(rutOf(7654321), ""))
	assert.Equal(t, 409, res.StatusCode)
	assert.Contains(t, page, "Esa hora se acaba de llenar")
	// The same RUT cannot hold two bookings that day.
	res, page = b.post(formPath, post, url.Values{"inicio": {strconv.FormatInt(e.at(day, "11:00").Unix(), 10)}, "rut": {rutOf(12345678)}})
	assert.Equal(t, 409, res.StatusCode)
	assert.Contains(t, page, "Ya tienes una hora agendada")

	// Move it: the wrong RUT is refused, the right one moves it.
	id := strings.TrimPrefix(strings.Split(loc, "?")[0], "/agenda/hora/")
	manage := "/agenda/hora/" + id + "?c=" + code
	move := url.Values{"c": {code}, "inicio": {strconv.FormatInt(e.at(day, "15:00").Unix(), 10)}, "rut": {rutOf(7654321)}}
	res, page = b.post(manage, "/agenda/hora/"+id+"/cambiar", move)
	assert.Equal(t, 404, res.StatusCode, page)
	assert.Contains(t, page, "No encontramos esa reserva")
	move.Set("rut", "12.345.678-"+strings.Split(rutOf(12345678), "-")[1])
	res, _ = b.post(manage, "/agenda/hora/"+id+"/cambiar", move)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, page = b.get(res.Header.Get("Location"))
	assert.Contains(t, page, "Tu hora fue cambiada.")
	assert.Contains(t, page, "15:00")

	// Cancel it.
	res, _ = b.post(manage, "/agenda/hora/"+id+"/cancelar", url.Values{"c": {code}, "rut": {rutOf(12345678)}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, page = b.get(res.Header.Get("Location"))
	assert.Contains(t, page, "Tu hora fue anulada.")
	assert.Contains(t, page, "anulada")
	assert.NotContains(t, page, "Anular la hora", "a cancelled booking offers no change")

	// English by Accept-Language; an unknown booking is a clear 404.
	b.lang = "en-US"
	res, page = b.get("/agenda/hora/ap-nope?c=123456")
	assert.Equal(t, 404, res.StatusCode)
	assert.Contains(t, page, "We could not find that booking")
}

// TestBookingAPI: the JSON endpoints answer problem+json with stable codes;
// of two customers racing for a slot's last place exactly one wins.
func TestBookingAPI(t *testing.T) {
	e := newEnv(t, envOpt{executives: 1})
	day := e.tomorrow()
	get := func(path string) (int, map[string]any) {
		res, err := http.Get(e.srv.URL + path)
		require.NoError(t, err)
		defer res.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
		return res.StatusCode, out
	}
	status, out := get("/api/v1/public/branches/SCL-001/services/C/slots?day=" + day)
	require.Equal(t, 200, status)
	slots := out["slots"].([]any)
	assert.Len(t, slots, 36, "09:00–18:00 in 15-minute slots")
	assert.EqualValues(t, 1, slots[0].(map[string]any)["free"])
	status, out = get("/api/v1/public/branches/SCL-001/services/C/slots?day=mañana")
	assert.Equal(t, 400, status)
	assert.Equal(t, "booking.day_invalid", out["code"])
	status, out = get("/api/v1/public/branches/scl_001/services/C/slots?day=" + day)
	assert.Equal(t, 400, status)
	assert.Equal(t, "booking.branch_invalid", out["code"])

	book := func(ctype string, body any) (int, map[string]any) {
		raw, _ := json.Marshal(body)
		res, err := http.Post(e.srv.URL+"/api/v1/public/bookings", ctype, bytes.NewReader(raw))
		require.NoError(t, err)
		defer res.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
		if res.StatusCode >= 400 {
			assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
		}
		return res.StatusCode, out
	}
	start := e.at(day, "09:45")
	req := map[string]any{"branch": "SCL-001", "service": "C", "start": start, "rut": rutOf(11111111)}
	status, out = book("text/plain", req)
	assert.Equal(t, 400, status)
	assert.Equal(t, "booking.json_required", out["code"])
	bad := map[string]any{"branch": "SCL-001", "service": "C", "start": start, "rut": "11.111.111-2"}
	status, out = book("application/json", bad)
	assert.Equal(t, 400, status)
	assert.Equal(t, "rut.check_digit", out["code"])
	assert.Zero(t, e.count(`SELECT count(*) FROM appt_bookings`))

	// Two customers race for the one place.
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = book("application/json", map[string]any{"branch": "SCL-001", "service": "C", "start": start,
				"rut": rutOf(20000000 + i)})
		}()
	}
	wg.Wait()
	assert.ElementsMatch(t, []int{201, 409}, codes)
	status, out = book("application/json", map[string]any{"branch": "SCL-001", "service": "C", "start": e.at(day, "10:00"),
		"rut": rutOf(30000000), "note": "primera vez"})
	require.Equal(t, 201, status, out)
	assert.Regexp(t, `^[0-9]{6}$`, out["code"])
	assert.Contains(t, out["manage_url"], "/agenda/hora/")
	status, out = get("/api/v1/public/branches/SCL-001/services/C/slots?day=" + day)
	require.Equal(t, 200, status)
	assert.EqualValues(t, 0, out["slots"].([]any)[3].(map[string]any)["free"], "09:45 is full")
}

// TestRateLimitPerAddress: past its budget a client address gets 429 with
// Retry-After (problem+json on the API, a Spanish page on the site).
func TestRateLimitPerAddress(t *testing.T) {
	e := newEnv(t, envOpt{reads: &ratelimit.Config{Every: time.Hour, Burst: 3}})
	for range 3 {
		res, err := http.Get(e.srv.URL + "/api/v1/public/branches")
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, 200, res.StatusCode)
	}
	res, err := http.Get(e.srv.URL + "/api/v1/public/branches")
	require.NoError(t, err)
	var p map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&p))
	res.Body.Close()
	assert.Equal(t, 429, res.StatusCode)
	assert.NotEmpty(t, res.Header.Get("Retry-After"))
	assert.Equal(t, "rate.limited", p["code"])
	res2, page := e.browser().get("/agenda")
	assert.Equal(t, 429, res2.StatusCode)
	assert.Contains(t, page, "Demasiadas solicitudes")
}

// TestCompression: the pages and styles a phone loads, and the API's answers,
// come gzipped to a client that asks, and whole to one that does not.
func TestCompression(t *testing.T) {
	e := newEnv(t, envOpt{})
	for _, path := range []string{"/agenda", "/agenda/sucursal/SCL-001/C?dia=" + e.tomorrow(), "/api/v1/public/branches"} {
		req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set("Accept-Encoding", "gzip")
		res, err := http.DefaultTransport.RoundTrip(req)
		require.NoError(t, err)
		require.Equal(t, 200, res.StatusCode, path)
		assert.Equal(t, "gzip", res.Header.Get("Content-Encoding"), path)
		zr, err := gzip.NewReader(res.Body)
		require.NoError(t, err, path)
		body, err := io.ReadAll(zr)
		require.NoError(t, err, path)
		res.Body.Close()
		assert.NotEmpty(t, body, path)

		req, err = http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		require.NoError(t, err)
		plain, err := http.DefaultTransport.RoundTrip(req)
		require.NoError(t, err)
		whole, err := io.ReadAll(plain.Body)
		plain.Body.Close()
		require.NoError(t, err)
		assert.Empty(t, plain.Header.Get("Content-Encoding"), path)
		assert.Equal(t, body, whole, path)
	}
}
