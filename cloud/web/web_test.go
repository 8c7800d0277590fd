package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
	"github.com/ticketero/ticketero/cloud/web"
	"github.com/ticketero/ticketero/shared/event"
)

var dsn string

func TestMain(m *testing.M) {
	os.Exit(hqtest.Main(m, "ticketero_web", func(u string) { dsn = u }))
}

// recorder is the config publisher of these tests: it records what the MQTT
// adapter would send, and can be told to fail like a broker that is down.
type recorder struct {
	mu   sync.Mutex
	got  []event.Config
	fail bool
}

func (r *recorder) PublishConfig(_ context.Context, c event.Config) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return fmt.Errorf("broker down")
	}
	r.got = append(r.got, c)
	return nil
}

type env struct {
	t     *testing.T
	store *hq.Store
	h     *web.Handler
	srv   *httptest.Server
	f     hqtest.Fixture
	pub   *recorder
}

// testRUTSealKey is a RUT sealing public key (base64 of 32 bytes).
const testRUTSealKey = "9Hc4N0yyUfnLWtrpIbwyGSSZpGWdp6wNm7L2rt8pI3E="

func newEnv(t *testing.T, mutate ...func(*web.Config)) *env {
	t.Helper()
	pool := hqtest.MustPool(t, dsn)
	store := hq.New(pool, time.Now)
	store.BcryptCost = bcrypt.MinCost
	pub := &recorder{}
	// The fixtures write rows without the ingest's NOTIFY: pages read the store.
	cfg := web.Config{Store: store, Changes: &postgres.Listener{Pool: pool, Channel: cloud.ChangesChannel}, Boxes: postgres.Releases{Pool: pool}.Boxes, Publisher: pub, RUTSealKey: testRUTSealKey, FlushEvery: 20 * time.Millisecond, RefreshEvery: time.Hour, OverviewFromStore: true}
	for _, m := range mutate {
		m(&cfg)
	}
	h, err := web.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = h.Run(ctx); close(done) }()
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close(); cancel(); <-done })
	return &env{t: t, store: store, h: h, srv: srv, f: hqtest.Fixture{TB: t, Pool: pool}, pub: pub}
}

