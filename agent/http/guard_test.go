package http_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	agenthttp "github.com/ticketero/ticketero/agent/http"
)

func TestGuardRefusesCrossSiteRequests(t *testing.T) {
	srv, st := MustServerWith(t, agenthttp.Config{AllowedHosts: []string{"sucursal-001.lan"}})
	h := srv.Handler()
	const from = "192.168.10.40:51000"
	const box = "192.168.10.5:8080"
	issue := `{"service":"C"}`
	cases := []struct {
		name   string
		method string
		host   string
		body   string
		hdr    []string
		status int
		code   string
	}{
		{"text/plain form post", "POST", box, issue, []string{"Content-Type", "text/plain"}, 415, "request.unsupported_media_type"},
		{"no content type", "POST", box, issue, []string{"Content-Type", ""}, 415, "request.unsupported_media_type"},
		{"url-encoded", "POST", box, issue, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "request.unsupported_media_type"},
		{"other origin", "POST", box, issue, []string{"Content-Type", "application/json", "Origin", "http://evil.example"}, 403, "request.cross_origin"},
		{"null origin", "POST", box, issue, []string{"Content-Type", "application/json", "Origin", "null"}, 403, "request.cross_origin"},
		{"fetch metadata", "POST", box, issue, []string{"Content-Type", "application/json", "Sec-Fetch-Site", "cross-site"}, 403, "request.cross_origin"},
		{"rebinding name", "GET", "evil.example:8080", "", nil, 421, "request.host_invalid"},
		{"rebinding name post", "POST", "evil.example", issue, []string{"Content-Type", "application/json"}, 421, "request.host_invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := "/api/v1/tickets"
			if tc.method == "GET" {
				path = "/api/v1/queues"
			}
			rec := do(h, tc.method, path, from, tc.body, append([]string{"Host", tc.host}, tc.hdr...)...)
			assert.Equal(t, tc.status, rec.Code, rec.Body.String())
			assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
			assert.Contains(t, rec.Body.String(), `"code":"`+tc.code+`"`)
		})
	}
	n, err := st.StatsToday(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n.Issued, "nothing written")

	ok := []struct {
		name, host string
		hdr        []string
	}{
		{"same origin", box, []string{"Origin", "http://" + box}},
		{"no origin (kiosk, curl)", box, nil},
		{"configured name", "sucursal-001.lan:8080", []string{"Origin", "http://sucursal-001.lan:8080"}},
		{"localhost", "localhost:8080", nil},
		{"ipv6 literal", "[fe80::1]:8080", nil},
		{"same-origin fetch metadata", box, []string{"Sec-Fetch-Site", "same-origin"}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(h, "POST", "/api/v1/tickets", from, issue, append([]string{"Host", tc.host, "Content-Type", "application/json; charset=utf-8"}, tc.hdr...)...)
			assert.Equal(t, 201, rec.Code, rec.Body.String())
		})
	}
	// A bodyless POST (call-next, resume) needs no content type: it still
	// needs its bearer token.
	rec := do(h, "POST", "/api/v1/sessions/current/resume", from, "", "Host", box)
	assert.Equal(t, 401, rec.Code)
}
