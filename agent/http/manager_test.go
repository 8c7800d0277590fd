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
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	agenthttp "github.com/ticketero/ticketero/agent/http"
	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

const managerPIN = "73915048"

// addManager adds executive "jefa" with the branch manager role to the
// database at path.
func addManager(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	admin, err := sqlite.OpenAdmin(ctx, path)
	require.NoError(t, err)
	defer admin.Close()
	require.NoError(t, admin.AddExecutive(ctx, queue.Executive{ID: "jefa", Name: "Marta Rojas", Services: []string{"C"}}, managerPIN))
	require.NoError(t, admin.SetManager(ctx, "jefa", true))
}

// exerciseManager sends every manager operation of the OpenAPI document real
// requests, refusals included (TestAgentResponsesMatchOpenAPI's store: "ana"
// is an executive without the manager role, PIN 20261130, signed out).
func exerciseManager(t *testing.T, path string, call func(method, path, body, token string) (int, map[string]any)) {
	t.Helper()
	addManager(t, path)
	code, _ := call("POST", "/api/v1/manager/sessions", `{"executive":"jefa","pin":"11112222"}`, "")
	assert.Equal(t, 401, code)
	code, p := call("POST", "/api/v1/manager/sessions", `{"executive":"ana","pin":"20261130"}`, "")
	assert.Equal(t, 403, code)
	assert.Equal(t, "manager.required", p["code"])
	code, s := call("POST", "/api/v1/manager/sessions", `{"executive":"jefa","pin":"`+managerPIN+`"}`, "")
	require.Equal(t, 201, code, "%v", s)
	tok := fmt.Sprint(s["token"])
	assert.Equal(t, "Marta Rojas", s["name"])
	code, _ = call("GET", "/api/v1/manager/sessions/current", "", tok)
	assert.Equal(t, 200, code)
	code, _ = call("GET", "/api/v1/manager/today", "", "")
	assert.Equal(t, 401, code)
	code, _ = call("GET", "/api/v1/manager/today", "", tok)
	assert.Equal(t, 200, code)
	code, _ = call("POST", "/api/v1/manager/services/C/close", "", tok)
	assert.Equal(t, 200, code)
	code, _ = call("POST", "/api/v1/manager/services/C/close", "", tok)
	assert.Equal(t, 409, code)
	code, _ = call("POST", "/api/v1/manager/services/C/open", "", tok)
	assert.Equal(t, 200, code)
	code, _ = call("POST", "/api/v1/manager/services/C/open", "", tok)
	assert.Equal(t, 409, code)
	code, _ = call("PUT", "/api/v1/manager/executives/ana/services", `{"services":["ZZ"]}`, tok)
	assert.Equal(t, 400, code)
	code, _ = call("PUT", "/api/v1/manager/executives/nadie/services", `{"services":["C"]}`, tok)
	assert.Equal(t, 404, code)
	code, _ = call("PUT", "/api/v1/manager/executives/ana/services", `{"services":["P"]}`, tok)
	assert.Equal(t, 200, code)
	code, _ = call("POST", "/api/v1/manager/executives/ana/sign-out", "", tok)
	assert.Equal(t, 409, code)
	code, _ = call("PUT", "/api/v1/manager/display-message", `{"text":"<b>hola</b>","minutes":30}`, tok)
	assert.Equal(t, 400, code)
	code, _ = call("PUT", "/api/v1/manager/display-message", `{"text":"Hoy atendemos hasta las 14:00","minutes":30}`, tok)
	assert.Equal(t, 200, code)
	code, m := call("GET", "/api/v1/display/message", "", "")
	assert.Equal(t, 200, code)
	assert.Equal(t, "Hoy atendemos hasta las 14:00", m["message"].(map[string]any)["text"])
	code, _ = call("DELETE", "/api/v1/manager/display-message", "", tok)
	assert.Equal(t, 200, code)
	code, _ = call("DELETE", "/api/v1/manager/sessions/current", "", tok)
	assert.Equal(t, 204, code)
	code, _ = call("GET", "/api/v1/manager/sessions/current", "", tok)
	assert.Equal(t, 401, code)
	code, _ = call("DELETE", "/api/v1/manager/display-message", "", tok)
	assert.Equal(t, 401, code)
}