func (e *env) user(email, role string, regions, branches []string) {
	e.t.Helper()
	_, err := e.store.CreateUser(context.Background(), cloud.NewUser{Email: email, Password: "password-" + email, Role: cloud.Role(role), Regions: regions, Branches: branches})
	require.NoError(e.t, err)
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(tb testing.TB, body string) string {
	tb.Helper()
	m := csrfRE.FindStringSubmatch(body)
	require.NotNil(tb, m, "no csrf field in page")
	return m[1]
}

func (e *env) get(c *http.Client, path string, hdr ...string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	require.NoError(e.t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (e *env) post(c *http.Client, path string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	res, err := c.PostForm(e.srv.URL+path, form)
	require.NoError(e.t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// login signs in and returns a client holding the session and the page's CSRF token.
func (e *env) login(email string) (*http.Client, string) {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: noRedirect}
	_, body := e.get(c, "/login")
	res, _ := e.post(c, "/login", url.Values{"email": {email}, "password": {"password-" + email}, "csrf": {csrfOf(e.t, body)}})
	require.Equal(e.t, http.StatusSeeOther, res.StatusCode)
	_, body = e.get(c, "/")
	return c, csrfOf(e.t, body)
}

func (e *env) audited(action, actor string) []cloud.AuditEntry {
	e.t.Helper()
	got, err := e.store.AuditLog(context.Background(), cloud.AuditFilter{Action: action, Actor: actor})
	require.NoError(e.t, err)
	return got
}

func TestLogin(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.SecureCookies = true; c.LoginsPerMinute = 8 })
	e.user("ana@bank.cl", "supervisor", []string{"RM"}, nil)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: noRedirect}

	res, _ := e.get(c, "/")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "anonymous goes to sign-in")
	assert.Equal(t, "/login?next=%2F", res.Header.Get("Location"))

	res, body := e.get(c, "/login")
	assert.Contains(t, body, "Ingreso a casa matriz", "Spanish by default")
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "default-src 'self'")
	_, en := e.get(c, "/login", "Accept-Language", "en-US,en;q=0.9")
	assert.Contains(t, en, "HQ sign-in")
	// Secure cookies are not sent back over plain HTTP by the jar: read the form token by hand.
	var loginCookie string
	for _, ck := range res.Cookies() {
		if ck.Name == "ticketero_login_csrf" {
			loginCookie = ck.Value
		}
	}
	post := func(form url.Values, cookie string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "ticketero_login_csrf", Value: cookie})
		}
		r, err := http.DefaultTransport.RoundTrip(req)
		require.NoError(t, err)
		r.Body.Close()
		return r
	}
	tok := csrfOf(t, body)
	assert.Equal(t, loginCookie, tok)

	t.Run("csrf", func(t *testing.T) {
		r := post(url.Values{"email": {"ana@bank.cl"}, "password": {"password-ana@bank.cl"}, "csrf": {tok}}, "")
		assert.Equal(t, http.StatusForbidden, r.StatusCode)
	})
	t.Run("wrong password audited", func(t *testing.T) {
		r := post(url.Values{"email": {"ana@bank.cl"}, "password": {"nope-nope-nope"}, "csrf": {tok}}, tok)
		assert.Equal(t, http.StatusUnauthorized, r.StatusCode)
		got := e.audited(cloud.AuditLoginFailed, "ana@bank.cl")
		require.NotEmpty(t, got)
		assert.Equal(t, "127.0.0.1", got[0].IP)
	})
	t.Run("success sets a secure session cookie", func(t *testing.T) {
		r := post(url.Values{"email": {"ana@bank.cl"}, "password": {"password-ana@bank.cl"}, "csrf": {tok}, "next": {"/reports"}}, tok)
		assert.Equal(t, http.StatusSeeOther, r.StatusCode)
		assert.Equal(t, "/reports", r.Header.Get("Location"))
		var sc *http.Cookie
		for _, ck := range r.Cookies() {
			if ck.Name == "ticketero_session" {
				sc = ck
			}
		}
		require.NotNil(t, sc)
		assert.True(t, sc.Secure)
		assert.True(t, sc.HttpOnly)
		assert.Equal(t, http.SameSiteLaxMode, sc.SameSite)
		assert.NotEmpty(t, e.audited(cloud.AuditLogin, "ana@bank.cl"))
	})
	t.Run("open redirect refused", func(t *testing.T) {
		r := post(url.Values{"email": {"ana@bank.cl"}, "password": {"password-ana@bank.cl"}, "csrf": {tok}, "next": {"//evil.example"}}, tok)
		assert.Equal(t, "/", r.Header.Get("Location"))
	})
	t.Run("rate limit", func(t *testing.T) {
		var last int
		for range 10 {
			last = post(url.Values{"email": {"ana@bank.cl"}, "password": {"x"}, "csrf": {tok}}, tok).StatusCode
		}
		assert.Equal(t, http.StatusTooManyRequests, last)
	})
}

func TestScopeAndRoles(t *testing.T) {
	e := newEnv(t)
	e.f.Branch("RS-001", "Centro", "RMS", true)
	e.f.Branch("VS-001", "Viña", "VS", true)
	e.user("sup@scope.cl", "supervisor", []string{"RMS"}, nil)
	c, csrf := e.login("sup@scope.cl")

	res, body := e.get(c, "/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `id="tile-RS-001"`)
	assert.NotContains(t, body, `tile-VS-001`, "tile outside scope not rendered")
	assert.Regexp(t, `^auth;dur=\d+\.\d, app;dur=\d+\.\d$`, res.Header.Get("Server-Timing"), "the server's share of the page")

	res, body = e.get(c, "/branches/VS-001")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, body, "No tiene acceso a la sucursal VS-001")
	assert.NotEmpty(t, e.audited(cloud.AuditDenied, "sup@scope.cl"))
	res, _ = e.get(c, "/branches/RS-001")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotEmpty(t, e.audited(cloud.AuditPersonalView, "sup@scope.cl"))

	res, _ = e.get(c, "/config")
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "configuration is for admins")
	res, _ = e.get(c, "/admin/audit")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)

	res, _ = e.post(c, "/alerts/1/ack", url.Values{})
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "no CSRF token")
	res, _ = e.post(c, "/alerts/999999/ack", url.Values{"csrf": {csrf}})
	assert.Equal(t, http.StatusNotFound, res.StatusCode)

	res, body = e.get(c, "/reports.csv?from=2026-01-01&to=2026-12-31&group=branch")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotContains(t, body, "VS-001")

	t.Run("api token", func(t *testing.T) {
		tok, err := e.store.CreateToken(context.Background(), "bi-scope", cloud.RoleSupervisor, []string{"VS"}, nil)
		require.NoError(t, err)
		plain := &http.Client{}
		res, body := e.get(plain, "/hq/v1/overview", "Authorization", "Bearer "+tok)
		require.Equal(t, http.StatusOK, res.StatusCode)
		var out struct{ Branches []cloud.Tile }
		require.NoError(t, json.Unmarshal([]byte(body), &out))
		require.Len(t, out.Branches, 1)
		assert.Equal(t, "VS-001", out.Branches[0].Branch)
		res, body = e.get(plain, "/hq/v1/branches/RS-001", "Authorization", "Bearer "+tok)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
		assert.Contains(t, body, `"code":"hq.branch.forbidden"`)
		res, _ = e.get(plain, "/hq/v1/overview", "Authorization", "Bearer tkt_forged")
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
		res, _ = e.get(plain, "/hq/v1/overview")
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	})
}

