package http_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	agenthttp "github.com/ticketero/ticketero/agent/http"
	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// TestIssueOutsideHoursIsAProblem: at 16:08 with hours 09:00–14:00 the kiosk's
// POST /api/v1/tickets is refused with a Spanish problem carrying a stable
// code, and nothing is written (no ticket, no outbox event, no idempotency key).
func TestIssueOutsideHoursIsAProblem(t *testing.T) {
	loc, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 30, 16, 8, 0, 0, loc).UnixNano())
	key := make([]byte, sqlite.KeySize)
	_, _ = rand.Read(key)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "a.db"), Branch: "SCL-001", DataKey: key,
		Now: func() time.Time { return time.Unix(0, now.Load()).UTC() }})
	require.NoError(t, err)
	defer st.Close()
	srv, err := agenthttp.New(agenthttp.Config{Store: st, Version: "test"})
	require.NoError(t, err)
	defer srv.Close()
	require.NoError(t, st.ApplyConfig(ctx, event.Config{V: 1, Branch: "SCL-001", Version: 1, TimeZone: "America/Santiago",
		Services: queue.DefaultServices(), Counters: []queue.Counter{{Number: 1}}, Rules: event.DefaultRules(),
		OpeningHours: "09:00-14:00", Hours: event.Hours{LastTicket: map[string]string{"P": "60"}}}))
	// HQ's hours arrived after 14:30: the day ends a grace after they came
	// (16:38), so nothing but config.applied is written meanwhile.
	evs, err := st.Pending(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, event.ConfigApplied, evs[0].Type)
	before, err := st.SyncState(ctx)
	require.NoError(t, err)

	issue := func(svc, lang, idem string) (int, map[string]any) {
		req := httptest.NewRequest("POST", "/api/v1/tickets", strings.NewReader(`{"service":"`+svc+`"}`))
		req.Header.Set("Accept-Language", lang)
		req.Header.Set("Content-Type", "application/json")
		if idem != "" {
			req.Header.Set("Idempotency-Key", idem)
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		var body map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		if rec.Code >= 400 {
			assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
		}
		return rec.Code, body
	}
	code, p := issue("C", "es-CL", "kiosk-1-0001")
	assert.Equal(t, 409, code)
	assert.Equal(t, "branch.closed", p["code"])
	assert.Equal(t, "La sucursal está cerrada. Abre mañana a las 09:00.", p["detail"])
	assert.Equal(t, "https://ticketero.cl/problems/branch.closed", p["type"])
	_, p = issue("C", "en", "")
	assert.Equal(t, "The branch is closed. It opens tomorrow at 09:00.", p["detail"])

	after, err := st.SyncState(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after, "outbox unchanged")
	var n int
	require.NoError(t, st.DB().QueryRow("SELECT (SELECT COUNT(*) FROM tickets) + (SELECT COUNT(*) FROM idempotency)").Scan(&n))
	assert.Zero(t, n, "no ticket, no idempotency key")

	// The kiosk's reads say it too, so it shows the branch closed before a tap.
	svcs := readJSON(t, srv, "/api/v1/services")
	for _, sv := range svcs["services"].([]any) {
		m := sv.(map[string]any)
		assert.Equal(t, false, m["open"], m["code"])
		assert.Equal(t, map[string]any{"code": "branch.closed", "detail": "La sucursal está cerrada. Abre mañana a las 09:00."}, m["closed"])
	}
	b := readJSON(t, srv, "/api/v1/branch")
	assert.Equal(t, false, b["open"])
	assert.Equal(t, "09:00-14:00", b["hours_today"])
	assert.Equal(t, "branch.closed", b["closed"].(map[string]any)["code"])

	// Next morning it issues; past P's cut-off (13:00) P is closed for today, C is not.
	now.Store(time.Date(2026, 12, 1, 13, 5, 0, 0, loc).UnixNano())
	code, p = issue("C", "es", "kiosk-1-0001")
	assert.Equal(t, 201, code, "the refused key was not kept: %v", p)
	code, p = issue("P", "es", "")
	assert.Equal(t, 409, code)
	assert.Equal(t, "service.closed_for_today", p["code"])
	assert.Equal(t, "Ya no se entregan números de Personal Banker por hoy. Vuelva mañana a las 09:00.", p["detail"])
	open := map[string]any{}
	for _, sv := range readJSON(t, srv, "/api/v1/services")["services"].([]any) {
		m := sv.(map[string]any)
		open[m["code"].(string)] = m["open"]
		if m["code"] == "P" {
			assert.Equal(t, "service.closed_for_today", m["closed"].(map[string]any)["code"])
		} else {
			assert.NotContains(t, m, "closed")
		}
	}
	assert.Equal(t, map[string]any{"C": true, "P": false, "E": true, "G": true}, open)
	b = readJSON(t, srv, "/api/v1/branch")
	assert.Equal(t, true, b["open"])
	assert.Nil(t, b["closed"])
}

func readJSON(t *testing.T, srv *agenthttp.Server, path string) map[string]any {
	t.Helper()
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	require.Equal(t, 200, rec.Code, rec.Body.String())
	var out map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
	return out
}