// TestManagerActions checks each manager action's effect on the branch,
// against a real store: a closed service issues no ticket (409, Spanish
// message) but still calls those waiting; an executive's services for today
// decide what he calls; a signed-out executive's called ticket goes back to
// the front of its queue; every action is an outbox event naming the manager.
func TestManagerActions(t *testing.T) {
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
	require.NoError(t, admin.AddExecutive(ctx, queue.Executive{ID: "ana", Name: "Ana Pérez", Services: []string{"C"}}, "20261130"))
	require.NoError(t, admin.Close())
	addManager(t, path)
	srv, err := agenthttp.New(agenthttp.Config{Store: st, Version: "test"})
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	call := func(method, path, body, token string) (int, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, ts.URL+"/api/v1"+path, rd)
		require.NoError(t, err)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return res.StatusCode, m
	}
	_, s := call("POST", "/manager/sessions", `{"executive":"jefa","pin":"`+managerPIN+`"}`, "")
	mgr := fmt.Sprint(s["token"])
	_, s = call("POST", "/sessions", `{"executive":"ana","pin":"20261130","counter":1}`, "")
	ana := fmt.Sprint(s["token"])

	t.Run("closed service", func(t *testing.T) {
		code, waiting := call("POST", "/tickets", `{"service":"E"}`, "")
		require.Equal(t, 201, code)
		code, _ = call("POST", "/manager/services/E/close", "", mgr)
		require.Equal(t, 200, code)
		code, p := call("POST", "/tickets", `{"service":"E"}`, "")
		assert.Equal(t, 409, code)
		assert.Equal(t, "service.closed_by_manager", p["code"])
		assert.Equal(t, "Hoy ya no se entregan números de Empresas. Consulte en la sucursal.", p["detail"])
		_, svcs := call("GET", "/services", "", "")
		for _, sv := range svcs["services"].([]any) {
			m := sv.(map[string]any)
			assert.Equal(t, m["code"] != "E", m["open"], "service %v", m["code"])
		}
		// Those waiting are still called: Ana serves E today.
		code, _ = call("PUT", "/manager/executives/ana/services", `{"services":["E"]}`, mgr)
		require.Equal(t, 200, code)
		code, called := call("POST", "/counters/1/call-next", "", ana)
		require.Equal(t, 200, code, "%v", called)
		assert.Equal(t, waiting["id"], called["id"])
		code, _ = call("POST", "/tickets/"+fmt.Sprint(called["id"])+"/requeue", "", ana)
		require.Equal(t, 200, code)
	})

	t.Run("services today", func(t *testing.T) {
		code, c := call("POST", "/tickets", `{"service":"C"}`, "")
		require.Equal(t, 201, code)
		// Ana serves only E today: the C ticket waits although C is hers.
		code, called := call("POST", "/counters/1/call-next", "", ana)
		require.Equal(t, 200, code)
		assert.Equal(t, "E", called["service"])
		for _, step := range []string{"start", "complete"} {
			code, _ = call("POST", "/tickets/"+fmt.Sprint(called["id"])+"/"+step, "", ana)
			require.Equal(t, 200, code, step)
		}
		code, _ = call("POST", "/counters/1/call-next", "", ana)
		assert.Equal(t, 204, code, "nobody waits for E; C is not hers today")
		_, sess := call("GET", "/sessions/current", "", ana)
		assert.Equal(t, []any{"E"}, sess["executive"].(map[string]any)["services"])
		_, xs := call("GET", "/executives", "", mgr)
		for _, x := range xs["executives"].([]any) {
			if m := x.(map[string]any); m["id"] == "ana" {
				assert.Equal(t, true, m["changed_today"])
			}
		}
		// Back to her own services: she calls the C ticket.
		code, p := call("PUT", "/manager/executives/ana/services", `{"services":["C"]}`, mgr)
		require.Equal(t, 200, code, "%v", p)
		code, called = call("POST", "/counters/1/call-next", "", ana)
		require.Equal(t, 200, code)
		assert.Equal(t, c["id"], called["id"])
	})

	t.Run("sign out", func(t *testing.T) {
		code, _ := call("POST", "/manager/executives/ana/sign-out", "", mgr)
		require.Equal(t, 200, code)
		code, _ = call("GET", "/sessions/current", "", ana)
		assert.Equal(t, 401, code, "her token ended")
		_, q := call("GET", "/queues", "", "")
		for _, x := range q["queues"].([]any) {
			if m := x.(map[string]any); m["service"] == "C" {
				assert.EqualValues(t, 1, m["waiting"], "her called ticket waits again")
			}
		}
		code, p := call("POST", "/manager/executives/ana/sign-out", "", mgr)
		assert.Equal(t, 409, code)
		assert.Equal(t, "manager.not_signed_in", p["code"])
	})

	t.Run("message", func(t *testing.T) {
		for body, want := range map[string]string{
			`{"text":"   ","minutes":10}`:                              "manager.message_empty",
			`{"text":"` + strings.Repeat("a", 121) + `","minutes":10}`: "manager.message_too_long",
			`{"text":"hola <script>","minutes":10}`:                    "manager.message_chars",
			`{"text":"hola","minutes":0}`:                              "manager.message_minutes",
			`{"text":"hola","minutes":481}`:                            "manager.message_minutes",
		} {
			code, p := call("PUT", "/manager/display-message", body, mgr)
			assert.Equal(t, 400, code, body)
			assert.Equal(t, want, p["code"], body)
		}
		_, m := call("GET", "/display/message", "", "")
		assert.Nil(t, m["message"], "nothing was written")
		code, _ := call("PUT", "/manager/display-message", `{"text":"  Caja  cerrada por  arqueo ","minutes":15}`, mgr)
		require.Equal(t, 200, code)
		_, m = call("GET", "/display/message", "", "")
		assert.Equal(t, "Caja cerrada por arqueo", m["message"].(map[string]any)["text"])
	})

	t.Run("events", func(t *testing.T) {
		evs, err := st.Pending(ctx, 0, 1000)
		require.NoError(t, err)
		seen := map[event.Type]int{}
		for _, e := range evs {
			seen[e.Type]++
			if e.Type == event.ServiceClosedToday || e.Type == event.ExecutiveServicesToday || e.Type == event.DisplayMessage {
				var d event.Manager
				require.NoError(t, json.Unmarshal(e.Data, &d))
				require.NotNil(t, d.Actor)
				assert.Equal(t, event.ActorManager, d.Actor.Kind)
				assert.Equal(t, "jefa", d.Actor.Executive)
			}
			if e.Type == event.ExecutiveLoggedOut {
				var d event.Session
				require.NoError(t, json.Unmarshal(e.Data, &d))
				assert.Equal(t, "manager", d.Reason)
				assert.Equal(t, event.ActorManager, d.Actor.Kind)
			}
		}
		assert.Equal(t, 1, seen[event.ManagerSignedIn])
		assert.Equal(t, 1, seen[event.ServiceClosedToday])
		assert.Equal(t, 2, seen[event.ExecutiveServicesToday])
		assert.Equal(t, 1, seen[event.ExecutiveLoggedOut])
		assert.Equal(t, 1, seen[event.DisplayMessage])
	})
}
