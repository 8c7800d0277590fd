package web_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/web"
)

// loginClient fetches the sign-in form and returns a client (cookie jar, no
// redirects) with its CSRF token.
func (e *env) loginClient() (*http.Client, string) {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: noRedirect}
	_, body := e.get(c, "/login")
	return c, csrfOf(e.t, body)
}

func (e *env) auditCount(action string) (rows, total int) {
	e.t.Helper()
	got, err := e.store.AuditLog(context.Background(), cloud.AuditFilter{Action: action, Limit: 100000})
	require.NoError(e.t, err)
	for _, g := range got {
		total += g.Count
	}
	return len(got), total
}

// Issue 13: /lang?next=/%09/evil.example and the sign-in's next led off-site
// (browsers drop the tab and read "//evil.example").
func TestOpenRedirect(t *testing.T) {
	e := newEnv(t)
	e.user("redir@bank.cl", "viewer", nil, nil)
	c, tok := e.loginClient()
	bad := []string{"/%09/evil.example", "/%0a/evil.example", "/%0d/evil.example", "//evil.example", "/%5Cevil.example",
		"%2F%2Fevil.example", "https://evil.example", "/%20/evil.example", "/%00/x", "/%E2%80%A8/evil.example", "javascript:alert(1)"}
	for _, next := range bad {
		// Refused as bad input (400: control characters) or sent home.
		res, _ := e.get(c, "/lang?lang=en&next="+next)
		if res.StatusCode != http.StatusBadRequest {
			assert.Equal(t, "/", res.Header.Get("Location"), "lang next=%s", next)
		}
		res, body := e.get(c, "/login?next="+next)
		if res.StatusCode != http.StatusBadRequest {
			assert.Contains(t, body, `name="next" value="/"`, "login form next=%s", next)
		}
	}
	res, _ := e.get(c, "/lang?lang=en&next=/reports%3Ffrom%3D2026-01-01")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/reports?from=2026-01-01", res.Header.Get("Location"), "a local path is kept")

	res, _ = e.post(c, "/login", url.Values{"email": {"redir@bank.cl"}, "password": {"password-redir@bank.cl"}, "csrf": {tok},
		"next": {"/\t/evil.example"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/", res.Header.Get("Location"))
}

// Issue 13: an 8 MB e-mail was stored in hq_audit, even when rate limited.
// Bodies are capped, the address validated and refusals counted per minute.
func TestLoginCannotFloodAudit(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.LoginsPerMinute = 5 })
	c, tok := e.loginClient()

	huge := strings.Repeat("a", 8<<20) + "@bank.cl"
	res, _ := e.post(c, "/login", url.Values{"email": {huge}, "password": {"x"}, "csrf": {tok}})
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
	long := strings.Repeat("a", 300) + "@bank.cl" // fits the body cap, not an address
	res, body := e.post(c, "/login", url.Values{"email": {long}, "password": {"x"}, "csrf": {tok}})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.NotContains(t, body, long, "not echoed back")
	for range 40 {
		e.post(c, "/login", url.Values{"email": {"victim@bank.cl"}, "password": {"x"}, "csrf": {tok}})
	}
	rows, total := e.auditCount(cloud.AuditLoginFailed)
	assert.Equal(t, 41, total, "every refusal counted")
	assert.LessOrEqual(t, rows, 4, "in a handful of rows (one per cause, address and minute)")
	got, err := e.store.AuditLog(context.Background(), cloud.AuditFilter{Action: cloud.AuditLoginFailed})
	require.NoError(t, err)
	for _, g := range got {
		assert.LessOrEqual(t, len(g.Actor), 254)
		assert.NotContains(t, g.Actor, "aaaaaaaaaa")
	}
	for range 20 {
		e.post(c, "/login", url.Values{"email": {"victim@bank.cl"}, "password": {"x"}, "csrf": {"forged"}})
	}
	rows, total = e.auditCount(cloud.AuditCSRF)
	assert.Equal(t, 1, rows)
	assert.Equal(t, 20, total, "sign-in CSRF failures audited, counted")
}

// Issue 13: NUL or invalid UTF-8 in a filter or a path answered 500
// (PostgreSQL refuses them); now 400 with a Spanish message.
func TestBadInput400(t *testing.T) {
	e := newEnv(t)
	e.user("nul@bank.cl", "admin", nil, nil)
	c, csrf := e.login("nul@bank.cl")
	for _, path := range []string{
		"/admin/audit?actor=%00", "/admin/audit?action=%FF", "/admin/audit.csv?actor=a%00b", "/branches/%00",
		"/branches/%C3%28", "/reports?branch=%00", "/reports.csv?service=%FE", "/?region=%00", "/config/branches/%00",
	} {
		res, body := e.get(c, path)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, path)
		assert.Contains(t, body, "caracteres no válidos", path)
	}
	res, body := e.get(c, "/hq/v1/reports?branch=%00")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	assert.Contains(t, body, `"code":"hq.input.invalid"`)
	res, _ = e.post(c, "/admin/users", url.Values{"csrf": {csrf}, "email": {"x@bank.cl"}, "name": {"a\x00b"},
		"password": {"long-enough-pass"}, "role": {"viewer"}})
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
}

