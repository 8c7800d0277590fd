package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// testPIN is the PIN of MustMain's executives.
const testPIN = "240681"

// MustMain runs the real program on :0 with a fresh data directory and the
// executives E01 (C,P), E02 (C) and E03 (G), PIN testPIN.
func MustMain(tb testing.TB) *Main {
	tb.Helper()
	data := tb.TempDir()
	a, err := sqlite.OpenAdmin(context.Background(), filepath.Join(data, "agent.db"))
	require.NoError(tb, err)
	a.Cost = bcrypt.MinCost
	for _, x := range []queue.Executive{{ID: "E01", Name: "Ana Pérez", Services: []string{"C", "P"}},
		{ID: "E02", Name: "Beto Soto", Services: []string{"C"}}, {ID: "E03", Name: "Carla Díaz", Services: []string{"G"}}} {
		require.NoError(tb, a.AddExecutive(context.Background(), x, testPIN))
	}
	require.NoError(tb, a.Close())
	m := NewMain()
	m.Config.Data = data
	m.Config.HTTP = "127.0.0.1:0"
	m.Config.LogLevel = "warn"
	m.Stdout = io.Discard
	require.NoError(tb, m.Run(context.Background()))
	tb.Cleanup(func() { assert.NoError(tb, m.Close()) })
	return m
}

type client struct {
	tb   testing.TB
	base string
	tok  string
	lang string
}

func newClient(tb testing.TB, addr string) *client { return &client{tb: tb, base: "http://" + addr} }

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(tb testing.TB) map[string]any {
	tb.Helper()
	var v map[string]any
	require.NoError(tb, json.Unmarshal(r.body, &v), string(r.body))
	return v
}

