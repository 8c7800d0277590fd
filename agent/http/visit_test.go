package http_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
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

const visitPIN = "20261130"

// visitAPI is a LAN API on a real store with HQ's outcome codes and two
// executives, ana (counter 1, Caja and Personal Banker) and beto (counter 2,
// Empresas), signed in.
type visitAPI struct {
	st       *sqlite.Store
	do       func(method, path, body, token string) (int, map[string]any)
	ana, bet string
}

func newVisitAPI(t *testing.T) *visitAPI {
	t.Helper()
	ctx := context.Background()
	key := make([]byte, sqlite.KeySize)
	_, _ = rand.Read(key)
	path := filepath.Join(t.TempDir(), "agent.db")
	st, err := sqlite.Open(ctx, sqlite.Config{Path: path, Branch: "SCL-001", DataKey: key})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.ApplyConfig(ctx, event.Config{V: 1, Branch: "SCL-001", Version: 1, TimeZone: "America/Santiago",
		Services: queue.DefaultServices(), Counters: []queue.Counter{{Number: 1}, {Number: 2}, {Number: 3}}, Rules: event.DefaultRules(),
		Outcomes: []queue.Outcome{{Code: "deposit", Name: "Depósito"}, {Code: "card", Name: "Tarjeta"}}}))
	admin, err := sqlite.OpenAdmin(ctx, path)
	require.NoError(t, err)
	require.NoError(t, admin.AddExecutive(ctx, queue.Executive{ID: "ana", Name: "Ana Pérez", Services: []string{"C", "P"}}, visitPIN))
	require.NoError(t, admin.AddExecutive(ctx, queue.Executive{ID: "beto", Name: "Beto Soto", Services: []string{"E"}}, visitPIN))
	require.NoError(t, admin.Close())
	srv, err := agenthttp.New(agenthttp.Config{Store: st, Version: "test"})
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	v := &visitAPI{st: st}
	h := srv.Handler()
	v.do = func(method, path, body, token string) (int, map[string]any) {
		t.Helper()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		h.ServeHTTP(rec, req)
		var m map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &m)
		return rec.Code, m
	}
	login := func(id string, counter int) string {
		code, m := v.do("POST", "/api/v1/sessions", fmt.Sprintf(`{"executive":%q,"pin":%q,"counter":%d}`, id, visitPIN, counter), "")
		require.Equal(t, 201, code, "%v", m)
		return m["token"].(string)
	}
	v.ana, v.bet = login("ana", 1), login("beto", 2)
	return v
}

func (v *visitAPI) issue(t *testing.T, body string) string {
	t.Helper()
	code, m := v.do("POST", "/api/v1/tickets", body, "")
	require.Equal(t, 201, code, "%v", m)
	return m["id"].(string)
}

// TestCustomerViewOnlyForItsExecutive: the customer in front of ana (RUT
// masked, preferential, history) is hers alone: no token, a bad token, or
// another executive's token get nothing of it.
func TestCustomerViewOnlyForItsExecutive(t *testing.T) {
	v := newVisitAPI(t)
	id := v.issue(t, `{"service":"C","rut":"12.345.678-5","priority":"preferential"}`)
	code, m := v.do("POST", "/api/v1/counters/1/call-next", "", v.ana)
	require.Equal(t, 200, code, "%v", m)
	require.Equal(t, id, m["id"])

	for name, tok := range map[string]string{"no token": "", "bad token": "not-a-session"} {
		code, m := v.do("GET", "/api/v1/sessions/current/customer", "", tok)
		assert.Equal(t, 401, code, name)
		assert.Equal(t, "session.required", m["code"], name)
		assert.NotContains(t, fmt.Sprint(m), "***", name)
	}
	code, m = v.do("GET", "/api/v1/sessions/current/customer", "", v.bet)
	assert.Equal(t, 404, code, "beto has nobody at his counter")
	assert.Equal(t, "customer.none", m["code"])
	code, m = v.do("GET", "/api/v1/sessions/current/customer?ticket="+id, "", v.bet)
	assert.Equal(t, 403, code)
	assert.Equal(t, "ticket.not_yours", m["code"])
	assert.NotContains(t, fmt.Sprint(m), "12.")

	code, m = v.do("GET", "/api/v1/sessions/current/customer", "", v.ana)
	require.Equal(t, 200, code, "%v", m)
	assert.Equal(t, "12.***.***-5", m["rut_masked"])
	assert.Equal(t, "preferential", m["priority"])
	assert.Nil(t, m["name"])
	hist := m["history"].([]any)
	require.Len(t, hist, 2)
	assert.Equal(t, "ticket.issued", hist[0].(map[string]any)["type"])
	assert.Equal(t, "ticket.called", hist[1].(map[string]any)["type"])
	// The waiting-room endpoints never carry it.
	for _, p := range []string{"/api/v1/queues", "/api/v1/calls", "/api/v1/tickets/" + id} {
		_, m := v.do("GET", p, "", "")
		assert.NotContains(t, fmt.Sprint(m), "***", p)
	}
}

