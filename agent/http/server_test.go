package http_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	agenthttp "github.com/ticketero/ticketero/agent/http"
	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/agent/web"
)

func MustServer(tb testing.TB, ui http.Handler) (*agenthttp.Server, *sqlite.Store) {
	tb.Helper()
	return MustServerWith(tb, agenthttp.Config{UI: ui})
}

// MustServerWith is a server of cfg (Version "test") on a fresh store.
func MustServerWith(tb testing.TB, cfg agenthttp.Config) (*agenthttp.Server, *sqlite.Store) {
	tb.Helper()
	key := make([]byte, sqlite.KeySize)
	_, _ = rand.Read(key)
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(tb.TempDir(), "a.db"), Branch: "SCL-001", DataKey: key})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = st.Close() })
	cfg.Store, cfg.Version = st, "test"
	srv, err := agenthttp.New(cfg)
	require.NoError(tb, err)
	tb.Cleanup(srv.Close)
	return srv, st
}

// TestOpenAPICoversEveryRoute: each route of the router is documented with
// its method, so kiosks from other vendors see the whole API.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	srv, _ := MustServer(t, http.NotFoundHandler())
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(agenthttp.OpenAPI(), &doc))
	assert.Equal(t, "3.1.0", doc.OpenAPI)
	routes := srv.Routes()
	require.Greater(t, len(routes), 25)
	documented := 0
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt, " ")
		path = strings.Replace(path, "/*", "/{path}", 1)
		ops, ok := doc.Paths[path]
		if assert.True(t, ok, "route %s not in openapi.json", rt) {
			_, ok = ops[strings.ToLower(method)]
			assert.True(t, ok, "method of %s not in openapi.json", rt)
			documented++
		}
	}
	// And nothing documented that the router lacks.
	seen := map[string]bool{}
	for _, rt := range routes {
		_, path, _ := strings.Cut(rt, " ")
		seen[strings.Replace(path, "/*", "/{path}", 1)] = true
	}
	for p := range doc.Paths {
		assert.True(t, seen[p], "openapi.json documents %s, which has no route", p)
	}

	// The document is served.
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	assert.Equal(t, 200, rec.Code)
	assert.JSONEq(t, string(agenthttp.OpenAPI()), rec.Body.String())
}

func TestUIMountedOnlyWhenGiven(t *testing.T) {
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ui " + r.URL.Path)) })
	srv, _ := MustServer(t, ui)
	for _, p := range []string{"/", "/kiosk", "/terminal", "/display", "/branch", "/assets/app.1234.js"} {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		assert.Equal(t, "ui "+p, rec.Body.String())
	}
	bare, _ := MustServer(t, nil)
	rec := httptest.NewRecorder()
	bare.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/kiosk", nil))
	assert.Equal(t, 404, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.Contains(t, rec.Body.String(), `"code":"route.not_found"`)
}

func TestMetrics(t *testing.T) {
	ui, err := web.Handler(web.Options{})
	require.NoError(t, err)
	srv, _ := MustServer(t, ui)
	h := srv.Handler()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/api/v1/tickets", strings.NewReader(`{"service":"C"}`))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	require.Equal(t, 201, rec.Code)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/kiosk", nil))
	require.Equal(t, 200, rec.Code)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/assets/nope.js", nil))
	require.Equal(t, 404, rec.Code)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, re := range []string{
		`ticketero_agent_tickets_issued_total\{service="C"\} 1`,
		`ticketero_agent_waiting\{service="C"\} 1`,
		`ticketero_agent_outbox_backlog 1`,
		`ticketero_agent_http_request_duration_seconds_count\{method="POST",route="/api/v1/tickets",status="201"\} 1`,
		// The UI routes itself (agent/web); the label is this router's pattern.
		`ticketero_agent_http_request_duration_seconds_count\{method="GET",route="/kiosk",status="200"\} 1`,
		`ticketero_agent_http_request_duration_seconds_count\{method="GET",route="/assets/\*",status="404"\} 1`,
	} {
		assert.Regexp(t, regexp.MustCompile(re), body)
	}
}

// fixedLink is a cloud link whose state does not change.
type fixedLink agent.LinkState

func (l fixedLink) State() agent.LinkState { return agent.LinkState(l) }

func TestMetricsRelayResends(t *testing.T) {
	srv, _ := MustServerWith(t, agenthttp.Config{Link: fixedLink{Mode: "mqtt",
		Resends: map[string]uint64{"ack_timeout": 3, "gap": 1}}})
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	assert.Contains(t, rec.Body.String(), `ticketero_agent_relay_resends_total{reason="ack_timeout"} 3`)
	assert.Contains(t, rec.Body.String(), `ticketero_agent_relay_resends_total{reason="gap"} 1`)
}

func TestStreamPings(t *testing.T) {
	key := make([]byte, sqlite.KeySize)
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "a.db"), Branch: "SCL-001", DataKey: key})
	require.NoError(t, err)
	defer st.Close()
	srv, err := agenthttp.New(agenthttp.Config{Store: st, Ping: 20 * time.Millisecond})
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	res, err := http.Get(ts.URL + "/api/v1/stream")
	require.NoError(t, err)
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	var lines []string
	for sc.Scan() && len(lines) < 8 {
		lines = append(lines, sc.Text())
		if sc.Text() == ": ping" {
			break
		}
	}
	assert.Contains(t, lines, "event: hello")
	assert.Contains(t, lines, ": ping")
	srv.Close() // ends the stream so the server can shut down
	for sc.Scan() {
	}
}