func (c *client) do(method, path, body string, hdr ...string) response {
	c.tb.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	require.NoError(c.tb, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.tok != "" {
		req.Header.Set("Authorization", "Bearer "+c.tok)
	}
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(c.tb, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(c.tb, err)
	return response{res.StatusCode, res.Header, b}
}

func (c *client) login(exec string, counter int) *client {
	c.tb.Helper()
	r := c.do("POST", "/api/v1/sessions", fmt.Sprintf(`{"executive":%q,"pin":"240681","counter":%d}`, exec, counter))
	require.Equal(c.tb, 201, r.status, string(r.body))
	return &client{tb: c.tb, base: c.base, tok: r.json(c.tb)["token"].(string)}
}

func TestAPIFlow(t *testing.T) {
	m := MustMain(t)
	kiosk := newClient(t, m.Addr)

	r := kiosk.do("GET", "/api/v1/branch", "")
	require.Equal(t, 200, r.status)
	b := r.json(t)
	assert.Equal(t, "SCL-001", b["branch"])
	assert.Equal(t, "America/Santiago", b["time_zone"])

	r = kiosk.do("POST", "/api/v1/tickets", `{"service":"C","rut":"12.345.678-5","priority":"preferential"}`, "Idempotency-Key", "k-1")
	require.Equal(t, 201, r.status, string(r.body))
	tk := r.json(t)
	assert.Equal(t, "C-001", tk["number"])
	assert.Equal(t, "Caja", tk["service_name"])
	assert.Equal(t, "waiting", tk["status"])
	assert.Equal(t, "preferential", tk["priority"])
	assert.EqualValues(t, 1, tk["position"])
	assert.Equal(t, map[string]any{"typical_s": 300.0, "upper_s": 600.0}, tk["estimated_wait"])
	assert.Nil(t, tk["counter"])
	assert.Regexp(t, `^[A-Za-z0-9_-]{1,64}$`, tk["token"])
	assert.NotContains(t, string(r.body), "12345678")
	assert.NotContains(t, string(r.body), "345.678")
	id := tk["id"].(string)

	// A retry returns the same ticket with 200; another body with the key, 409.
	r = kiosk.do("POST", "/api/v1/tickets", `{"service":"C","rut":"12.345.678-5","priority":"preferential"}`, "Idempotency-Key", "k-1")
	require.Equal(t, 200, r.status)
	assert.Equal(t, id, r.json(t)["id"])
	assert.Equal(t, tk["token"], r.json(t)["token"], "a retry gets the same link")
	r = kiosk.do("POST", "/api/v1/tickets", `{"service":"P"}`, "Idempotency-Key", "k-1")
	assert.Equal(t, 409, r.status)
	assert.Equal(t, "idempotency.mismatch", r.json(t)["code"])

	r = kiosk.do("POST", "/api/v1/tickets", `{"service":"C"}`)
	require.Equal(t, 201, r.status)
	id2 := r.json(t)["id"].(string)
	assert.EqualValues(t, 2, r.json(t)["position"])

	r = kiosk.do("GET", "/api/v1/tickets/"+id, "")
	require.Equal(t, 200, r.status)
	assert.Equal(t, "C-001", r.json(t)["number"])
	assert.Nil(t, r.json(t)["token"], "the link token only goes to the kiosk that issued")

	r = kiosk.do("GET", "/api/v1/services", "")
	svcs := r.json(t)["services"].([]any)
	require.Len(t, svcs, 4)
	assert.EqualValues(t, 2, svcs[0].(map[string]any)["waiting"])

	ana := kiosk.login("E01", 5)
	r = ana.do("GET", "/api/v1/counters", "")
	cs := r.json(t)["counters"].([]any)
	require.Len(t, cs, 6)
	assert.Equal(t, "E01", cs[4].(map[string]any)["executive"])
	assert.Equal(t, "Módulo 5", cs[4].(map[string]any)["name"])
	// Without a session: who is there by name, never executive IDs (what a
	// PIN guess needs).
	r = kiosk.do("GET", "/api/v1/counters", "")
	cs = r.json(t)["counters"].([]any)
	assert.Equal(t, map[string]any{"number": 5.0, "name": "Módulo 5", "taken": true, "executive": nil, "executive_name": "Ana Pérez"}, cs[4])
	assert.NotContains(t, string(r.body), "E0")
	r = kiosk.do("GET", "/api/v1/executives", "")
	assert.NotContains(t, string(r.body), "E0")
	assert.Contains(t, string(r.body), "Ana Pérez")

	r = ana.do("POST", "/api/v1/counters/5/call-next", "")
	require.Equal(t, 200, r.status, string(r.body))
	called := r.json(t)
	assert.Equal(t, id, called["id"])
	assert.Equal(t, "called", called["status"])
	assert.EqualValues(t, 5, called["counter"])
	assert.NotNil(t, called["called_at"])

	r = ana.do("GET", "/api/v1/executives", "")
	var anaState map[string]any
	for _, x := range r.json(t)["executives"].([]any) {
		if x.(map[string]any)["id"] == "E01" {
			anaState = x.(map[string]any)
		}
	}
	assert.Equal(t, "called", anaState["state"])
	assert.EqualValues(t, 5, anaState["counter"])

	r = ana.do("POST", "/api/v1/tickets/"+id+"/recall", "")
	require.Equal(t, 200, r.status)
	assert.EqualValues(t, 1, r.json(t)["recall"])
	r = kiosk.do("GET", "/api/v1/calls?limit=5", "")
	calls := r.json(t)["calls"].([]any)
	require.Len(t, calls, 1)
	assert.Equal(t, "C-001", calls[0].(map[string]any)["number"])
	assert.EqualValues(t, 1, calls[0].(map[string]any)["recall"])

	r = ana.do("POST", "/api/v1/tickets/"+id+"/start", "")
	require.Equal(t, 200, r.status)
	assert.Equal(t, "serving", r.json(t)["status"])
	r = ana.do("GET", "/api/v1/sessions/current", "")
	require.Equal(t, 200, r.status)
	assert.Equal(t, id, r.json(t)["current"].(map[string]any)["id"])
	r = ana.do("POST", "/api/v1/tickets/"+id+"/complete", `{"outcome":"deposito"}`)
	require.Equal(t, 200, r.status)
	assert.Equal(t, "done", r.json(t)["status"])

	// Transfer the second one to P, first in line, then call it.
	r = ana.do("POST", "/api/v1/counters/5/call-next", "")
	require.Equal(t, 200, r.status)
	require.Equal(t, id2, r.json(t)["id"])
	r = ana.do("POST", "/api/v1/tickets/"+id2+"/transfer", `{"service":"P","first":true}`)
	require.Equal(t, 200, r.status, string(r.body))
	assert.Equal(t, "P", r.json(t)["service"])
	assert.Equal(t, "C-002", r.json(t)["number"])
	assert.EqualValues(t, 1, r.json(t)["position"])
	r = ana.do("POST", "/api/v1/counters/5/call-next", "")
	require.Equal(t, 200, r.status)
	r = ana.do("POST", "/api/v1/tickets/"+id2+"/no-show", "")
	require.Equal(t, 200, r.status)
	assert.Equal(t, "no_show", r.json(t)["status"])

	r = ana.do("POST", "/api/v1/counters/5/call-next", "")
	assert.Equal(t, 204, r.status, "nobody waits")
	assert.Empty(t, r.body)

	r = ana.do("POST", "/api/v1/sessions/current/pause", `{"reason":"colación"}`)
	require.Equal(t, 200, r.status)
	assert.Equal(t, true, r.json(t)["paused"])
	assert.Equal(t, "colación", r.json(t)["pause_reason"])
	r = ana.do("POST", "/api/v1/counters/5/call-next", "")
	assert.Equal(t, 409, r.status)
	assert.Equal(t, "session.paused", r.json(t)["code"])
	r = ana.do("POST", "/api/v1/sessions/current/resume", "")
	require.Equal(t, 200, r.status)

	// A waiting ticket is cancelled only by an executive of its service.
	r = kiosk.do("POST", "/api/v1/tickets", `{"service":"G"}`)
	id3 := r.json(t)["id"].(string)
	r = ana.do("POST", "/api/v1/tickets/"+id3+"/cancel", "")
	require.Equal(t, 403, r.status)
	assert.Equal(t, "ticket.not_your_service", r.json(t)["code"])
	carla := kiosk.login("E03", 3)
	r = carla.do("POST", "/api/v1/tickets/"+id3+"/cancel", "")
	require.Equal(t, 200, r.status)
	assert.Equal(t, "cancelled", r.json(t)["status"])
	require.Equal(t, 204, carla.do("DELETE", "/api/v1/sessions/current", "").status)

	r = kiosk.do("GET", "/api/v1/queues", "")
	q := r.json(t)
	assert.NotEmpty(t, q["day"])
	assert.Len(t, q["queues"], 4)

	r = kiosk.do("GET", "/api/v1/stats/today", "")
	st := r.json(t)
	assert.EqualValues(t, 3, st["issued"])
	assert.EqualValues(t, 1, st["served"])
	assert.EqualValues(t, 1, st["no_show"])
	assert.EqualValues(t, 1, st["cancelled"])

	r = kiosk.do("GET", "/api/v1/sync", "")
	sy := r.json(t)
	assert.Equal(t, "standalone", sy["mode"])
	assert.Greater(t, sy["last_seq"].(float64), 10.0)
	assert.Equal(t, sy["last_seq"], sy["backlog"])

	r = ana.do("DELETE", "/api/v1/sessions/current", "")
	assert.Equal(t, 204, r.status)
	r = ana.do("GET", "/api/v1/sessions/current", "")
	assert.Equal(t, 401, r.status)

	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"} {
		assert.Equal(t, 200, kiosk.do("GET", p, "").status, p)
	}
	addr, err := os.ReadFile(filepath.Join(m.Config.Data, "http.addr"))
	require.NoError(t, err)
	assert.Equal(t, m.Addr, strings.TrimSpace(string(addr)))
}

// TestBadInput: every bad request is a 4xx problem+json with a stable code
// and a Spanish message, and writes nothing.
func TestBadInput(t *testing.T) {
	m := MustMain(t)
	kiosk := newClient(t, m.Addr)
	r := kiosk.do("POST", "/api/v1/tickets", `{"service":"C"}`)
	require.Equal(t, 201, r.status)
	waiting := r.json(t)["id"].(string)
	ana := kiosk.login("E01", 1)
	beto := kiosk.login("E02", 2)
	r = ana.do("POST", "/api/v1/counters/1/call-next", "")
	require.Equal(t, 200, r.status)
	anas := r.json(t)["id"].(string)
	r = kiosk.do("POST", "/api/v1/tickets", `{"service":"C"}`)
	require.Equal(t, 201, r.status)
	waiting = r.json(t)["id"].(string)

	big := `{"service":"C","rut":"` + strings.Repeat("1", 70_000) + `"}`
	tests := []struct {
		name         string
		c            *client
		method, path string
		body         string
		status       int
		code         string
	}{
		{"malformed json", kiosk, "POST", "/api/v1/tickets", `{"service":"C",`, 400, "request.malformed"},
		{"not an object", kiosk, "POST", "/api/v1/tickets", `["C"]`, 400, "request.malformed"},
		{"wrong field type", kiosk, "POST", "/api/v1/tickets", `{"service":3}`, 400, "request.malformed"},
		{"trailing data", kiosk, "POST", "/api/v1/tickets", `{"service":"C"} {}`, 400, "request.malformed"},
		{"empty body", kiosk, "POST", "/api/v1/tickets", ``, 400, "request.malformed"},
		{"unknown service", kiosk, "POST", "/api/v1/tickets", `{"service":"Z"}`, 400, "service.unknown"},
		{"no service", kiosk, "POST", "/api/v1/tickets", `{}`, 400, "service.unknown"},
		{"invalid rut", kiosk, "POST", "/api/v1/tickets", `{"service":"C","rut":"12.345.678-9"}`, 400, "rut.check_digit"},
		{"rut format", kiosk, "POST", "/api/v1/tickets", `{"service":"C","rut":"12a45678-5"}`, 400, "rut.format"},
		{"invalid priority", kiosk, "POST", "/api/v1/tickets", `{"service":"C","priority":"vip"}`, 400, "priority.invalid"},
		{"oversized body", kiosk, "POST", "/api/v1/tickets", big, 413, "request.too_large"},
		{"unknown ticket", kiosk, "GET", "/api/v1/tickets/NOPE", "", 404, "ticket.not_found"},
		{"unknown route", kiosk, "GET", "/api/v1/nope", "", 404, "route.not_found"},
		{"wrong method", kiosk, "DELETE", "/api/v1/tickets", "", 405, "method.not_allowed"},
		{"bad limit", kiosk, "GET", "/api/v1/calls?limit=x", "", 400, "request.invalid_param"},
		{"call-next without session", kiosk, "POST", "/api/v1/counters/3/call-next", "", 401, "session.required"},
		{"call-next with a bad token", &client{tb: t, base: kiosk.base, tok: "forged"}, "POST", "/api/v1/counters/3/call-next", "", 401, "session.required"},
		{"call-next at another's counter", beto, "POST", "/api/v1/counters/1/call-next", "", 403, "session.wrong_counter"},
		{"call-next at a bad counter", beto, "POST", "/api/v1/counters/x/call-next", "", 400, "request.invalid_param"},
		{"call-next while busy", ana, "POST", "/api/v1/counters/1/call-next", "", 409, "session.busy"},
		{"act on another's ticket", beto, "POST", "/api/v1/tickets/" + anas + "/start", "", 403, "ticket.not_yours"},
		{"illegal transition", ana, "POST", "/api/v1/tickets/" + waiting + "/complete", "", 409, "ticket.illegal_transition"},
		{"action without session", kiosk, "POST", "/api/v1/tickets/" + waiting + "/cancel", "", 401, "session.required"},
		{"transfer to unknown", ana, "POST", "/api/v1/tickets/" + anas + "/transfer", `{"service":"Q"}`, 400, "service.unknown"},
		{"transfer to same", ana, "POST", "/api/v1/tickets/" + anas + "/transfer", `{"service":"C"}`, 409, "transfer.same_service"},
		{"bad outcome", ana, "POST", "/api/v1/tickets/" + anas + "/complete", `{"outcome":"<script>"}`, 409, "ticket.illegal_transition"},
		{"pause while busy", ana, "POST", "/api/v1/sessions/current/pause", `{"reason":"x"}`, 409, "session.busy"},
		{"resume not paused", beto, "POST", "/api/v1/sessions/current/resume", "", 409, "session.not_paused"},
		{"long pause reason", beto, "POST", "/api/v1/sessions/current/pause", `{"reason":"` + strings.Repeat("x", 65) + `"}`, 400, "session.reason_invalid"},
		{"login at a taken counter", kiosk, "POST", "/api/v1/sessions", `{"executive":"E03","pin":"240681","counter":1}`, 409, "session.counter_taken"},
		{"login twice", kiosk, "POST", "/api/v1/sessions", `{"executive":"E01","pin":"240681","counter":3}`, 409, "session.executive_busy"},
		{"login at an unknown counter", kiosk, "POST", "/api/v1/sessions", `{"executive":"E03","pin":"240681","counter":99}`, 400, "counter.unknown"},
		{"login unknown executive", kiosk, "POST", "/api/v1/sessions", `{"executive":"ZZ","pin":"240681","counter":3}`, 401, "session.bad_pin"},
		{"idempotency key too long", kiosk, "POST", "/api/v1/tickets", `{"service":"C"}`, 400, "idempotency.key_invalid"},
	}
	seqBefore := lastSeq(t, kiosk)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.code == "idempotency.key_invalid" {
				hdr = []string{"Idempotency-Key", strings.Repeat("k", 129)}
			}
			tc.c.tb = t
			r := tc.c.do(tc.method, tc.path, tc.body, hdr...)
			require.Equal(t, tc.status, r.status, string(r.body))
			assert.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
			p := r.json(t)
			assert.Equal(t, tc.code, p["code"])
			assert.EqualValues(t, tc.status, p["status"])
			assert.Equal(t, "https://ticketero.cl/problems/"+tc.code, p["type"])
			assert.Equal(t, p["title"], p["detail"])
			assert.NotEqual(t, tc.code, p["detail"], "a catalogued message, not the key")
			assert.True(t, i18n.Has(tc.code), "code %s has a message", tc.code)
		})
	}
	assert.Equal(t, seqBefore, lastSeq(t, kiosk), "bad input wrote no event")

	t.Run("outcome format", func(t *testing.T) {
		r := ana.do("POST", "/api/v1/tickets/"+anas+"/start", "")
		require.Equal(t, 200, r.status)
		r = ana.do("POST", "/api/v1/tickets/"+anas+"/complete", `{"outcome":"<script>"}`)
		assert.Equal(t, 400, r.status)
		assert.Equal(t, "ticket.outcome_invalid", r.json(t)["code"])
	})

	t.Run("spanish by default, english on request", func(t *testing.T) {
		r := kiosk.do("POST", "/api/v1/tickets", `{"service":"C","rut":"12.345.678-9"}`)
		assert.Equal(t, "El dígito verificador del RUT no es correcto.", r.json(t)["title"])
		assert.Equal(t, "es", r.header.Get("Content-Language"))
		en := &client{tb: t, base: kiosk.base, lang: "en-US,en;q=0.9"}
		r = en.do("POST", "/api/v1/tickets", `{"service":"C","rut":"12.345.678-9"}`)
		assert.Equal(t, "The RUT check digit is not correct.", r.json(t)["title"])
	})

	t.Run("wrong pins make the address wait", func(t *testing.T) {
		before := lastSeq(t, kiosk)
		for i := 1; i < 3; i++ {
			r := kiosk.do("POST", "/api/v1/sessions", `{"executive":"E03","pin":"000000","counter":4}`)
			require.Equal(t, 401, r.status)
			assert.Equal(t, "session.bad_pin", r.json(t)["code"])
		}
		r := kiosk.do("POST", "/api/v1/sessions", `{"executive":"E03","pin":"000000","counter":4}`)
		assert.Equal(t, 423, r.status)
		assert.Equal(t, "session.locked", r.json(t)["code"])
		assert.Contains(t, r.json(t)["title"], "espere 30 segundos")
		r = kiosk.do("POST", "/api/v1/sessions", `{"executive":"E03","pin":"240681","counter":4}`)
		assert.Equal(t, 423, r.status, "even the right PIN from this address while it waits")
		assert.Equal(t, before+4, lastSeq(t, kiosk), "three executive.login_failed and one executive.locked for HQ")
	})
}