func TestReportsAndCSV(t *testing.T) {
	e := newEnv(t)
	e.f.Branch("RP-001", "Reportes", "RP", true)
	now := time.Now()
	called := now.Add(-5 * time.Minute)
	e.f.Ticket(hqtest.Ticket{Day: today(t), Branch: "RP-001", ID: "rp1", Service: "C", Number: 1, Status: "serving", Executive: "E1", Counter: 1,
		QueuedAt: now.Add(-15 * time.Minute), CalledAt: &called, StartedAt: &now})
	// Still waiting 30 min against the 10 min default target: counts now.
	e.f.Ticket(hqtest.Ticket{Day: today(t), Branch: "RP-001", ID: "rp2", Service: "C", Number: 2, QueuedAt: now.Add(-30 * time.Minute)})
	e.user("admin@rp.cl", "admin", nil, nil)
	c, _ := e.login("admin@rp.cl")
	day := now.In(mustLoc(t)).Format(time.DateOnly)
	res, body := e.get(c, "/reports?branch=RP-001&from="+day)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "<svg class=\"chart\"")
	assert.Contains(t, body, `<td>RP-001</td><td>2</td><td>0</td><td class="still-waiting">1</td>`)
	assert.Contains(t, body, "incluyen a quienes siguen esperando")
	// The CSV links carry the report's own filters (they once carried one
	// escaped parameter, so the export was always today's, all branches).
	assert.Contains(t, body, `href="/reports.csv?table=summary&amp;branch=RP-001&amp;from=`+day+`&amp;group=branch&amp;to=`+day+`"`)
	res, audit := e.get(c, "/admin/audit?actor=admin%40rp.cl&from="+day)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, audit, `href="/admin/audit.csv?actor=admin%40rp.cl&amp;from=`+day+`"`)
	res, body = e.get(c, "/reports.csv?table=summary&branch=RP-001&from="+day)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/csv; charset=utf-8", res.Header.Get("Content-Type"))
	require.True(t, strings.HasPrefix(body, "\uFEFF"), "UTF-8 BOM first")
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(body, "\uFEFF")), "\r\n")
	require.Len(t, lines, 2)
	assert.True(t, strings.HasPrefix(lines[0], "Sucursal;Emitidos;Atendidos"))
	assert.True(t, strings.HasPrefix(lines[1], "RP-001;2;0;"))
	f := strings.Split(lines[1], ";")
	assert.InDelta(t, (600+1800)/2.0, mustFloat(t, strings.Replace(f[5], ",", ".", 1)), 2, "mean wait: 10 min called, 30 min still waiting")
	assert.Equal(t, "50,0", f[8], "SLA: 1 within of 2 decided, decimal comma")
	assert.Equal(t, "1", f[len(f)-1], "still waiting")
	res, body = e.get(c, "/reports.csv?table=heatmap&branch=RP-001&from="+day)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Len(t, strings.Split(strings.TrimSpace(body), "\n"), 8)
	assert.Len(t, e.audited(cloud.AuditExport, "admin@rp.cl"), 2)
	res, body = e.get(c, "/reports.csv?table=secrets")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, body, "no existe en el reporte")
	res, _ = e.get(c, "/reports?from=2026-13-40")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
}

