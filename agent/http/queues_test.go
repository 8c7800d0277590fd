package http_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQueuesWithoutTickets: the display board asks for the counts only
// (?tickets=none) and gets no ticket lists; the default still lists them; a
// value it does not know is a problem, not a silent default.
func TestQueuesWithoutTickets(t *testing.T) {
	srv, _ := MustServer(t, nil)
	h := srv.Handler()
	for range 3 {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/api/v1/tickets", strings.NewReader(`{"service":"C"}`))
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(rec, req)
		require.Equal(t, 201, rec.Code, rec.Body.String())
	}
	type resp struct {
		Queues []struct {
			Service string            `json:"service"`
			Waiting int               `json:"waiting"`
			Tickets []json.RawMessage `json:"tickets"`
		} `json:"queues"`
	}
	get := func(path string) (int, resp, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		var r resp
		if rec.Code == 200 {
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &r))
		}
		return rec.Code, r, rec.Body.String()
	}
	caja := func(r resp) (int, int) {
		for _, q := range r.Queues {
			if q.Service == "C" {
				return q.Waiting, len(q.Tickets)
			}
		}
		t.Fatal("no queue C")
		return 0, 0
	}
	for path, want := range map[string]int{"/api/v1/queues": 3, "/api/v1/queues?tickets=all": 3, "/api/v1/queues?tickets=none": 0} {
		code, r, _ := get(path)
		require.Equal(t, 200, code, path)
		waiting, tickets := caja(r)
		assert.Equal(t, 3, waiting, path)
		assert.Equal(t, want, tickets, path)
	}
	code, _, body := get("/api/v1/queues?tickets=some")
	assert.Equal(t, 400, code)
	assert.Contains(t, body, `"code":"request.invalid_param"`)
}