func lastSeq(tb testing.TB, c *client) float64 {
	tb.Helper()
	return c.do("GET", "/api/v1/sync", "").json(tb)["last_seq"].(float64)
}

func TestStream(t *testing.T) {
	m := MustMain(t)
	kiosk := newClient(t, m.Addr)
	res, err := http.Get(kiosk.base + "/api/v1/stream")
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	events := make(chan map[string]string, 16)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(res.Body)
		cur := map[string]string{}
		for sc.Scan() {
			line := sc.Text()
			if line == "" {
				if len(cur) > 0 {
					events <- cur
				}
				cur = map[string]string{}
				continue
			}
			if k, v, ok := strings.Cut(line, ": "); ok {
				cur[k] = v
			}
		}
	}()
	next := func() map[string]string {
		select {
		case e := <-events:
			return e
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
			return nil
		}
	}
	hello := next()
	assert.Equal(t, "hello", hello["event"])
	var h struct {
		Branch string
		Seq    uint64
	}
	require.NoError(t, json.Unmarshal([]byte(hello["data"]), &h))
	assert.Equal(t, "SCL-001", h.Branch)
	// The admin command's three executive.admin events may come first (they
	// are for HQ, not for screens: the stream skips them).
	base := h.Seq
	if base == 0 {
		base = 3
	}

	r := kiosk.do("POST", "/api/v1/tickets", `{"service":"C","rut":"12.345.678-5"}`)
	require.Equal(t, 201, r.status)
	ev := next()
	assert.Equal(t, strconv.FormatUint(base+1, 10), ev["id"])
	assert.Equal(t, "ticket.issued", ev["event"])
	var d map[string]any
	require.NoError(t, json.Unmarshal([]byte(ev["data"]), &d))
	assert.Equal(t, "ticket.issued", d["type"])
	assert.EqualValues(t, base+1, d["seq"])
	assert.Equal(t, "C-001", d["ticket"].(map[string]any)["number"])
	assert.Nil(t, d["executive"])
	assert.NotContains(t, ev["data"], "rut")
	assert.NotContains(t, ev["data"], r.json(t)["token"], "the link token is not broadcast")

	ana := kiosk.login("E01", 2)
	ev = next()
	assert.Equal(t, "executive.logged_in", ev["event"])
	r = ana.do("POST", "/api/v1/counters/2/call-next", "")
	require.Equal(t, 200, r.status)
	ev = next()
	assert.Equal(t, strconv.FormatUint(base+3, 10), ev["id"])
	assert.Equal(t, "ticket.called", ev["event"])
	require.NoError(t, json.Unmarshal([]byte(ev["data"]), &d))
	assert.EqualValues(t, 2, d["ticket"].(map[string]any)["counter"])
	assert.Equal(t, map[string]any{"id": "E01", "counter": 2.0, "state": "called"}, d["executive"])
}

