package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	agenthttp "github.com/ticketero/ticketero/agent/http"
	"github.com/ticketero/ticketero/agent/sqlite"
)

// clock is a settable clock for the limiter.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// MustLimitedServer is a server with the default limits and a fake clock.
func MustLimitedServer(tb testing.TB, lim agenthttp.Limits) (http.Handler, *sqlite.Store, *clock) {
	tb.Helper()
	clk := &clock{t: time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC)}
	srv, st := MustServerWith(tb, agenthttp.Config{Now: clk.Now, RateLimits: &lim})
	return srv.Handler(), st, clk
}

// do serves one request from address from; hdr are header name/value pairs
// ("Host" sets the request's Host).
func do(h http.Handler, method, path, from, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = from
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestRateLimitKioskNeverLimited: a kiosk at a lunch peak issues 300 tickets
// from one address — taps every 1 to 6 s, a rush of 12 people in 10 s,
// double taps, a retry of each tenth ticket with its Idempotency-Key — while
// its page polls services and reconnects the stream. Nothing is refused.
func TestRateLimitKioskNeverLimited(t *testing.T) {
	h, _, clk := MustLimitedServer(t, agenthttp.DefaultLimits())
	const kiosk = "10.20.0.21:50412"
	gaps := []time.Duration{time.Second, 3 * time.Second, 6 * time.Second, 2 * time.Second, 500 * time.Millisecond}
	issued := 0
	for i := range 300 {
		switch {
		case i >= 100 && i < 112: // a rush: 12 tickets in under 10 s
			clk.Add(800 * time.Millisecond)
		case i%17 == 0: // a double tap
			clk.Add(0)
		default:
			clk.Add(gaps[i%len(gaps)])
		}
		idem := fmt.Sprintf("k-%d", i)
		rec := do(h, "POST", "/api/v1/tickets", kiosk, `{"service":"C"}`, "Idempotency-Key", idem)
		require.Equal(t, 201, rec.Code, "ticket %d: %s", i, rec.Body)
		issued++
		if i%10 == 0 { // the kiosk lost the answer and retries at once
			rec = do(h, "POST", "/api/v1/tickets", kiosk, `{"service":"C"}`, "Idempotency-Key", idem)
			require.Contains(t, []int{200, 201}, rec.Code, "retry %d: %s", i, rec.Body)
		}
		if i%3 == 0 {
			require.Equal(t, 200, do(h, "GET", "/api/v1/services", kiosk, "").Code)
		}
	}
	assert.Equal(t, 300, issued)
	// After a quiet minute, thirty taps at the very same instant all get tickets.
	clk.Add(time.Minute)
	for i := range 30 {
		require.Equal(t, 201, do(h, "POST", "/api/v1/tickets", kiosk, `{"service":"C"}`).Code, "tap %d", i)
	}
}

// TestRateLimitSignInFlood: a flood of sign-ins from one address is refused
// with 429 rate.limited and Retry-After; another address still signs in; a
// forged X-Forwarded-For neither escapes the limit nor frames someone else.
func TestRateLimitSignInFlood(t *testing.T) {
	h, _, clk := MustLimitedServer(t, agenthttp.DefaultLimits())
	const attacker, other = "10.20.0.66:40000", "10.20.0.67:40001"
	body := `{"executive":"E01","pin":"0000","counter":1}`
	for i := range 50 {
		rec := do(h, "POST", "/api/v1/sessions", attacker, body,
			"X-Forwarded-For", fmt.Sprintf("10.9.%d.%d", i/250, i%250+1), "X-Real-IP", "10.20.0.67")
		if i < 10 {
			assert.NotEqual(t, 429, rec.Code, "attempt %d", i)
			continue
		}
		require.Equal(t, 429, rec.Code, "attempt %d", i)
		assert.Equal(t, "6", rec.Header().Get("Retry-After"))
		assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
		var p struct {
			Code   string `json:"code"`
			Status int    `json:"status"`
			Detail string `json:"detail"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
		assert.Equal(t, "rate.limited", p.Code)
		assert.Equal(t, 429, p.Status)
		assert.Contains(t, p.Detail, "Demasiadas solicitudes")
	}
	// English on request.
	rec := do(h, "POST", "/api/v1/sessions", attacker, body, "Accept-Language", "en")
	assert.Contains(t, rec.Body.String(), "Too many requests")

	// Another address, even one that names the attacker in X-Forwarded-For.
	rec = do(h, "POST", "/api/v1/sessions", other, body, "X-Forwarded-For", "10.20.0.66")
	assert.NotEqual(t, 429, rec.Code)
	// The attacker's kiosk budget and reads are separate classes.
	assert.Equal(t, 201, do(h, "POST", "/api/v1/tickets", attacker, `{"service":"C"}`).Code)
	assert.Equal(t, 200, do(h, "GET", "/api/v1/queues", attacker, "").Code)
	// One attempt every 6 s comes back.
	clk.Add(6 * time.Second)
	assert.NotEqual(t, 429, do(h, "POST", "/api/v1/sessions", attacker, body).Code)
	assert.Equal(t, 429, do(h, "POST", "/api/v1/sessions", attacker, body).Code)

	// The counter by class.
	rec = do(h, "GET", "/metrics", other, "")
	assert.Contains(t, rec.Body.String(), `ticketero_agent_http_rate_limited_total{class="signin"} 42`)
}

// TestRateLimitNothingWritten: refused issues leave no ticket behind.
func TestRateLimitNothingWritten(t *testing.T) {
	h, st, _ := MustLimitedServer(t, agenthttp.DefaultLimits())
	created, limited := 0, 0
	for range 100 {
		switch rec := do(h, "POST", "/api/v1/tickets", "10.20.0.99:1234", `{"service":"C","rut":"12.345.678-5"}`); rec.Code {
		case 201:
			created++
		case 429:
			limited++
			assert.NotEmpty(t, rec.Header().Get("Retry-After"))
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	assert.Equal(t, 30, created)
	assert.Equal(t, 70, limited)
	_, qs := st.Queues(context.Background())
	waiting := 0
	for _, q := range qs {
		waiting += q.Waiting
	}
	assert.Equal(t, 30, waiting)
	ss, err := st.SyncState(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, 30, ss.LastSeq, "one outbox event per ticket issued, none for the refused")
}

// TestRateLimitLoopbackExempt: the box itself is not limited by default,
// and is when the exemption is off.
func TestRateLimitLoopbackExempt(t *testing.T) {
	h, _, _ := MustLimitedServer(t, agenthttp.DefaultLimits())
	for i := range 60 {
		require.Equal(t, 201, do(h, "POST", "/api/v1/tickets", "127.0.0.1:4000", `{"service":"C"}`).Code, "ticket %d", i)
		require.Equal(t, 201, do(h, "POST", "/api/v1/tickets", "[::1]:4000", `{"service":"C"}`).Code, "ticket %d", i)
	}
	lim := agenthttp.DefaultLimits()
	lim.ExemptLoopback = false
	h, _, _ = MustLimitedServer(t, lim)
	codes := map[int]int{}
	for range 40 {
		codes[do(h, "POST", "/api/v1/tickets", "127.0.0.1:4000", `{"service":"C"}`).Code]++
	}
	assert.Equal(t, map[int]int{201: 30, 429: 10}, codes)
}

func TestParseLimit(t *testing.T) {
	for in, want := range map[string]agenthttp.Limit{
		"5/1s:30":  {Every: 200 * time.Millisecond, Burst: 30},
		"5/s:30":   {Every: 200 * time.Millisecond, Burst: 30},
		"1/6s:10":  {Every: 6 * time.Second, Burst: 10},
		"50/s:200": {Every: 20 * time.Millisecond, Burst: 200},
		"off":      {},
	} {
		got, err := agenthttp.ParseLimit(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		again, err := agenthttp.ParseLimit(got.String())
		require.NoError(t, err)
		assert.Equal(t, got, again, "String round trip of %s", in)
	}
	for _, bad := range []string{"", "5", "5/s", "x/s:3", "5/zz:3", "5/s:0", "5/s:x", "-1/s:3", "5/-1s:3"} {
		_, err := agenthttp.ParseLimit(bad)
		assert.Error(t, err, bad)
	}
}
