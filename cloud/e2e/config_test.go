package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/queue"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// hqForms is an admin's browser session on the cloud's HQ web, driven by its
// forms.
type hqForms struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
	// location is the Location of the last answer to a post.
	location string
}

func (e *env) hqAdmin() *hqForms {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	f := &hqForms{t: e.t, base: "http://" + e.cloudAddr, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	_, body := f.get("/login")
	code, _ := f.post("/login", "email", cloud.BootstrapEmail, "password", "e2e-admin-password", "csrf", csrfField.FindStringSubmatch(body)[1])
	require.Equal(e.t, http.StatusSeeOther, code)
	// The bootstrap admin must change his password first.
	_, body = f.get("/account/password")
	m := csrfField.FindStringSubmatch(body)
	require.NotNil(e.t, m, "no csrf on the password page: %s", body)
	f.csrf = m[1]
	code, body = f.post("/account/password", "current", "e2e-admin-password", "new", "e2e-admin-password-2", "confirm", "e2e-admin-password-2")
	require.Equal(e.t, http.StatusOK, code, body)
	_, body = f.get("/config")
	m = csrfField.FindStringSubmatch(body)
	require.NotNil(e.t, m, "no csrf on /config: %s", body)
	f.csrf = m[1]
	return f
}

func (f *hqForms) get(path string) (int, string) {
	f.t.Helper()
	res, err := f.c.Get(f.base + path)
	require.NoError(f.t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (f *hqForms) post(path string, kv ...string) (int, string) {
	f.t.Helper()
	v := url.Values{}
	if f.csrf != "" {
		v.Set("csrf", f.csrf)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	req, _ := http.NewRequest(http.MethodPost, f.base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", f.base)
	res, err := f.c.Do(req)
	require.NoError(f.t, err)
	defer res.Body.Close()
	f.location = res.Header.Get("Location")
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestConfigOwnershipEndToEnd runs the real agent, broker and cloud. A branch
// set up locally (seeded services, an executive added with the admin
// command) is imported into HQ's draft on first contact, without PINs; HQ's
// review shows nothing to change but the hours HQ would give it; with
// people waiting for Caja, a draft without Caja is refused naming it; HQ names the branch and publishes; the
// branch applies it, keeps its executive's PIN, and its TV, kiosk and
// printed ticket show HQ's name and region.
func TestConfigOwnershipEndToEnd(t *testing.T) {
	parallel(t)
	e := newEnv(t, "E2E-CFG")
	e.setenv("TICKETERO_CONFIG_REPORT", "1s")
	e.startCloud()
	e.startAgent()
	ctx := context.Background()

	// First contact: the branch's setup lands in HQ's draft.
	count := func(q string) int {
		var n int
		require.NoError(t, e.db.QueryRow(ctx, q, e.branch).Scan(&n))
		return n
	}
	require.Eventually(t, func() bool {
		return count(`SELECT count(*) FROM hq_executives WHERE branch = $1 AND id = 'E01' AND services = '{C,P}' AND pin_hash = ''`) == 1 &&
			count(`SELECT count(*) FROM hq_services WHERE branch = $1`) == len(queue.DefaultServices())
	}, 60*time.Second, 100*time.Millisecond, "not imported: %s", e.agent.output())
	assert.Equal(t, 6, count(`SELECT count(*) FROM hq_counters WHERE branch = $1`), "the agent's 6 counters")

	hqf := e.hqAdmin()
	code, body := hqf.get("/config/branches/" + e.branch + "/publish")
	require.Equal(t, http.StatusOK, code)
	// Nothing to change in services, counters or executives; the hours are
	// a change: the branch runs none (open all day) and HQ's draft has its
	// default, which would close the kiosk outside them at once.
	assert.Contains(t, body, `<tr class="diff-changed" id="diff-hours"><td>Horario de atención</td><td></td><td>cambia</td><td>sin horario (abierta todo el día)</td><td>09:00-14:00</td></tr>`)
	assert.NotContains(t, body, `class="diff-added"`)
	assert.NotContains(t, body, `class="diff-removed"`)
	assert.Contains(t, body, "Configuración importada de la sucursal")
	_, body = hqf.get("/config/branches/" + e.branch)
	assert.Contains(t, body, "<td>E01</td><td>Ana Pérez</td><td>C, P</td><td>se define en la sucursal", "the imported executive's PIN stays the branch's")

	// Three people wait for Caja (HQ's projection knows them).
	for range 3 {
		e.issueOne("C")
	}
	require.Eventually(t, func() bool {
		return count(`SELECT count(*) FROM tickets WHERE branch = $1 AND service = 'C' AND status = 'waiting'`) == 3
	}, 30*time.Second, 50*time.Millisecond)

	// A draft without Caja is refused, naming it; nothing is published.
	code, _ = hqf.post("/config/branches/" + e.branch + "/services/C/delete")
	require.Equal(t, http.StatusSeeOther, code)
	code, body = hqf.post("/config/branches/"+e.branch+"/publish", "confirm", "1")
	assert.Equal(t, http.StatusConflict, code)
	assert.Contains(t, body, "quita el servicio C (Caja), con 3 en espera")
	assert.Zero(t, count(`SELECT count(*) FROM hq_branch_configs WHERE branch = $1`))

	// Caja back (E01 serves it again), the branch named: published.
	code, _ = hqf.post("/config/branches/"+e.branch+"/services", "code", "C", "name", "Caja", "target_min", "10", "mean_min", "5", "priority", "1")
	require.Equal(t, http.StatusSeeOther, code)
	code, _ = hqf.post("/config/branches/"+e.branch+"/executives", "id", "E01", "name", "Ana Pérez", "services", "C,P")
	require.Equal(t, http.StatusSeeOther, code)
	code, _ = hqf.post("/config/branches", "from", "branch", "id", e.branch, "name", "Centro Extremo", "region", "RM",
		"time_zone", "America/Santiago", "opening_hours", "00:00-23:59")
	require.Equal(t, http.StatusSeeOther, code)
	code, body = hqf.post("/config/branches/"+e.branch+"/publish", "confirm", "1")
	require.Equal(t, http.StatusSeeOther, code, body)

	var b struct {
		Name   string `json:"name"`
		Region string `json:"region"`
	}
	require.Eventually(t, func() bool {
		_, err := e.do("GET", "/api/v1/branch", "", nil, &b)
		return err == nil && b.Name == "Centro Extremo"
	}, 30*time.Second, 50*time.Millisecond, "config not applied: %s", e.agent.output())
	assert.Equal(t, "RM", b.Region)
	e.login() // E01's PIN from the branch still works: none travelled
	require.NotEmpty(t, e.token)

	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Skip("chromium not found at /usr/bin/chromium")
	}
	actx, cancelA := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath("/usr/bin/chromium"), chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("accept-lang", "es-CL,es"))
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	sctx, cancel := context.WithTimeout(bctx, 30*time.Second)
	defer cancel()
	for _, page := range []string{"/display", "/kiosk"} {
		require.NoError(t, chromedp.Do(sctx, chromedp.Navigate(e.api+page),
			chromedp.WaitReady(chromedp.Search(`//*[@id="branch-name" and text()="Centro Extremo · RM"]`))), page)
	}
	// The printed ticket names the branch too.
	require.NoError(t, chromedp.Do(sctx,
		chromedp.Click(chromedp.CSS(`button[data-service="C"]`)),
		chromedp.Click(chromedp.ID("rut-skip")),
		chromedp.Click(chromedp.ID("priority-normal")),
		chromedp.WaitVisible(chromedp.ID("result-number"))))
	printed, err := chromedp.Run(sctx, chromedp.Evaluate[string](`document.getElementById('pt-branch').textContent`))
	require.NoError(t, err)
	assert.Equal(t, "Sucursal Centro Extremo · RM", printed)
}