// Issue 13: audit and report exports started cells with = + - @ as given.
func TestCSVFormulaInjection(t *testing.T) {
	e := newEnv(t)
	e.user("csv@bank.cl", "admin", nil, nil)
	c, _ := e.login("csv@bank.cl")
	for _, a := range []string{`=HYPERLINK("http://evil.example","x")`, "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"} {
		require.NoError(t, e.store.Audit(context.Background(), cloud.AuditEntry{Actor: a, Action: "csv.test", Detail: "-12.5"}))
	}
	res, body := e.get(c, "/admin/audit.csv?action=csv.test")
	require.Equal(t, http.StatusOK, res.StatusCode)
	rows := readExcelCSV(t, body)
	require.Len(t, rows, 7)
	for _, r := range rows[1:] {
		assert.True(t, strings.HasPrefix(r[2], "'"), "actor cell %q is quoted", r[2])
		assert.Equal(t, "-12.5", r[6], "numbers stay numbers")
	}
}

// Issue 13: CSRF failures and out-of-scope accesses were not audited.
func TestCSRFAndScopeAudited(t *testing.T) {
	e := newEnv(t)
	e.f.Branch("AU-001", "Uno", "AUR", true)
	e.f.Branch("AU-002", "Dos", "AUX", true)
	e.user("scope@audit.cl", "supervisor", []string{"AUR"}, nil)
	c, _ := e.login("scope@audit.cl")
	for range 5 {
		res, _ := e.post(c, "/alerts/1/ack", url.Values{"csrf": {"forged"}})
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
	}
	got := e.audited(cloud.AuditCSRF, "scope@audit.cl")
	require.Len(t, got, 1)
	assert.Equal(t, 5, got[0].Count)

	for range 3 {
		res, _ := e.get(c, "/branches/AU-002")
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
	}
	got = e.audited(cloud.AuditDenied, "scope@audit.cl")
	require.Len(t, got, 1)
	assert.Equal(t, 3, got[0].Count)
	assert.Equal(t, "/branches/AU-002", got[0].Target)

	var alert int64
	require.NoError(t, e.store.Pool().QueryRow(context.Background(), `INSERT INTO hq_alerts (branch, kind, raised_at, seen_at)
		VALUES ('AU-002', $1, now(), now()) RETURNING id`, cloud.AlertOffline).Scan(&alert))
	_, body := e.get(c, "/")
	res, _ := e.post(c, "/alerts/"+strconvI(alert)+"/ack", url.Values{"csrf": {csrfOf(t, body)}})
	assert.Equal(t, http.StatusNotFound, res.StatusCode, "an alert out of scope does not exist for him")
	got, err := e.store.AuditLog(context.Background(), cloud.AuditFilter{Action: cloud.AuditDenied, Actor: "scope@audit.cl"})
	require.NoError(t, err)
	var targets []string
	for _, g := range got {
		targets = append(targets, g.Target)
	}
	assert.Contains(t, targets, "alert:"+strconvI(alert))
}

