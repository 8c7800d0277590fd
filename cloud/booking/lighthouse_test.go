package booking_test

import (
	"testing"

	"github.com/ticketero/ticketero/shared/testkit/chrometest"
)

// TestLighthouseAgenda runs Lighthouse (the thresholds of the branch and HQ
// pages: accessibility 100, performance 90) on the public booking pages a
// customer opens, mostly on a phone: the search page /agenda on a phone and
// on a desktop, and a service's day of slots on a phone. It skips only when
// node is missing.
func TestLighthouseAgenda(t *testing.T) {
	bin := chrometest.NeedLighthouse(t)
	e := newEnv(t, envOpt{})
	out := chrometest.Artifacts(t, "testdata/artifacts")
	for _, p := range []struct{ name, path, preset string }{
		{"agenda-mobile", "/agenda", ""},
		{"agenda", "/agenda", "desktop"},
		{"agenda-slots-mobile", "/agenda/sucursal/SCL-001/C?dia=" + e.tomorrow(), ""},
	} {
		t.Run(p.name, func(t *testing.T) {
			chrometest.Lighthouse(t, bin, out, chrometest.LighthouseRun{Name: p.name, URL: e.srv.URL + p.path, Preset: p.preset})
		})
	}
}
