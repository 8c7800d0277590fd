package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/appt"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
	"github.com/ticketero/ticketero/cloud/web"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/testkit/chrometest"
)

// a11yHQ is an HQ with data on every page: two regions, a branch with a
// busy day (waiting, served and abandoned tickets, executives at counters,
// feedback, an outcome, an open and an acknowledged alert, a booking for
// tomorrow), another branch offline, a template with a staged rollout, a
// holiday, an API token, and an admin and a supervisor of the first region.
type a11yHQ struct {
	*env
	b1, b2     string // the busy branch and the offline one
	name       string // of the regions
	admin, sup string
	template   int64
	rollout    string
	tomorrow   string
	today      string
	// liveMu serializes checkLive (each reads the tile's count, issues one
	// ticket and waits for count+1); live counts the tickets it issued.
	liveMu sync.Mutex
	live   int
}

// Its rows stay in the package's database, so each test names its own:
// branches <prefix>-001 and -002, regions "<name> Norte" and "<name> Sur",
// users admin@<prefix>.cl and sup@<prefix>.cl.
func newA11yHQ(t *testing.T, prefix, name string) *a11yHQ {
	t.Helper()
	book := appt.New(hqtest.MustPool(t, dsn), nil)
	e := newEnv(t, func(c *web.Config) {
		c.SecureCookies = true
		c.Appointments = book
		// Every variant of TestBrowserA11y signs in twice (the refused
		// state, then the sign-in), several at once: from one address
		// that is more than the default burst of 10 a minute.
		c.LoginsPerMinute = 60
	})
	ctx := context.Background()
	dom := strings.ToLower(prefix)
	h := &a11yHQ{env: e, b1: prefix + "-001", b2: prefix + "-002", name: name, admin: "admin@" + dom + ".cl", sup: "sup@" + dom + ".cl"}
	north, south := name+" Norte", name+" Sur"
	now := time.Now().In(scl)
	h.today = now.Format(time.DateOnly)
	tomorrow := now.AddDate(0, 0, 1)
	h.tomorrow = tomorrow.Format(time.DateOnly)
	for _, b := range []cloud.BranchInput{
		{ID: h.b1, Name: name + " Centro", Region: north, TimeZone: "America/Santiago", OpeningHours: "08:00-20:00"},
		{ID: h.b2, Name: name + " Puerto", Region: south, TimeZone: "America/Santiago", OpeningHours: "09:00-14:00"},
	} {
		require.NoError(t, e.store.PutBranch(ctx, b))
		for i, s := range []queue.Service{{Code: "C", Name: "Caja", TargetWaitS: 600, MeanServiceS: 300, Priority: 1},
			{Code: "P", Name: "Plataforma", TargetWaitS: 900, MeanServiceS: 600, Priority: 2}} {
			require.NoError(t, e.store.PutService(ctx, b.ID, s))
			require.NoError(t, e.store.PutCounter(ctx, b.ID, queue.Counter{Number: i + 1, Name: fmt.Sprintf("Módulo %d", i+1)}))
		}
		require.NoError(t, e.store.PutExecutive(ctx, b.ID, queue.Executive{ID: "E01", Name: "Ana Pérez", Services: []string{"C", "P"}}, "240681"))
	}
	e.f.Branch(h.b1, name+" Centro", north, true)
	e.f.Branch(h.b2, name+" Puerto", south, false)
	e.f.Sync(h.b2, false, 12, now.Add(-20*time.Minute))
	at := func(min int) *time.Time { v := now.Add(time.Duration(min) * time.Minute); return &v }
	for i := range 14 {
		tk := hqtest.Ticket{Branch: h.b1, ID: fmt.Sprintf("%s%d", dom, i), Service: []string{"C", "P"}[i%2], Number: i + 1, QueuedAt: *at(-90 + 5*i)}
		switch {
		case i < 6:
			tk.Status, tk.Counter, tk.Executive = "completed", 1, "E01"
			tk.CalledAt, tk.StartedAt, tk.EndedAt = at(-80+5*i), at(-79+5*i), at(-75+5*i)
		case i == 6:
			tk.Status, tk.CalledAt = "no_show", at(-50)
		case i == 7:
			tk.Status, tk.Counter, tk.Executive, tk.CalledAt, tk.StartedAt = "serving", 2, "E02", at(-5), at(-4)
		}
		e.f.Ticket(tk)
	}
	e.f.Executive(h.b1, "E01", "Ana Pérez", 1, "available", now.Add(-time.Hour))
	e.f.Executive(h.b1, "E02", "Luis Soto", 2, "serving", now.Add(-5*time.Minute))
	for i, a := range []struct {
		csat, nps int
		comment   string
	}{{5, 10, "Muy buena atención"}, {2, 3, "Esperé demasiado"}, {4, 8, ""}} {
		_, err := e.f.Pool.Exec(ctx, `INSERT INTO feedback (branch, ticket, channel, day, service, executive, wait_s, csat, nps,
			comment, expires_at, answered_at) VALUES ($1, $2, 'telegram', $3, 'C', 'E01', $4, $5, $6, $7, now() + interval '1 day', now())`,
			h.b1, fmt.Sprintf("%s%d", dom, i), h.today, 300*(i+1), a.csat, a.nps, a.comment)
		require.NoError(t, err)
	}
	_, err := e.f.Pool.Exec(ctx, `INSERT INTO hq_alerts (branch, kind, value, raised_at, seen_at) VALUES ($1, $3, 1200, now() - interval '20 minutes', now()),
		($2, $4, 900, now() - interval '10 minutes', now())`, h.b2, h.b1, cloud.AlertOffline, cloud.AlertWaitOver)
	require.NoError(t, err)
	_, err = e.f.Pool.Exec(ctx, `UPDATE hq_alerts SET acked_at = now(), acked_by = $1 WHERE branch = $2 AND cleared_at IS NULL`, h.admin, h.b1)
	require.NoError(t, err)
	require.NoError(t, e.store.PutOutcome(ctx, queue.Outcome{Code: dom + "-deposit", Name: "Depósito"}))
	require.NoError(t, e.store.PutHoliday(ctx, event.Holiday{Date: fmt.Sprintf("%d-12-24", now.Year()), Name: "Nochebuena " + name}, h.admin))
	t.Cleanup(func() {
		_, _ = e.f.Pool.Exec(ctx, `DELETE FROM hq_outcomes WHERE code = $1`, dom+"-deposit")
		_, _ = e.f.Pool.Exec(ctx, `DELETE FROM hq_holidays WHERE name = $1`, "Nochebuena "+name)
		// The refused sign-ins of the form's error state: other tests of
		// the package count the audit's login refusals.
		_, err := e.f.Pool.Exec(ctx, `DELETE FROM hq_audit WHERE action = $1 AND actor IN ($2, $3)`,
			cloud.AuditLoginFailed, h.admin, h.sup)
		if err != nil {
			t.Errorf("remove the refused sign-ins: %v", err)
		}
	})
	e.user(h.admin, "admin", nil, nil)
	e.user(h.sup, "supervisor", []string{north}, nil)
	_, err = e.store.CreateToken(ctx, "bi-"+dom, cloud.RoleViewer, []string{north}, nil)
	require.NoError(t, err)

	// The rest as the admin does it, through the forms: a booking schedule
	// and a booking, a template published to its first stage.
	c, csrf := e.login(h.admin)
	form := url.Values{"csrf": {csrf}, "slot_min": {"30"}, "reserve_pct": {"30"}, "horizon_days": {"14"},
		"hours_" + cloud.WeekdayKey(tomorrow.Weekday()): {"09:00-13:00"}, "executives_" + cloud.WeekdayKey(tomorrow.Weekday()): {"2"}}
	res, body := e.post(c, "/config/branches/"+h.b1+"/appointments/C", form)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	slots, err := book.Slots(ctx, h.b1, "C", h.tomorrow)
	require.NoError(t, err)
	require.NotEmpty(t, slots)
	_, err = book.Book(ctx, cloud.BookRequest{Branch: h.b1, Service: "C", Start: slots[0].Start, RUT: "12345678-5", Channel: "web", Note: "Renovar tarjeta"})
	require.NoError(t, err)
	res, body = e.post(c, "/config/templates", url.Values{"csrf": {csrf}, "name": {"Red " + name}, "target_kind": {"branches"},
		"target_branches": {h.b1 + ", " + h.b2}, "manage_services": {"1"}, "services": {"C | Caja | 10 | 4 | 1\nP | Plataforma | 15 | 10 | 2"},
		"manage_hours": {"1"}, "opening_hours": {"09:00-15:00"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	loc := res.Header.Get("Location")
	_, err = fmt.Sscanf(loc, "/config/templates/%d", &h.template)
	require.NoError(t, err, loc)
	res, body = e.post(c, fmt.Sprintf("/config/templates/%d/publish", h.template), url.Values{"csrf": {csrf}, "first_n": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	h.rollout = res.Header.Get("Location")
	return h
}

// a11yPage is one page, or one state of a page, to check.
type a11yPage struct {
	name, path string
	// bad, when set, submits the form it selects with the values (HTML's own
	// validation off, as a crafted or old browser would) and checks the page
	// that shows the server's error.
	bad    string
	values map[string]string
}

func (h *a11yHQ) adminPages() []a11yPage {
	tpl := fmt.Sprintf("/config/templates/%d", h.template)
	return []a11yPage{
		{name: "overview", path: "/"},
		{name: "overview filtered", path: "/?sort=waiting&region=" + url.QueryEscape(h.name+" Norte") + "&q=" + url.QueryEscape(h.name)},
		{name: "branch", path: "/branches/" + h.b1},
		{name: "branch offline", path: "/branches/" + h.b2},
		{name: "book", path: "/branches/" + h.b1 + "/book?day=" + h.tomorrow},
		{name: "reports", path: "/reports?from=" + h.today},
		{name: "reports by executive", path: "/reports?group=executive&from=" + h.today},
		{name: "appointment report", path: "/reports/appointments?from=" + h.today + "&to=" + h.tomorrow},
		{name: "feedback", path: "/feedback?from=" + h.today},
		{name: "feedback comments", path: "/feedback?comments=1&from=" + h.today},
		{name: "config", path: "/config"},
		{name: "config branch", path: "/config/branches/" + h.b1},
		{name: "publish review", path: "/config/branches/" + h.b1 + "/publish"},
		{name: "hours", path: "/config/branches/" + h.b1 + "/hours"},
		{name: "schedules", path: "/config/branches/" + h.b1 + "/appointments"},
		{name: "holidays", path: "/config/holidays"},
		{name: "outcomes", path: "/config/outcomes"},
		{name: "templates", path: "/config/templates"},
		{name: "template", path: tpl},
		{name: "template preview", path: tpl + "/preview"},
		{name: "rollout", path: h.rollout},
		{name: "versions", path: "/config/versions"},
		{name: "users and tokens", path: "/admin/users"},
		{name: "audit", path: "/admin/audit"},
		{name: "agents", path: "/admin/agents"},
		{name: "password", path: "/account/password"},
		{name: "not found", path: "/no-such-page"},
		// The forms' error states.
		{name: "new branch refused", path: "/config", bad: `form[action="/config/branches"]`,
			values: map[string]string{"id": h.b1[:2] + "-009", "name": "Otra", "time_zone": "Marte/Olimpo"}},
		{name: "service refused", path: "/config/branches/" + h.b1, bad: `form[action="/config/branches/` + h.b1 + `/services"]`,
			values: map[string]string{"code": "?", "name": "Mala", "target_min": "0"}},
		{name: "hours refused", path: "/config/branches/" + h.b1 + "/hours", bad: `#hours-form`,
			values: map[string]string{"close_grace_min": "9999"}},
		{name: "schedule refused", path: "/config/branches/" + h.b1 + "/appointments", bad: `#schedule-C form`,
			values: map[string]string{"slot_min": "1"}},
		{name: "outcome refused", path: "/config/outcomes", bad: `#outcome-form`, values: map[string]string{"code": "Depósito", "name": "Depósito"}},
		{name: "template refused", path: "/config/templates", bad: `#template-new`,
			values: map[string]string{"name": "Red " + h.name, "target_kind": "region", "target_value": h.name + " Norte"}},
		{name: "publish refused", path: tpl + "/preview", bad: `#publish-form`, values: map[string]string{"first_n": "-3"}},
		{name: "user refused", path: "/admin/users", bad: `form[action="/admin/users"]`,
			values: map[string]string{"email": h.sup, "password": "una-clave-larga", "role": "viewer"}},
		{name: "password refused", path: "/account/password", bad: `form[action="/account/password"]`,
			values: map[string]string{"current": "mala", "new": "una-clave-larga", "confirm": "otra-clave-larga"}},
	}
}

func (h *a11yHQ) supervisorPages() []a11yPage {
	return []a11yPage{
		{name: "overview", path: "/"},
		{name: "branch", path: "/branches/" + h.b1},
		{name: "branch out of scope", path: "/branches/" + h.b2},
		{name: "book", path: "/branches/" + h.b1 + "/book?day=" + h.tomorrow},
		{name: "reports", path: "/reports?from=" + h.today},
		{name: "appointment report", path: "/reports/appointments?from=" + h.today + "&to=" + h.tomorrow},
		{name: "feedback comments", path: "/feedback?comments=1&from=" + h.today},
		{name: "book cancel refused", path: "/branches/" + h.b1 + "/book?day=" + h.tomorrow, bad: `#book form`, values: map[string]string{"reason": " "}},
	}
}

// a11yBrowser starts chromium at w×h and signs email in; before that it
// checks the sign-in page and its error state.
func (h *a11yHQ) a11yBrowser(t *testing.T, email string, w, ht int64, lang string) (context.Context, func(string, ...chromedp.Action[chromedp.Void])) {
	t.Helper()
	ctx := newBrowserFor(t, 5*time.Minute)
	step := stepper(t, ctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	step("sign-in page", chromedp.EmulateViewport(w, ht), chromedp.Navigate(h.srv.URL+"/login"))
	if lang != "" {
		step("language", chromedp.Navigate(h.srv.URL+"/lang?lang="+lang+"&next=/login"))
	}
	step("sign-in form", chromedp.WaitVisible(css(`#email`)))
	chrometest.Check(t, ctx, "sign-in", chrometest.All...)
	step("wrong password",
		chromedp.SendKeys(css(`#email`), email),
		chromedp.SendKeys(css(`#password`), "no-es-la-clave"),
		chromedp.Click(css(`#signin`)),
		chromedp.WaitVisible(css(`p.error`)))
	chrometest.Check(t, ctx, "sign-in refused", chrometest.All...)
	step("sign in",
		chromedp.SetValue(css(`#email`), email),
		chromedp.SendKeys(css(`#password`), "password-"+email),
		chromedp.Click(css(`#signin`)),
		chromedp.WaitVisible(css(`header nav`)))
	return ctx, step
}

// checkPages opens each page (and error state) in the tab and runs the
// shared accessibility checks on it.
func checkPages(t *testing.T, ctx context.Context, step func(string, ...chromedp.Action[chromedp.Void]), base string, pages []a11yPage) {
	t.Helper()
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	for _, p := range pages {
		step(p.name, chromedp.Navigate(base+p.path), chromedp.WaitVisible(css(`main`)))
		if p.bad != "" {
			vals, err := json.Marshal(p.values)
			require.NoError(t, err)
			step(p.name+": submit", chromedp.WaitVisible(css(p.bad)), chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
  const f = document.querySelector(%q), v = %s;
  for (const [k, x] of Object.entries(v)) f.elements[k].value = x;
  f.noValidate = true;
  f.requestSubmit();
})()`, p.bad, vals)), chromedp.WaitVisible(css(`main p.error`)))
		}
		chrometest.Check(t, ctx, p.name, chrometest.All...)
	}
}

// TestBrowserA11y opens every HQ page reachable from the navigation, and the
// forms' error states, in chromium at 1280×800 and on a 390×844 phone, as an
// admin (in Spanish and in English) and as a supervisor, and holds each to
// the checks of the branch pages (shared/testkit/chrometest), more strictly:
// no axe-core finding of any impact (minor and moderate too), no text below
// WCAG AA contrast, no unnamed control. The variants run in parallel (go
// test's -parallel at a time), each its own chromium on the same HQ: they
// only read it, but for checkLive's ticket, one variant at a time.
func TestBrowserA11y(t *testing.T) {
	h := newA11yHQ(t, "AX", "Accesible")
	for _, v := range []struct {
		name  string
		w, h  int64
		email string
		lang  string
		pages []a11yPage
	}{
		{"admin 1280", 1280, 800, h.admin, "", h.adminPages()},
		{"admin 390", 390, 844, h.admin, "", h.adminPages()},
		{"admin en 1280", 1280, 800, h.admin, "en", h.adminPages()},
		{"supervisor 1280", 1280, 800, h.sup, "", h.supervisorPages()},
		{"supervisor 390", 390, 844, h.sup, "", h.supervisorPages()},
	} {
		t.Run(strings.ReplaceAll(v.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			ctx, step := h.a11yBrowser(t, v.email, v.w, v.h, v.lang)
			checkPages(t, ctx, step, h.srv.URL, v.pages)
			h.checkLive(t, ctx, step)
			t.Logf("%d pages and states in %v", len(v.pages)+2, time.Since(start).Round(time.Millisecond))
		})
	}
}

// checkLive opens the overview, waits for its live stream, issues a ticket at
// the busy branch and checks the page once the stream has replaced the tile
// (the tiles and alerts app.js swaps in are the server's HTML too).
func (h *a11yHQ) checkLive(t *testing.T, ctx context.Context, step func(string, ...chromedp.Action[chromedp.Void])) {
	t.Helper()
	h.liveMu.Lock()
	defer h.liveMu.Unlock()
	tile := `#tile-` + h.b1
	step("overview live", chromedp.Navigate(h.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`body[data-live="on"] `+tile)))
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`Number(document.querySelector("`+tile+`").dataset.waiting)`))
	require.NoError(t, err)
	h.live++
	h.f.Ticket(hqtest.Ticket{Branch: h.b1, ID: fmt.Sprintf("live%d", h.live), Service: "C", Number: 100 + h.live, QueuedAt: time.Now()})
	h.f.Notify(h.b1)
	step("tile updated", chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`%s[data-waiting="%d"]`, tile, n+1))))
	chrometest.Check(t, ctx, "overview after a live update", chrometest.All...)
}