func mustLoc(t *testing.T) *time.Location {
	l, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	return l
}

func TestConfigPublishing(t *testing.T) {
	e := newEnv(t)
	e.user("admin@cfg.cl", "admin", nil, nil)
	c, csrf := e.login("admin@cfg.cl")
	post := func(path string, kv ...string) (*http.Response, string) {
		f := url.Values{"csrf": {csrf}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return e.post(c, path, f)
	}
	res, body := post("/config/branches", "id", "CF-001", "name", "Config", "region", "CF", "time_zone", "Nowhere/City")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, body, "zona horaria")
	res, _ = post("/config/branches", "id", "CF-001", "name", "Config", "region", "CF", "time_zone", "America/Santiago", "opening_hours", "09:00-14:00")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = post("/config/branches/CF-001/services", "code", "C", "name", "Caja", "target_min", "10", "mean_min", "5", "priority", "1")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, body = post("/config/branches/CF-001/services", "code", "C", "name", "Caja", "target_min", "diez", "mean_min", "5", "priority", "1")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, body, "debe ser un número")
	res, _ = post("/config/branches/CF-001/counters", "number", "1", "name", "Módulo 1")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = post("/config/branches/CF-001/executives", "id", "E1", "name", "Ana Pérez", "services", "C", "pin", "240681")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = post("/config/branches/CF-001/executives/E1/pin", "pin", "531962")
	assert.Equal(t, http.StatusNotFound, res.StatusCode, "HQ sets no PINs: they are set at the branch")
	res, body = post("/config/branches/CF-001/rules", "preferential_ratio", "3", "recall_limit", "2", "pre_notice_ahead", "3",
		"pre_notice_by_service", "Z=1")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode, "a service the branch does not have")
	assert.Contains(t, body, "Aviso previo por servicio no válido: Z=1")
	res, _ = post("/config/branches/CF-001/rules", "preferential_ratio", "3", "recall_limit", "2", "pre_notice_ahead", "3",
		"pre_notice_by_service", "c=1")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, body = e.get(c, "/config/branches/CF-001")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `name="pre_notice_by_service" placeholder="P=1 G=2" value="C=1 "`)
	// "Publicar" first shows what would change at the branch; nothing is sent.
	res, body = e.get(c, "/config/branches/CF-001/publish")
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.Contains(t, body, "La sucursal aún no informa su configuración")
	assert.Contains(t, body, `<tr class="diff-added"><td>Servicios</td><td>C</td><td>se agrega</td><td></td><td>Caja · meta 10 min · atención media 5 min · prioridad 1</td></tr>`)
	assert.Contains(t, body, `<tr class="diff-added"><td>Ejecutivos</td><td>E1</td>`)
	assert.Contains(t, body, `name="confirm" value="1"`)
	res, _ = post("/config/branches/CF-001/publish")
	require.Equal(t, http.StatusOK, res.StatusCode, "a publish without confirm only shows the review")
	require.Empty(t, e.pub.got)
	res, _ = post("/config/branches/CF-001/publish", "confirm", "1")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Len(t, e.pub.got, 1)
	cfg := e.pub.got[0]
	assert.Equal(t, int64(1), cfg.Version)
	assert.Equal(t, "CF-001", cfg.Branch)
	assert.Equal(t, testRUTSealKey, cfg.RUTSealKey, "the cloud's public sealing key")
	assert.Empty(t, cfg.RUTKey, "the RUT hash key never leaves the cloud")
	require.Len(t, cfg.Executives, 1)
	assert.Empty(t, cfg.Executives[0].PINHash, "no PIN hash in the retained config")
	raw, jerr := json.Marshal(cfg)
	require.NoError(t, jerr)
	assert.NotContains(t, string(raw), "$2a$", "nor any bcrypt hash")
	assert.Equal(t, 3, cfg.Rules.PreferentialRatio)
	assert.Equal(t, map[string]int{"C": 1}, cfg.Rules.PreNoticeByService, "the per-service pre-notice reaches the branch")

	// The branch reports running version 1 through its status.
	e.f.Branch("CF-001", "Config", "CF", true)
	_, err := e.store.Pool().Exec(context.Background(), `UPDATE branch_sync SET config_version = 1 WHERE branch = 'CF-001'`)
	require.NoError(t, err)
	e.pub.mu.Lock()
	e.pub.fail = true
	e.pub.mu.Unlock()
	res, body = post("/config/branches/CF-001/publish", "confirm", "1")
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Contains(t, body, "Versión 2 guardada")
	assert.Contains(t, body, `<strong id="running">v1</strong>`)
	assert.Contains(t, body, `<strong id="latest">v2</strong>`)

	// The configuration list reads versions without the overview: CF-001
	// runs v1 of v2 (late); a branch only the ingest knows is listed too
	// (searched: the package's other tests fill more than a page).
	_, err = e.store.Pool().Exec(context.Background(), `INSERT INTO branch_sync (branch, online, config_version) VALUES ('CF-ING', true, 0)`)
	require.NoError(t, err)
	res, body = e.get(c, "/config?q=CF-")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `<tr class="late"><td><a href="/config/branches/CF-001">CF-001</a> Config</td><td>CF</td><td>v1</td><td>v2</td></tr>`)
	assert.Contains(t, body, `<tr><td><a href="/config/branches/CF-ING">CF-ING</a> </td><td></td><td>v0</td><td>v0</td></tr>`)
	published := e.audited(cloud.AuditConfigPublish, "admin@cfg.cl")
	require.Len(t, published, 2)
	assert.Equal(t, "version 1: services +1 -0 ~0, counters +1 -0 ~0, executives +1 -0 ~0", published[1].Detail,
		"the audit says what the publication changed")
	assert.GreaterOrEqual(t, len(e.audited(cloud.AuditConfigChange, "admin@cfg.cl")), 5)

	t.Run("users", func(t *testing.T) {
		res, body := e.post(c, "/admin/users", url.Values{"csrf": {csrf}, "email": {"new@cfg.cl"}, "password": {"short"}, "role": {"viewer"}})
		assert.Equal(t, http.StatusBadRequest, res.StatusCode)
		assert.Contains(t, body, "al menos 10 caracteres")
		res, _ = e.post(c, "/admin/users", url.Values{"csrf": {csrf}, "email": {"new@cfg.cl"}, "password": {"long-enough-1"}, "role": {"supervisor"}, "branches": {"CF-001"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		res, body = e.get(c, "/admin/audit.csv?action=user.create")
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Contains(t, body, "user:new@cfg.cl")
	})
}

// sse reads one browser's event stream.
type sse struct {
	events chan [2]string
}

func (e *env) stream(c *http.Client) *sse {
	e.t.Helper()
	e.cacheReady()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/live", nil)
	req.Header.Set("Accept", "text/event-stream")
	res, err := c.Do(req)
	require.NoError(e.t, err)
	require.Equal(e.t, http.StatusOK, res.StatusCode)
	s := &sse{events: make(chan [2]string, 1024)}
	e.t.Cleanup(func() { cancel(); res.Body.Close() })
	go func() {
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var typ string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				typ = line[7:]
			case strings.HasPrefix(line, "data: "):
				s.events <- [2]string{typ, line[6:]}
			}
		}
		close(s.events)
	}()
	return s
}

