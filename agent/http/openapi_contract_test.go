package http_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	agenthttp "github.com/ticketero/ticketero/agent/http"
	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/agent/web"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/testkit/openapitest"
)

// TestAgentResponsesMatchOpenAPI runs the LAN API with the real web UI on a
// real store and sends every operation of agent/http/openapi.json at least
// one real request — a ticket's whole life at a counter, the pages and
// assets, and refusals: each answer's status code and Content-Type must be
// documented for that operation.
func TestAgentResponsesMatchOpenAPI(t *testing.T) {
	ctx := context.Background()
	key := make([]byte, sqlite.KeySize)
	_, _ = rand.Read(key)
	path := filepath.Join(t.TempDir(), "agent.db")
	st, err := sqlite.Open(ctx, sqlite.Config{Path: path, Branch: "SCL-001", DataKey: key})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.ApplyConfig(ctx, event.Config{V: 1, Branch: "SCL-001", Version: 1, TimeZone: "America/Santiago",
		Services: queue.DefaultServices(), Counters: []queue.Counter{{Number: 1}, {Number: 2}}, Rules: event.DefaultRules()}))
	admin, err := sqlite.OpenAdmin(ctx, path)
	require.NoError(t, err)
	const pin = "20261130"
	require.NoError(t, admin.AddExecutive(ctx, queue.Executive{ID: "ana", Name: "Ana", Services: []string{"C", "P"}}, pin))
	require.NoError(t, admin.Close())
	ui, err := web.Handler(web.Options{})
	require.NoError(t, err)
	srv, err := agenthttp.New(agenthttp.Config{Store: st, UI: ui, Version: "test"})
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	doc := openapitest.MustParse(t, agenthttp.OpenAPI())
	client := &http.Client{Transport: openapitest.Transport{Doc: doc, T: t}}
	call := func(method, path, body, token string) (int, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, ts.URL+path, rd)
		require.NoError(t, err)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := client.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return res.StatusCode, m
	}
	issue := func(svc string) string {
		t.Helper()
		code, tk := call("POST", "/api/v1/tickets", `{"service":"`+svc+`"}`, "")
		require.Equal(t, 201, code, "%v", tk)
		return fmt.Sprint(tk["id"])
	}

	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/api/v1/openapi.json", "/api/v1/branch",
		"/api/v1/services", "/api/v1/counters", "/api/v1/executives", "/api/v1/queues", "/api/v1/calls",
		"/api/v1/calls?limit=0", "/api/v1/stats/today", "/api/v1/sync", "/", "/kiosk", "/terminal", "/display",
		"/branch", "/tablet", "/assets/no-such-file.0123456789ab.js", "/api/v1/tickets/999999"} {
		call("GET", p, "", "")
	}
	for _, p := range []string{"/", "/kiosk", "/terminal", "/display", "/branch", "/tablet", "/assets/no-such-file.0123456789ab.js"} {
		call("HEAD", p, "", "")
	}
	// A real asset, as the kiosk page names it.
	res, err := http.Get(ts.URL + "/kiosk")
	require.NoError(t, err)
	page, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	asset := regexp.MustCompile(`/assets/[A-Za-z0-9._-]+\.(?:js|css)`).FindString(string(page))
	require.NotEmpty(t, asset, "the kiosk page links its assets")
	call("GET", asset, "", "")
	call("HEAD", asset, "", "")

	// The live stream: its head only.
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	req, err := http.NewRequestWithContext(sctx, "GET", ts.URL+"/api/v1/stream", nil)
	require.NoError(t, err)
	res, err = client.Do(req)
	require.NoError(t, err)
	_ = res.Body.Close()
	cancel()

	// Issue (and refuse to issue).
	call("POST", "/api/v1/tickets", `{"service":"ZZ"}`, "")
	call("POST", "/api/v1/tickets", `{`, "")
	first := issue("C")
	call("GET", "/api/v1/tickets/"+first, "", "")

	// A session at counter 1.
	call("POST", "/api/v1/sessions", `{"executive":"ana","pin":"0000","counter":1}`, "")
	call("GET", "/api/v1/sessions/current", "", "")
	code, sess := call("POST", "/api/v1/sessions", `{"executive":"ana","pin":"`+pin+`","counter":1}`, "")
	require.Equal(t, 201, code, "%v", sess)
	tok := fmt.Sprint(sess["token"])
	call("GET", "/api/v1/sessions/current", "", tok)
	call("GET", "/api/v1/sessions/current/scores", "", "")
	call("GET", "/api/v1/sessions/current/scores", "", tok) // none from HQ yet

	// The ticket's life: called, recalled, started, completed.
	code, called := call("POST", "/api/v1/counters/1/call-next", "", tok)
	require.Equal(t, 200, code, "%v", called)
	id := fmt.Sprint(called["id"])
	call("POST", "/api/v1/counters/2/call-next", "", tok) // not his counter
	for _, step := range []string{"recall", "start"} {
		call("POST", "/api/v1/tickets/"+id+"/"+step, "", tok)
	}
	call("POST", "/api/v1/tickets/"+id+"/complete", `{"outcome":"Not Valid!"}`, tok)
	call("POST", "/api/v1/tickets/"+id+"/complete", `{"outcome":"done"}`, tok)
	call("POST", "/api/v1/counters/1/call-next", "", tok) // nobody waiting

	// The counter tablet rates the visit just finished, once.
	call("POST", "/api/v1/counters/1/feedback", `{"csat":9}`, "")
	call("POST", "/api/v1/counters/2/feedback", `{"csat":4}`, "")
	code, rated := call("POST", "/api/v1/counters/1/feedback", `{"csat":4,"nps":9}`, "")
	require.Equal(t, 201, code, "%v", rated)
	call("POST", "/api/v1/counters/1/feedback", `{"csat":5}`, "")

	// A no-show put back in the queue; waiting tickets moved and cancelled.
	issue("C")
	_, called = call("POST", "/api/v1/counters/1/call-next", "", tok)
	id = fmt.Sprint(called["id"])
	call("POST", "/api/v1/tickets/"+id+"/no-show", "", tok)
	call("POST", "/api/v1/tickets/"+id+"/requeue", "", tok)
	waiting := issue("C")
	call("POST", "/api/v1/tickets/"+waiting+"/transfer", `{"service":"P"}`, tok)
	call("POST", "/api/v1/tickets/"+waiting+"/transfer", `{"service":"P"}`, "")
	call("POST", "/api/v1/tickets/"+waiting+"/cancel", "", tok)
	call("POST", "/api/v1/tickets/999999/cancel", "", tok)

	// The counter's actions: out-of-order call, customer view, park and call
	// back, walk-in, targeted transfer, outcomes.
	call("GET", "/api/v1/outcomes", "", "")
	call("GET", "/api/v1/sessions/current/customer", "", "")
	call("GET", "/api/v1/sessions/current/customer", "", tok)
	chosen := issue("C")
	call("POST", "/api/v1/tickets/"+chosen+"/call", `{"counter":1}`, tok)
	code, _ = call("POST", "/api/v1/tickets/"+chosen+"/call", `{"counter":1,"reason":"cita agendada"}`, tok)
	require.Equal(t, 200, code)
	call("GET", "/api/v1/sessions/current/customer", "", tok)
	call("GET", "/api/v1/sessions/current/customer?ticket=999999", "", tok)
	call("POST", "/api/v1/tickets/"+chosen+"/park", "", tok)
	call("POST", "/api/v1/tickets/"+chosen+"/start", "", tok)
	code, _ = call("POST", "/api/v1/tickets/"+chosen+"/park", `{"reason":"fue por su cédula"}`, tok)
	require.Equal(t, 200, code)
	call("POST", "/api/v1/counters/1/walk-in", `{"service":"Z"}`, tok)
	code, walk := call("POST", "/api/v1/counters/1/walk-in", `{"service":"C","rut":"12.345.678-5","name":"Rosa"}`, tok)
	require.Equal(t, 201, code, "%v", walk)
	call("POST", "/api/v1/tickets/"+chosen+"/unpark", "", tok) // busy with the walk-in
	call("POST", "/api/v1/tickets/"+fmt.Sprint(walk["id"])+"/complete", `{"outcomes":["done","info"]}`, tok)
	call("POST", "/api/v1/tickets/"+chosen+"/unpark", "", tok)
	call("POST", "/api/v1/tickets/"+chosen+"/transfer", `{"counter":2}`, tok)
	call("POST", "/api/v1/tickets/"+chosen+"/start", "", tok)
	call("POST", "/api/v1/tickets/"+chosen+"/complete", "", tok)

	// Pause, resume, sign out.
	call("POST", "/api/v1/sessions/current/pause", `{"code":"siesta"}`, tok)
	call("POST", "/api/v1/sessions/current/pause", `{"code":"lunch"}`, tok)
	call("POST", "/api/v1/sessions/current/resume", "", tok)
	call("POST", "/api/v1/sessions/current/resume", "", tok)
	call("POST", "/api/v1/sessions/current/pause", `{"reason":"almuerzo"}`, tok)
	call("POST", "/api/v1/sessions/current/resume", "", tok)
	call("DELETE", "/api/v1/sessions/current", "", tok)
	call("DELETE", "/api/v1/sessions/current", "", tok)

	exerciseCheckIn(t, st, call)   // checkin_test.go
	exerciseManager(t, path, call) // manager_test.go
	assert.Empty(t, doc.Unexercised(), "every documented operation is exercised")
}
