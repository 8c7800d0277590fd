package problem_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/problem"
	"github.com/ticketero/ticketero/shared/queue"
)

func TestWrite(t *testing.T) {
	_, err := queue.ParseRUT("12.345.678-6")
	cases := []struct {
		name, lang string
		err        error
		status     int
		code, text string
	}{
		{"spanish default", "", err, 400, "rut.check_digit", "El dígito verificador del RUT no es correcto."},
		{"english", "en-US,en;q=0.9", err, 400, "rut.check_digit", "The RUT check digit is not correct."},
		{"conflict", "", func() error { _, e := queue.Transition(queue.StatusDone, queue.ActionCall); return e }(), 409, "ticket.illegal_transition", "No se puede llamar un número en estado atendido."},
		{"internal hidden", "", errors.New("pq: secret detail"), 500, "internal", "Ocurrió un error interno. Intente nuevamente."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.lang != "" {
				r.Header.Set("Accept-Language", tc.lang)
			}
			w := httptest.NewRecorder()
			problem.Write(w, r, tc.err)
			assert.Equal(t, tc.status, w.Code)
			assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
			var p problem.Problem
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
			assert.Equal(t, tc.code, p.Code)
			assert.Equal(t, tc.text, p.Title)
			assert.Equal(t, tc.status, p.Status)
			assert.Equal(t, problem.TypeBase+tc.code, p.Type)
			assert.NotContains(t, w.Body.String(), "secret")
		})
	}
	w := httptest.NewRecorder()
	problem.WriteStatus(w, httptest.NewRequest(http.MethodGet, "/", nil), queue.Errorf(queue.CodeUnavailable, "unavailable"), http.StatusTooManyRequests)
	assert.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, 503, problem.Status(queue.CodeUnavailable))
	assert.Equal(t, 500, problem.Status("weird"))
	assert.Equal(t, http.StatusLocked, problem.StatusOf(queue.Errorf(queue.CodeConflict, "session.locked")))
	assert.Equal(t, http.StatusConflict, problem.StatusOf(queue.Errorf(queue.CodeConflict, "session.busy")))
}
