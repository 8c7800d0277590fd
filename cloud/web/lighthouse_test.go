package web_test

import (
	"net/url"
	"testing"

	"github.com/ticketero/ticketero/shared/testkit/chrometest"
)

// TestLighthouseHQ runs Lighthouse (as the branch pages' TestLighthouse does,
// same thresholds: accessibility 100, performance 90) on the HQ pages people
// open most, signed in as the admin, with the data of TestBrowserA11y: the
// overview and a branch's view with the desktop preset and on a phone
// (Lighthouse's mobile default: supervisors look at them on the move), and
// the report with the desktop preset. It skips only when node is missing.
func TestLighthouseHQ(t *testing.T) {
	bin := chrometest.NeedLighthouse(t)
	h := newA11yHQ(t, "LH", "Faro")
	c, _ := h.login(h.admin)
	base, err := url.Parse(h.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	cookie := ""
	for _, k := range c.Jar.Cookies(base) {
		if cookie != "" {
			cookie += "; "
		}
		cookie += k.Name + "=" + k.Value
	}
	if cookie == "" {
		t.Fatal("no session cookie after signing in")
	}
	out := chrometest.Artifacts(t, "testdata/artifacts")
	for _, p := range []struct{ name, path, preset string }{
		{"hq-overview", "/", "desktop"},
		{"hq-overview-mobile", "/", ""},
		{"hq-branch", "/branches/" + h.b1, "desktop"},
		{"hq-branch-mobile", "/branches/" + h.b1, ""},
		{"hq-reports", "/reports?from=" + h.today, "desktop"},
	} {
		t.Run(p.name, func(t *testing.T) {
			chrometest.Lighthouse(t, bin, out, chrometest.LighthouseRun{Name: p.name, URL: h.srv.URL + p.path, Preset: p.preset,
				Header: map[string]string{"Cookie": cookie}})
		})
	}
}
