package web_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
	"github.com/ticketero/ticketero/cloud/web"
	"github.com/ticketero/ticketero/shared/testkit/chrometest"
)

var chromium = chrometest.Chromium()

// newBrowser starts Debian's chromium headless with a fresh profile; its
// context ends after a minute (ten for a benchmark).
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	timeout := time.Minute
	if _, ok := t.(*testing.B); ok {
		timeout = 10 * time.Minute // a benchmark loads its pages b.N times
	}
	return newBrowserFor(t, timeout)
}

// newBrowserFor is newBrowser with the given deadline.
func newBrowserFor(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium not found at %s", chromium)
		}
		t.Skipf("chromium not found at %s", chromium)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.Flag("lang", "es-CL"),
		chromedp.Flag("accept-lang", "es-CL,es"),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	require.NoError(t, chromedp.Do(ctx)) // start the browser without a deadline
	ctx, cancelT := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancelT)
	return ctx
}

// TestBrowser signs in with chromium, sees a tile change live when a ticket is
// issued (the ingest's rows and NOTIFY written by the fixture), opens a
// report, exports its CSV and is refused a branch outside the supervisor's
// scope.
func TestBrowser(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.SecureCookies = true }) // chromium keeps Secure cookies on http://127.0.0.1
	e.f.Branch("BR-001", "Browser", "BRA", true)
	e.f.Branch("BX-001", "Fuera", "BRX", true)
	e.user("sup@browser.cl", "supervisor", []string{"BRA"}, nil)
	require.Eventually(t, e.h.Hub().Connected, 5*time.Second, 10*time.Millisecond)
	ctx := newBrowser(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	step := func(name string, a ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, a...); err != nil {
			html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.documentElement.outerHTML`))
			t.Fatalf("%s: %v\n%s", name, err, html)
		}
	}
	step("sign in",
		chromedp.Navigate(e.srv.URL+"/"),
		chromedp.WaitVisible(css(`#email`)),
		chromedp.SendKeys(css(`#email`), "sup@browser.cl"),
		chromedp.SendKeys(css(`#password`), "password-sup@browser.cl"),
		chromedp.Click(css(`#signin`)),
		chromedp.WaitVisible(css(`#tile-BR-001[data-waiting="0"]`)))
	step("live", chromedp.WaitReady(css(`body[data-live="on"]`)))
	title, err := chromedp.Run(ctx, chromedp.Text(css(`h1`)))
	require.NoError(t, err)
	assert.Contains(t, title, "Panel nacional")
	others, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#tile-BX-001").length`))
	require.NoError(t, err)
	assert.Zero(t, others, "no tile outside scope")

	// A ticket is issued at the branch: the ingest commits and notifies.
	start := time.Now()
	e.f.Ticket(hqtest.Ticket{Branch: "BR-001", ID: "br1", Service: "C", Number: 1, QueuedAt: time.Now()})
	e.f.Notify("BR-001")
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(wctx, chromedp.WaitVisible(css(`#tile-BR-001[data-waiting="1"]`))))
	t.Logf("ticket issued → tile changed in the browser: %v", time.Since(start))
	// The national and regional totals follow the tiles (their own event,
	// right after the tile's: it may reach the page a moment later).
	var totals []string
	assert.Eventually(t, func() bool {
		totals, err = chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#totals tbody tr td[data-k=waiting]")].map(td => td.textContent)`))
		return err == nil && slices.Equal(totals, []string{"1", "1"})
	}, 5*time.Second, 20*time.Millisecond, "national and the supervisor's region: %v", totals)

	day := time.Now().In(mustLoc(t)).Format(time.DateOnly)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/reports?from="+day),
		chromedp.WaitVisible(css(`#report-summary`)),
	))
	summary, err := chromedp.Run(ctx, chromedp.Text(css(`#report-summary`)))
	require.NoError(t, err)
	assert.Contains(t, summary, "BR-001")
	assert.NotContains(t, summary, "BX-001")
	csv, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`fetch(document.getElementById("csv-summary").href, {credentials: "same-origin"}).then(r => r.text())`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	// fetch's text() drops the byte order mark; columns split by ';' (es-CL Excel).
	assert.True(t, strings.HasPrefix(csv, "Sucursal;Emitidos;Atendidos"), csv)
	assert.Contains(t, csv, "\nBR-001;1;0;")

	// The branch view: find a number and filter by status with the page's own
	// form (a search box and lists, not free text).
	e.f.Ticket(hqtest.Ticket{Branch: "BR-001", ID: "br2", Service: "C", Number: 2, QueuedAt: time.Now()})
	step("branch search",
		chromedp.Navigate(e.srv.URL+"/branches/BR-001"),
		chromedp.WaitVisible(css(`#ticket-search`)),
		chromedp.SendKeys(css(`#ticket-search`), "c-2"),
		chromedp.SetValue(css(`#ticket-status`), "waiting"),
		chromedp.Click(css(`#ticket-filters button`)),
		chromedp.WaitReady(css(`#ticket-status option[value="waiting"][selected]`)))
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("td.number")].map(td => td.textContent)`))
	require.NoError(t, err)
	assert.Equal(t, []string{"C-002"}, found)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/branches/BX-001"),
		chromedp.WaitVisible(css(`p.error`)),
	))
	refused, err := chromedp.Run(ctx, chromedp.Text(css(`p.error`)))
	require.NoError(t, err)
	assert.Contains(t, refused, "No tiene acceso a la sucursal BX-001")
	assert.NotEmpty(t, e.audited("access.denied", "sup@browser.cl"))
	assert.NotEmpty(t, e.audited("export", "sup@browser.cl"))
}