// TestExecutiveCommand runs the admin subcommand as main does.
func TestExecutiveCommand(t *testing.T) {
	data := t.TempDir()
	env := func(k string) string { return map[string]string{"TICKETERO_DATA": data}[k] }
	var out, errb bytes.Buffer
	ctx := context.Background()
	require.Equal(t, 0, run(ctx, []string{"executive", "add", "--id", "E07", "--name", "Ana Pérez", "--pin", "531962", "--services", "c,P"}, &out, &errb, env), errb.String())
	require.Equal(t, 1, run(ctx, []string{"executive", "add", "--id", "E07", "--name", "Otra", "--pin", "531962", "--services", "C"}, &out, &errb, env))
	assert.Contains(t, errb.String(), `El ejecutivo "E07" ya existe.`)
	errb.Reset()
	require.Equal(t, 1, run(ctx, []string{"executive", "add", "--id", "E08", "--name", "X", "--pin", "12", "--services", "C"}, &out, &errb, env))
	assert.Contains(t, errb.String(), "PIN")
	require.Equal(t, 1, run(ctx, []string{"executive", "add", "--id", "E08", "--name", "X", "--pin", "240681", "--services", "Q"}, &out, &errb, env))
	out.Reset()
	require.Equal(t, 0, run(ctx, []string{"executive", "list"}, &out, &errb, env))
	assert.Contains(t, out.String(), "E07")
	assert.Contains(t, out.String(), "C,P")
	assert.Regexp(t, `E07\s+Ana Pérez\s+C,P\s+ok\s+-\n`, out.String())
	// An executive HQ added has no PIN until one is set here: the list says so.
	db, err := sql.Open("sqlite3", filepath.Join(data, "agent.db"))
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO executives (id, name, services, pin_hash, active) VALUES ('E09', 'Eva Nueva', 'C', '', 1)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	out.Reset()
	require.Equal(t, 0, run(ctx, []string{"executive", "list"}, &out, &errb, env))
	assert.Contains(t, out.String(), "falta: executive set-pin --id E09", out.String())
	errb.Reset()
	require.Equal(t, 1, run(ctx, []string{"executive", "set-pin", "--id", "E07", "--pin", "5555"}, &out, &errb, env))
	assert.Contains(t, errb.String(), "El PIN debe tener de 6 a 12 dígitos", "new PINs have 6 digits or more")
	require.Equal(t, 1, run(ctx, []string{"executive", "set-pin", "--id", "E07", "--pin", "123456"}, &out, &errb, env), "a run is refused")
	require.Equal(t, 0, run(ctx, []string{"executive", "set-pin", "--id", "E07", "--pin", "555019"}, &out, &errb, env))

	// The running agent sees the new PIN at the next sign-in.
	m := NewMain()
	m.Config.Data, m.Config.HTTP, m.Stdout = data, "127.0.0.1:0", io.Discard
	require.NoError(t, m.Run(ctx))
	defer m.Close()
	c := newClient(t, m.Addr)
	assert.Equal(t, 401, c.do("POST", "/api/v1/sessions", `{"executive":"E07","pin":"531962","counter":1}`).status)
	r := c.do("POST", "/api/v1/sessions", `{"executive":"E07","pin":"555019","counter":1}`)
	require.Equal(t, 201, r.status)
	assert.Equal(t, "Ana Pérez", r.json(t)["executive"].(map[string]any)["name"])
	require.Equal(t, 0, run(ctx, []string{"executive", "remove", "--id", "E07"}, &out, &errb, env))
	out.Reset()
	require.Equal(t, 0, run(ctx, []string{"executive", "list"}, &out, &errb, env))
	assert.NotContains(t, out.String(), "E07")
	require.Equal(t, 1, run(ctx, []string{"executive", "remove", "--id", "E07"}, &out, &errb, env))
}

