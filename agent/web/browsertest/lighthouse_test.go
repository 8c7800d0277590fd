package browsertest

import (
	"testing"

	"github.com/ticketero/ticketero/shared/testkit/chrometest"
)

// TestLighthouse runs Lighthouse once per branch page against the real
// agent with a busy queue (120 waiting, calls on the board, an executive
// signed in) and holds the scores to the thresholds. It skips only when node
// is not installed.
func TestLighthouse(t *testing.T) {
	bin := chrometest.NeedLighthouse(t)
	data := t.TempDir()
	agentCLI(t, "executive", "add", "--data", data, "--id", "E01", "--name", "Ana Pérez", "--pin", "240681", "--services", "C,P")
	ag := startAgent(t, data, "127.0.0.1:0")
	var sess struct {
		Token string `json:"token"`
	}
	call(t, ag, "POST", "/sessions", "", map[string]any{"executive": "E01", "pin": "240681", "counter": 1}, &sess)
	for i := range 120 {
		call(t, ag, "POST", "/tickets", "", map[string]any{"service": []string{"C", "P", "E", "G"}[i%4]}, nil)
	}
	call(t, ag, "POST", "/counters/1/call-next", sess.Token, nil, nil)

	out := artifacts(t)
	for _, p := range []struct{ name, path, preset string }{
		{"kiosk", "/kiosk", "desktop"},
		{"terminal", "/terminal", "desktop"},
		{"display", "/display", "desktop"},
		{"branch", "/branch", "desktop"},
		{"branch-mobile", "/branch", ""},
	} {
		t.Run(p.name, func(t *testing.T) {
			chrometest.Lighthouse(t, bin, out, chrometest.LighthouseRun{Name: p.name, URL: ag.URL() + p.path, Preset: p.preset})
		})
	}
}