// cacheReady waits for the hub's first read of every tile. A stream opened
// before it ends: that read is a burst of every tile of the package's
// database (hundreds, written by the tests before), more than a client's
// queue holds, and the hub drops a client that falls that far behind (the
// browser reconnects and gets a snapshot).
func (e *env) cacheReady() {
	e.t.Helper()
	require.Eventually(e.t, e.h.Hub().CacheReady, 20*time.Second, 10*time.Millisecond, "the tile cache's first read")
}

// waitTile waits for a tile event of branch whose HTML contains want.
func (s *sse) waitTile(t *testing.T, branch, want string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev, ok := <-s.events:
			require.True(t, ok, "stream ended")
			if ev[0] != "tile" {
				continue
			}
			var d struct{ ID, HTML string }
			require.NoError(t, json.Unmarshal([]byte(ev[1]), &d))
			if d.ID == branch && strings.Contains(d.HTML, want) {
				return
			}
		case <-deadline:
			t.Fatalf("no tile %s with %q within %v", branch, want, within)
		}
	}
}

func (s *sse) never(t *testing.T, branch string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev := <-s.events:
			if ev[0] == "tile" {
				assert.NotContains(t, ev[1], `"id":"`+branch+`"`, "tile outside scope pushed")
			}
		case <-deadline:
			return
		}
	}
}