func TestConfigFromFlagsAndEnv(t *testing.T) {
	c := DefaultConfig()
	env := map[string]string{"TICKETERO_BRANCH": "VAL-002", "TICKETERO_COUNTERS": "8"}
	require.NoError(t, c.Parse([]string{"--http", "127.0.0.1:0", "--tz", "America/Punta_Arenas"}, func(k string) string { return env[k] }, io.Discard))
	assert.Equal(t, "VAL-002", c.Branch)
	assert.Equal(t, 8, c.Counters)
	assert.Equal(t, "America/Punta_Arenas", c.TimeZone)
	for _, bad := range [][]string{{"--branch", "scl"}, {"--tz", "Mars/Base"}, {"--counters", "0"}, {"--http", "nope"},
		{"--log-level", "loud"}, {"--log-format", "xml"}, {"--counters", "x"}} {
		c := DefaultConfig()
		err := c.Parse(bad, func(string) string { return "" }, io.Discard)
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), strings.TrimPrefix(bad[0], "--"), "names the field")
	}
	// A bad value in the environment is an error naming the variable, never dropped.
	for name, v := range map[string]string{"TICKETERO_MQTT_ACK_TIMEOUT": "ten", "TICKETERO_RATE_EXEMPT_LOOPBACK": "maybe",
		"TICKETERO_RETENTION_DAYS": "x"} {
		c := DefaultConfig()
		err := c.Parse(nil, func(k string) string {
			if k == name {
				return v
			}
			return ""
		}, io.Discard)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name)
		assert.Contains(t, err.Error(), v)
	}
}