// TestParkCallOutOfOrderWalkInOutcomes drives the counter's actions over the
// LAN API with their refusals (stable codes, nothing written).
func TestParkCallOutOfOrderWalkInOutcomes(t *testing.T) {
	v := newVisitAPI(t)
	first := v.issue(t, `{"service":"C"}`)
	second := v.issue(t, `{"service":"C"}`)
	seq := func() uint64 {
		s, err := v.st.SyncState(context.Background())
		require.NoError(t, err)
		return s.LastSeq
	}

	// Out of order, with a reason.
	before := seq()
	code, m := v.do("POST", "/api/v1/tickets/"+second+"/call", `{"counter":1,"reason":""}`, v.ana)
	assert.Equal(t, 400, code)
	assert.Equal(t, "call.reason_required", m["code"])
	code, m = v.do("POST", "/api/v1/tickets/"+second+"/call", `{"counter":1,"reason":"cita"}`, v.bet)
	assert.Equal(t, 403, code)
	assert.Equal(t, "session.wrong_counter", m["code"], "beto is at counter 2")
	code, m = v.do("POST", "/api/v1/tickets/"+second+"/call", `{"counter":2,"reason":"cita"}`, v.bet)
	assert.Equal(t, 403, code)
	assert.Equal(t, "ticket.not_your_service", m["code"], "Caja is not his")
	assert.Equal(t, before, seq(), "refusals write nothing")
	code, m = v.do("POST", "/api/v1/tickets/"+second+"/call", `{"counter":1,"reason":"cliente con hora"}`, v.ana)
	require.Equal(t, 200, code, "%v", m)
	assert.Equal(t, "called", m["status"])
	_, q := v.do("GET", "/api/v1/tickets/"+first, "", "")
	assert.EqualValues(t, 1, q["position"], "the skipped ticket is still next")

	// Park it, serve the other meanwhile, call it back.
	_, _ = v.do("POST", "/api/v1/tickets/"+second+"/start", "", v.ana)
	code, m = v.do("POST", "/api/v1/tickets/"+second+"/park", `{"reason":"fue por su cédula"}`, v.ana)
	require.Equal(t, 200, code, "%v", m)
	assert.Equal(t, "parked", m["status"])
	_, s := v.do("GET", "/api/v1/sessions/current", "", v.ana)
	assert.Equal(t, "available", s["state"])
	require.Len(t, s["parked"], 1)
	code, m = v.do("DELETE", "/api/v1/sessions/current", "", v.ana)
	assert.Equal(t, 409, code)
	assert.Equal(t, "session.has_parked", m["code"])
	code, m = v.do("POST", "/api/v1/tickets/"+second+"/unpark", "", v.bet)
	assert.Equal(t, 403, code)
	assert.Equal(t, "ticket.not_yours", m["code"])

	// A walk-in while the parked customer is away.
	code, m = v.do("POST", "/api/v1/counters/1/walk-in", `{"service":"C","rut":"12.345.678-0"}`, v.ana)
	assert.Equal(t, 400, code, "a wrong check digit")
	assert.True(t, strings.HasPrefix(fmt.Sprint(m["code"]), "rut."), "%v", m)
	code, m = v.do("POST", "/api/v1/counters/1/walk-in", `{"service":"C","name":"Rosa\u0000"}`, v.ana)
	assert.Equal(t, 400, code)
	assert.Equal(t, "text.invalid", m["code"])
	code, walk := v.do("POST", "/api/v1/counters/1/walk-in", `{"service":"C","name":"Rosa Díaz","rut":"12.345.678-5","priority":"premium"}`, v.ana)
	require.Equal(t, 201, code, "%v", walk)
	assert.Equal(t, "serving", walk["status"])
	assert.Equal(t, "C-003", walk["number"], "numbered like any ticket")
	_, c := v.do("GET", "/api/v1/sessions/current/customer", "", v.ana)
	assert.Equal(t, "Rosa Díaz", c["name"])
	assert.Equal(t, "12.***.***-5", c["rut_masked"])
	assert.Equal(t, "premium", c["priority"])

	// Outcomes: HQ's list only.
	walkID := walk["id"].(string)
	code, m = v.do("POST", "/api/v1/tickets/"+walkID+"/complete", `{"outcomes":["deposit","loan"]}`, v.ana)
	assert.Equal(t, 400, code)
	assert.Equal(t, "ticket.outcome_unknown", m["code"])
	code, m = v.do("POST", "/api/v1/tickets/"+walkID+"/complete", `{"outcomes":["deposit","card"]}`, v.ana)
	require.Equal(t, 200, code, "%v", m)
	assert.Equal(t, []any{"deposit", "card"}, m["outcomes"])
	_, o := v.do("GET", "/api/v1/outcomes", "", "")
	assert.Len(t, o["outcomes"], 2)

	code, m = v.do("POST", "/api/v1/tickets/"+second+"/unpark", "", v.ana)
	require.Equal(t, 200, code, "%v", m)
	assert.Equal(t, "called", m["status"])
	assert.EqualValues(t, 1, m["counter"])
	_, calls := v.do("GET", "/api/v1/calls", "", "")
	assert.Equal(t, second, calls["calls"].([]any)[0].(map[string]any)["ticket"], "the display shows the call back")
	_, c = v.do("GET", "/api/v1/sessions/current/customer", "", v.ana)
	var types []string
	for _, h := range c["history"].([]any) {
		types = append(types, h.(map[string]any)["type"].(string))
	}
	assert.Equal(t, []string{"ticket.issued", "ticket.called", "ticket.started", "ticket.parked", "ticket.unparked"}, types)
	assert.Equal(t, "cliente con hora", c["history"].([]any)[1].(map[string]any)["detail"])
}