// TestLiveTwoReplicas runs two web handlers on two pools (two LISTEN
// connections, as two cloud processes would): a change committed and
// notified through replica A reaches a browser connected to replica B.
func TestLiveTwoReplicas(t *testing.T) {
	a := newEnv(t)
	b := newEnv(t)
	a.f.Branch("LV-001", "Live", "LV", true)
	a.f.Branch("LX-001", "Other", "LX", true)
	a.user("sup@live.cl", "supervisor", []string{"LV"}, nil)
	require.Eventually(t, func() bool { return a.h.Hub().Connected() && b.h.Hub().Connected() }, 5*time.Second, 10*time.Millisecond)
	c, _ := b.login("sup@live.cl")
	s := b.stream(c)
	s.waitTile(t, "LV-001", `data-waiting="0"`, 10*time.Second) // snapshot

	start := time.Now()
	a.f.Ticket(hqtest.Ticket{Branch: "LV-001", ID: "lv1", Service: "C", Number: 1, QueuedAt: time.Now()})
	a.f.Notify("LV-001")
	s.waitTile(t, "LV-001", `data-waiting="1"`, 10*time.Second) // a generous bound: latency is measured in the benchmarks, not asserted here
	t.Logf("change to browser on the other replica: %v", time.Since(start))

	a.f.Ticket(hqtest.Ticket{Branch: "LX-001", ID: "lx1", Service: "C", Number: 1, QueuedAt: time.Now()})
	a.f.Notify("LX-001")
	s.never(t, "LX-001", 300*time.Millisecond)

	t.Run("reconnect re-reads state", func(t *testing.T) {
		_, err := a.store.Pool().Exec(context.Background(),
			`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN ticketero_changes' AND datname = current_database()`)
		require.NoError(t, err)
		// A change whose NOTIFY is lost while the listeners are down.
		a.f.Ticket(hqtest.Ticket{Branch: "LV-001", ID: "lv2", Service: "C", Number: 2, QueuedAt: time.Now()})
		s.waitTile(t, "LV-001", `data-waiting="2"`, 5*time.Second)
	})
}