// TestConcurrentKiosksOverHTTP: 10 kiosks issuing 1,000 tickets against the
// real program get unique, gap-free numbers per service.
func TestConcurrentKiosksOverHTTP(t *testing.T) {
	m := MustMain(t)
	c := newClient(t, m.Addr)
	var mu sync.Mutex
	nums := map[string]bool{}
	var wg sync.WaitGroup
	for k := range 10 {
		wg.Go(func() {
			for i := range 100 {
				svc := []string{"C", "P", "E", "G"}[(k+i)%4]
				r := c.do("POST", "/api/v1/tickets", `{"service":"`+svc+`"}`, "Idempotency-Key", fmt.Sprintf("%d-%d", k, i))
				if !assert.Equal(t, 201, r.status) {
					return
				}
				mu.Lock()
				nums[r.json(t)["number"].(string)] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Len(t, nums, 1000)
	for _, svc := range []string{"C", "P", "E", "G"} {
		for n := 1; n <= 250; n++ {
			assert.True(t, nums[queue.DisplayNumber(svc, n)], "%s missing", queue.DisplayNumber(svc, n))
		}
	}
}

func jsonDecode(res *http.Response, v any) error { return json.NewDecoder(res.Body).Decode(v) }

// TestBranchNameUntilHQ: a box set up locally shows the name and region it is
// given (--name, --region) until HQ's configuration names the branch; a name
// with a control character is refused at start.
func TestBranchNameUntilHQ(t *testing.T) {
	m := NewMain()
	m.Config.Data = t.TempDir()
	m.Config.HTTP = "127.0.0.1:0"
	m.Config.LogLevel = "warn"
	m.Config.Name, m.Config.Region = "Santiago Centro", "RM"
	m.Stdout = io.Discard
	require.NoError(t, m.Run(context.Background()))
	t.Cleanup(func() { assert.NoError(t, m.Close()) })
	b := newClient(t, m.Addr).do("GET", "/api/v1/branch", "").json(t)
	assert.Equal(t, "Santiago Centro", b["name"])
	assert.Equal(t, "RM", b["region"])

	c := DefaultConfig()
	err := c.Parse([]string{"--name", "Centro\x00"}, func(string) string { return "" }, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "name")
}