// Issue 13: the limiter keyed on the last X-Forwarded-For hop, which behind
// CloudFront and an ALB is CloudFront's edge, not the client.
func TestClientAddress(t *testing.T) {
	cases := []struct {
		name   string
		cfg    func(*web.Config)
		header [2]string
		want   string
	}{
		{"peer by default", nil, [2]string{"X-Forwarded-For", "198.51.100.7"}, "127.0.0.1"},
		{"two hops", func(c *web.Config) { c.TrustedProxyHops = 2 }, [2]string{"X-Forwarded-For", "6.6.6.6, 203.0.113.7, 130.176.0.1"}, "203.0.113.7"},
		{"one hop", func(c *web.Config) { c.TrustedProxyHops = 1 }, [2]string{"X-Forwarded-For", "6.6.6.6, 203.0.113.8"}, "203.0.113.8"},
		{"too few hops", func(c *web.Config) { c.TrustedProxyHops = 2 }, [2]string{"X-Forwarded-For", "203.0.113.9"}, "127.0.0.1"},
		{"garbage", func(c *web.Config) { c.TrustedProxyHops = 1 }, [2]string{"X-Forwarded-For", "not-an-ip"}, "127.0.0.1"},
		{"cloudfront v4", func(c *web.Config) { c.ClientIPHeader = "CloudFront-Viewer-Address" }, [2]string{"CloudFront-Viewer-Address", "203.0.113.10:46532"}, "203.0.113.10"},
		{"cloudfront v6", func(c *web.Config) { c.ClientIPHeader = "CloudFront-Viewer-Address" }, [2]string{"CloudFront-Viewer-Address", "2001:db8::7:46532"}, "2001:db8::7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mut []func(*web.Config)
			if tc.cfg != nil {
				mut = append(mut, tc.cfg)
			}
			e := newEnv(t, mut...)
			c, tok := e.loginClient()
			email := strings.ReplaceAll(tc.name, " ", "-") + "@ip.cl"
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader(url.Values{"email": {email}, "password": {"x"}, "csrf": {tok}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set(tc.header[0], tc.header[1])
			res, err := c.Do(req)
			require.NoError(t, err)
			res.Body.Close()
			got := e.audited(cloud.AuditLoginFailed, email)
			require.Len(t, got, 1)
			assert.Equal(t, tc.want, got[0].IP)
		})
	}
}

// The first admin (bootstrap) must change his password before anything else.
func TestFirstAdminMustChangePassword(t *testing.T) {
	var changed []string
	e := newEnv(t, func(c *web.Config) { c.PasswordChanged = func(email string) { changed = append(changed, email) } })
	_, err := e.store.Pool().Exec(context.Background(), `DELETE FROM hq_users`)
	require.NoError(t, err)
	email, pw, created, err := e.store.Bootstrap(context.Background())
	require.NoError(t, err)
	require.True(t, created)
	c, tok := e.loginClient()
	res, _ := e.post(c, "/login", url.Values{"email": {email}, "password": {pw}, "csrf": {tok}, "next": {"/reports"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/account/password", res.Header.Get("Location"))
	res, _ = e.get(c, "/admin/users")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/account/password", res.Header.Get("Location"))
	res, _ = e.get(c, "/hq/v1/overview")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res, body := e.get(c, "/account/password")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "Debe cambiar su contraseña")
	csrf := csrfOf(t, body)
	res, body = e.post(c, "/account/password", url.Values{"csrf": {csrf}, "current": {pw}, "new": {"brand-new-pass"}, "confirm": {"other-new-pass"}})
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, body, "no coinciden")
	assert.Empty(t, changed, "a refused change is not reported")
	res, _ = e.post(c, "/account/password", url.Values{"csrf": {csrf}, "current": {pw}, "new": {"brand-new-pass"}, "confirm": {"brand-new-pass"}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, []string{email}, changed, "the handed-over password file can go")
	res, _ = e.get(c, "/admin/users")
	assert.Equal(t, http.StatusOK, res.StatusCode, "free to go on")

	var last int
	for range 12 { // the sign-in above and these share the per-address limit (10 a minute)
		res, _ := e.post(c, "/account/password", url.Values{"csrf": {csrf}, "current": {"guess-guess"}, "new": {"x-new-password"}, "confirm": {"x-new-password"}})
		last = res.StatusCode
	}
	assert.Equal(t, http.StatusTooManyRequests, last, "guessing the current password is rate limited")
}

// Issue 13: /metrics and the sync API were public through the load balancer.
func TestOpsGuard(t *testing.T) {
	e := newEnv(t)
	e.user("ops-admin@bank.cl", "admin", nil, nil)
	e.user("ops-viewer@bank.cl", "viewer", nil, nil)
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("metrics")) })
	srv := httptest.NewServer(e.h.OpsGuard("scrape-token")(ok))
	t.Cleanup(srv.Close)
	admin, _ := e.login("ops-admin@bank.cl")
	viewer, _ := e.login("ops-viewer@bank.cl")
	adminTok, err := e.store.CreateToken(context.Background(), "ops-bi", cloud.RoleAdmin, nil, nil)
	require.NoError(t, err)
	get := func(c *http.Client, auth string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if c.Jar != nil { // the session cookie belongs to the HQ server's host: copy it
			for _, ck := range c.Jar.Cookies(mustURL(t, e.srv.URL)) {
				req.AddCookie(ck)
			}
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	plain := &http.Client{}
	assert.Equal(t, http.StatusUnauthorized, get(plain, ""))
	assert.Equal(t, http.StatusUnauthorized, get(plain, "Bearer wrong"))
	assert.Equal(t, http.StatusOK, get(plain, "Bearer scrape-token"))
	assert.Equal(t, http.StatusOK, get(plain, "Bearer "+adminTok))
	assert.Equal(t, http.StatusOK, get(admin, ""))
	assert.Equal(t, http.StatusForbidden, get(viewer, ""))
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

// The live stream outlives the server's read and write timeouts (it extends
// its own deadline), so the timeouts can be short for everything else.
func TestLiveOutlivesServerTimeouts(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.RecheckEvery = 100 * time.Millisecond })
	// A region of no branch: this test is about pings. A viewer of every
	// branch would get the package database's tiles (hundreds, from the
	// tests before), and a burst of their changes past a client's queue
	// drops the stream by design (the browser reconnects).
	e.user("sse@bank.cl", "supervisor", []string{"SSE-NONE"}, nil)
	c, _ := e.login("sse@bank.cl")
	e.cacheReady()
	srv := httptest.NewUnstartedServer(e.h)
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Config.WriteTimeout = 300 * time.Millisecond
	srv.Start()
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/live", nil)
	for _, ck := range c.Jar.Cookies(mustURL(t, e.srv.URL)) {
		req.AddCookie(ck)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var (
		mu    sync.Mutex
		pings int
	)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if sc.Text() == ": ping" {
				mu.Lock()
				pings++
				mu.Unlock()
			}
		}
	}()
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return pings >= 12 }, 10*time.Second, 50*time.Millisecond,
		"pings keep coming well past the 300 ms timeouts")
}

func strconvI(n int64) string { return strconv.FormatInt(n, 10) }