func TestAlertsPushedAndAcked(t *testing.T) {
	e := newEnv(t)
	e.f.Branch("AL-001", "Alertas", "AL", true)
	e.user("sup@alert.cl", "supervisor", nil, []string{"AL-001"})
	e.user("view@alert.cl", "viewer", nil, nil)
	require.Eventually(t, e.h.Hub().Connected, 5*time.Second, 10*time.Millisecond)
	c, csrf := e.login("sup@alert.cl")
	s := e.stream(c)
	for i := 1; i <= 16; i++ {
		e.f.Ticket(hqtest.Ticket{Branch: "AL-001", ID: fmt.Sprintf("al%d", i), Service: "C", Number: i, QueuedAt: time.Now().Add(-time.Minute)})
	}
	// The cloud's alert loop evaluates (not the hub); its NOTIFY reaches
	// every replica's browsers as an "alerts" event.
	tiles, err := e.store.Overview(context.Background(), cloud.AllBranches, cloud.OverviewFilter{Branches: []string{"AL-001"}})
	require.NoError(t, err)
	changed, err := e.store.EvaluateAlerts(context.Background(), tiles, cloud.DefaultAlertRules())
	require.NoError(t, err)
	require.True(t, changed)
	deadline := time.After(3 * time.Second)
	for got := false; !got; {
		select {
		case ev := <-s.events:
			got = ev[0] == "alerts"
		case <-deadline:
			t.Fatal("no alerts event")
		}
	}
	_, body := e.get(c, "/alerts")
	assert.Contains(t, body, "16 personas en espera")
	m := regexp.MustCompile(`/alerts/(\d+)/ack`).FindStringSubmatch(body)
	require.NotNil(t, m)
	vc, vcsrf := e.login("view@alert.cl")
	res, _ := e.post(vc, "/alerts/"+m[1]+"/ack", url.Values{"csrf": {vcsrf}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "viewers do not acknowledge")
	res, _ = e.post(c, "/alerts/"+m[1]+"/ack", url.Values{"csrf": {csrf}})
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, body = e.get(c, "/alerts")
	assert.Contains(t, body, "reconocida por sup@alert.cl")
	assert.NotEmpty(t, e.audited(cloud.AuditAlertAck, "sup@alert.cl"))
}

// TestEveryPageTranslated renders every page in both languages and fails on a
// catalogue key left untranslated (i18n.T returns the key itself).
func TestEveryPageTranslated(t *testing.T) {
	e := newEnv(t)
	e.f.Branch("TR-001", "Traducción", "TR", false)
	now := time.Now()
	called := now.Add(-time.Minute)
	e.f.Ticket(hqtest.Ticket{Branch: "TR-001", ID: "tr1", Service: "C", Number: 1, Status: "called", Executive: "E1", Counter: 1, QueuedAt: now.Add(-20 * time.Minute), CalledAt: &called})
	e.f.Ticket(hqtest.Ticket{Branch: "TR-001", ID: "tr2", Service: "C", Number: 2, QueuedAt: now.Add(-15 * time.Minute)})
	e.f.Executive("TR-001", "E1", "Ana", 1, "available", now)
	e.f.Executive("TR-001", "E2", "Luis", 2, "paused", now)
	require.NoError(t, e.store.PutBranch(context.Background(), cloud.BranchInput{ID: "TR-001", Name: "Traducción", Region: "TR", TimeZone: "America/Santiago"}))
	e.user("admin@tr.cl", "admin", nil, nil)
	c, _ := e.login("admin@tr.cl")
	// Raise alerts so the alert list renders.
	tiles, err := e.store.Overview(context.Background(), cloud.Scope{Branches: []string{"TR-001"}}, cloud.OverviewFilter{})
	require.NoError(t, err)
	_, err = e.store.EvaluateAlerts(context.Background(), tiles, cloud.AlertRules{QueueOver: 0, OfflineAfter: 0, BacklogWindow: time.Minute})
	require.NoError(t, err)
	key := regexp.MustCompile(`\b(hq|status|priority|action)\.[a-z_]+(\.[a-z_]+)*\b`)
	for _, lang := range []string{"es-CL", "en"} {
		for _, path := range []string{"/", "/alerts", "/branches/TR-001", "/reports?group=service", "/reports?group=executive", "/config", "/config/branches/TR-001", "/admin/users", "/admin/audit?action=auth.login", "/nope"} {
			_, body := e.get(c, path, "Accept-Language", lang)
			assert.Empty(t, key.FindAllString(body, -1), "%s %s", lang, path)
		}
	}
}

func TestAdminUsersAndTokens(t *testing.T) {
	e := newEnv(t)
	e.user("admin@adm.cl", "admin", nil, nil)
	e.user("locked@adm.cl", "viewer", nil, nil)
	ctx := context.Background()
	for range 5 {
		_, _ = e.store.Authenticate(ctx, "locked@adm.cl", "wrong-password")
	}
	_, err := e.store.Authenticate(ctx, "locked@adm.cl", "password-locked@adm.cl")
	require.Error(t, err, "locked")
	c, csrf := e.login("admin@adm.cl")
	users, err := e.store.Users(ctx)
	require.NoError(t, err)
	ids := map[string]int64{}
	for _, u := range users {
		ids[u.Email] = u.ID
	}
	path := func(email, op string) string { return fmt.Sprintf("/admin/users/%d/%s", ids[email], op) }

	res, _ := e.post(c, path("locked@adm.cl", "unlock"), url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	vc, _ := e.login("locked@adm.cl") // unlocked
	res, _ = e.post(c, path("locked@adm.cl", "disable"), url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = e.get(vc, "/")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "disabled: session gone")
	res, _ = e.post(c, path("locked@adm.cl", "enable"), url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, body := e.post(c, path("locked@adm.cl", "password"), url.Values{"csrf": {csrf}, "password": {"short"}})
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Contains(t, body, "al menos 10")
	res, _ = e.post(c, path("admin@adm.cl", "disable"), url.Values{"csrf": {csrf}})
	assert.Equal(t, http.StatusBadRequest, res.StatusCode, "an admin cannot lock himself out")
	res, _ = e.post(c, "/admin/users/999999/unlock", url.Values{"csrf": {csrf}})
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.Len(t, e.audited(cloud.AuditUserChange, "admin@adm.cl"), 3)

	res, body = e.post(c, "/admin/tokens", url.Values{"csrf": {csrf}, "name": {"bi-adm"}, "role": {"viewer"}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	m := regexp.MustCompile(`<code id="new-token">(tkt_[A-Za-z0-9_-]+)</code>`).FindStringSubmatch(body)
	require.NotNil(t, m, "token shown once")
	plain := &http.Client{}
	res, _ = e.get(plain, "/hq/v1/overview", "Authorization", "Bearer "+m[1])
	assert.Equal(t, http.StatusOK, res.StatusCode)
	_, body = e.get(c, "/admin/users")
	assert.NotContains(t, body, m[1], "never shown again")
	rm := regexp.MustCompile(`/admin/tokens/(\d+)/revoke`).FindStringSubmatch(body)
	require.NotNil(t, rm)
	res, _ = e.post(c, "/admin/tokens/"+rm[1]+"/revoke", url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = e.get(plain, "/hq/v1/overview", "Authorization", "Bearer "+m[1])
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "revoked")
}

// A graceful shutdown ends the live streams instead of waiting for them.
func TestShutdownEndsStreams(t *testing.T) {
	e := newEnv(t)
	e.user("sup@shut.cl", "supervisor", []string{"SHUT-NONE"}, nil) // no tiles: see TestLiveOutlivesServerTimeouts
	c, _ := e.login("sup@shut.cl")
	s := e.stream(c)
	require.Eventually(t, func() bool { return e.h.Hub().Clients() == 1 }, 5*time.Second, 10*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	require.NoError(t, e.srv.Config.Shutdown(ctx))
	assert.Less(t, time.Since(start), 2*time.Second)
	for range s.events { // drained: the stream ended
	}
}

// A live stream ends once its user is disabled (or his scope changes).
func TestStreamEndsWhenAccessRevoked(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.RecheckEvery = 100 * time.Millisecond })
	e.user("gone@rev.cl", "supervisor", []string{"REV"}, nil)
	c, _ := e.login("gone@rev.cl")
	s := e.stream(c)
	require.Eventually(t, func() bool { return e.h.Hub().Clients() == 1 }, 5*time.Second, 10*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, 1, e.h.Hub().Clients(), "still allowed: still streaming")
	_, err := e.store.Pool().Exec(context.Background(), `UPDATE hq_users SET regions = '{OTHER}' WHERE email = 'gone@rev.cl'`)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.h.Hub().Clients() == 0 }, 5*time.Second, 20*time.Millisecond)
	for range s.events {
	}
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	x, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err)
	return x
}

// TestLiveTellsCacheVersion: the overview carries the tile cache's version
// and the live stream starts with the version at its connection, equal when
// no tile changed in between (app.js then fetches nothing again) and not
// after a change.
func TestLiveTellsCacheVersion(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.OverviewFromStore = false })
	e.f.Branch("SQ-001", "Versión", "SQ", true)
	e.user("sup@seq.cl", "supervisor", []string{"SQ"}, nil)
	require.Eventually(t, e.h.Hub().CacheReady, 5*time.Second, 10*time.Millisecond)
	e.f.Notify("") // every tile re-read into the cache
	c, _ := e.login("sup@seq.cl")
	var page string
	require.Eventually(t, func() bool {
		_, page = e.get(c, "/")
		return strings.Contains(page, `id="tile-SQ-001"`)
	}, 5*time.Second, 20*time.Millisecond)
	m := regexp.MustCompile(`data-seq="([^"]+)"`).FindStringSubmatch(page)
	require.NotNil(t, m, "the page names the cache's version")
	first := func(s *sse) string {
		t.Helper()
		ev := <-s.events
		require.Equal(t, "seq", ev[0], "the stream starts with the version")
		return ev[1]
	}
	s := e.stream(c)
	assert.Equal(t, m[1], first(s), "nothing changed since the page")

	e.f.Ticket(hqtest.Ticket{Branch: "SQ-001", ID: "sq1", Service: "C", Number: 1, QueuedAt: time.Now()})
	e.f.Notify("SQ-001")
	s.waitTile(t, "SQ-001", `data-waiting="1"`, 10*time.Second)
	assert.NotEqual(t, m[1], first(e.stream(c)), "a tile changed since the page")
}
