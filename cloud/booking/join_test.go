package booking_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVirtualQueue: a customer takes a number from his phone, follows the
// branch's relayed place (page and polled JSON), and checks in by scanning
// the branch's entrance QR; a slide, a refusal and a closed queue are told
// in plain Spanish. The branch's answers are written as the ingest projects
// them (appt_joins rows).
func TestVirtualQueue(t *testing.T) {
	e := newEnv(t, envOpt{})
	b := e.browser()
	res, _ := b.post("/agenda/sucursal/SCL-001", "/agenda/sucursal/SCL-001/P/fila", url.Values{})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	loc := res.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, "/agenda/fila/"), loc)
	_, page := b.get(loc)
	assert.Contains(t, page, "Pidiendo tu número a la sucursal")
	assert.Contains(t, page, `href="https://t.me/TicketeroBot?start=ap`, "the chat can follow it like a ticket's QR")
	id := strings.TrimPrefix(strings.Split(loc, "?")[0], "/agenda/fila/")
	code := strings.Split(loc, "c=")[1]

	status := func() map[string]any {
		res, err := http.Get(e.srv.URL + "/api/v1/public/joins/" + id + "?code=" + code)
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, 200, res.StatusCode)
		var out map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
		return out
	}
	assert.Equal(t, "pending", status()["status"])
	res, err := http.Get(e.srv.URL + "/api/v1/public/joins/" + id + "?code=000000")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, 404, res.StatusCode, "the code is the proof")

	// The branch issued P-007, third in line.
	e.exec(`UPDATE appt_joins SET status = 'issued', ticket = 't-7', printed = 'P-007', position = 3, typical_s = 600, upper_s = 900 WHERE id = $1`, id)
	st := status()
	assert.Equal(t, "Tu número es P-007", st["headline"])
	assert.Equal(t, "Personas antes que tú: 2. Espera estimada: entre 10 y 15 min.", st["detail"])
	assert.Equal(t, false, st["final"])

	// Reached the front unchecked: slid back, holding its place a while.
	e.exec(`UPDATE appt_joins SET hold_until = $2 WHERE id = $1`, id, time.Now().Add(10*time.Minute))
	assert.Contains(t, status()["detail"], "te movimos unos lugares atrás")

	// The entrance QR: another phone holds no number; his phone checks in.
	tok, err := e.store.CheckInToken(t.Context(), "SCL-001")
	require.NoError(t, err)
	_, page = e.browser().get("/agenda/llegue/" + tok)
	assert.Contains(t, page, "Este teléfono no tiene un número")
	_, page = b.get("/agenda/llegue/" + tok)
	assert.Contains(t, page, "Confirma tu llegada con el número P-007")
	res, _ = b.post("/agenda/llegue/"+tok, "/agenda/llegue/"+tok, url.Values{})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM branch_commands WHERE type = 'ticket.check_in' AND ticket = 't-7'`))
	// The other branch's QR does not check him in here.
	other, err := e.store.CheckInToken(t.Context(), "VAP-002")
	require.NoError(t, err)
	res, _ = b.post("/agenda/llegue/"+other, "/agenda/llegue/"+other, url.Values{})
	assert.Equal(t, 404, res.StatusCode)

	// A join the branch refused: told why, and the page stops polling.
	res, _ = b.post("/agenda/sucursal/SCL-001", "/agenda/sucursal/SCL-001/P/fila", url.Values{})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	loc2 := res.Header.Get("Location")
	id2 := strings.TrimPrefix(strings.Split(loc2, "?")[0], "/agenda/fila/")
	e.exec(`UPDATE appt_joins SET status = 'refused', reason = 'capacity' WHERE id = $1`, id2)
	_, page = b.get(loc2)
	assert.Contains(t, page, "La sucursal no pudo darte número")
	assert.Contains(t, page, "La fila virtual está llena por ahora")
	assert.Contains(t, page, `data-final="true"`)

	// A service whose virtual queue is closed.
	res, page = b.post("/agenda/sucursal/SCL-001", "/agenda/sucursal/VAP-002/P/fila", url.Values{})
	assert.Equal(t, 409, res.StatusCode)
	assert.Contains(t, page, "La fila virtual no está abierta")
}