// TestTransferToExecutiveAPI: a ticket sent to beto by name waits for him
// alone; pausing by reason code.
func TestTransferToExecutiveAPI(t *testing.T) {
	v := newVisitAPI(t)
	id := v.issue(t, `{"service":"P"}`)
	_, _ = v.do("POST", "/api/v1/counters/1/call-next", "", v.ana)
	code, m := v.do("POST", "/api/v1/tickets/"+id+"/transfer", `{"service":"E","counter":2,"executive":"beto"}`, v.ana)
	assert.Equal(t, 400, code)
	assert.Equal(t, "transfer.one_target", m["code"])
	code, m = v.do("POST", "/api/v1/tickets/"+id+"/transfer", `{"counter":3}`, v.ana)
	assert.Equal(t, 409, code)
	assert.Equal(t, "transfer.counter_empty", m["code"])
	code, m = v.do("POST", "/api/v1/tickets/"+id+"/transfer", `{"service":"E","executive":"beto","first":true}`, v.ana)
	require.Equal(t, 200, code, "%v", m)
	assert.Equal(t, "waiting", m["status"])
	assert.Equal(t, "beto", m["target_executive"])
	assert.Equal(t, "E", m["service"])
	_, q := v.do("GET", "/api/v1/queues", "", "")
	for _, x := range q["queues"].([]any) {
		qq := x.(map[string]any)
		if qq["service"] != "E" {
			continue
		}
		assert.EqualValues(t, 1, qq["waiting"], "counted in its service")
		tks := qq["tickets"].([]any)
		require.Len(t, tks, 1)
		assert.Equal(t, "Beto Soto", tks[0].(map[string]any)["target_name"])
		assert.NotContains(t, fmt.Sprint(tks[0]), "beto", "no executive ID on a public listing")
	}
	code, m = v.do("POST", "/api/v1/counters/2/call-next", "", v.bet)
	require.Equal(t, 200, code, "%v", m)
	assert.Equal(t, id, m["id"])

	code, m = v.do("POST", "/api/v1/sessions/current/pause", `{"code":"siesta"}`, v.ana)
	assert.Equal(t, 400, code)
	assert.Equal(t, "session.reason_code_invalid", m["code"])
	code, m = v.do("POST", "/api/v1/sessions/current/pause", `{"code":"meeting"}`, v.ana)
	require.Equal(t, 200, code, "%v", m)
	assert.Equal(t, "meeting", m["pause_code"])
	assert.Equal(t, "Reunión", m["pause_reason"])
}
