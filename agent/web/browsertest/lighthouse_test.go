package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Lighthouse thresholds of the branch pages (issue 15): accessibility 100
// and performance at least 90, desktop preset on every page and the mobile
// default on the manager's page, which he opens on his phone.
const (
	lighthouseA11y = 1.0
	lighthousePerf = 0.90
)

// lighthouseBin is the Lighthouse that scripts/dev-services.sh installs from
// scripts/lighthouse/package-lock.json into .dev/node (or
// $TICKETERO_LIGHTHOUSE).
func lighthouseBin() (string, error) {
	if p := os.Getenv("TICKETERO_LIGHTHOUSE"); p != "" {
		return p, nil
	}
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		return "", err
	}
	dev := os.Getenv("TICKETERO_DEV_DIR")
	if dev == "" {
		dev = filepath.Join(root, ".dev")
	}
	return filepath.Join(dev, "node", "node_modules", ".bin", "lighthouse"), nil
}

type lighthouseReport struct {
	Categories map[string]struct {
		Score *float64 `json:"score"`
	} `json:"categories"`
	Audits map[string]struct {
		Score        *float64 `json:"score"`
		Title        string   `json:"title"`
		DisplayValue string   `json:"displayValue"`
	} `json:"audits"`
}

// TestLighthouse runs Lighthouse once per branch page against the real
// agent with a busy queue (120 waiting, calls on the board, an executive
// signed in) and holds the scores to the thresholds. It skips only when node
// is not installed.
func TestLighthouse(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not found: Lighthouse needs Node.js 20 (apt-get install nodejs npm; then make dev-services installs Lighthouse)")
	}
	bin, err := lighthouseBin()
	require.NoError(t, err)
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("Lighthouse not installed at %s: run `make dev-services` (npm ci of scripts/lighthouse/package-lock.json into .dev/node)", bin)
	}
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
			report := filepath.Join(out, "lighthouse-"+p.name+".json")
			args := []string{ag.URL() + p.path, "--quiet", "--output=json", "--output-path=" + report,
				"--only-categories=performance,accessibility",
				`--chrome-flags=--headless=new --no-sandbox --disable-gpu --lang=es-CL`}
			if p.preset != "" {
				args = append(args, "--preset="+p.preset)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, args...)
			cmd.Env = append(os.Environ(), "CHROME_PATH="+chromiumPath)
			start := time.Now()
			b, err := cmd.CombinedOutput()
			require.NoError(t, err, "lighthouse %s:\n%s", p.path, b)
			raw, err := os.ReadFile(report)
			require.NoError(t, err)
			var r lighthouseReport
			require.NoError(t, json.Unmarshal(raw, &r))
			score := func(c string) float64 {
				s := r.Categories[c].Score
				require.NotNil(t, s, "%s: no %s score", p.path, c)
				return *s
			}
			a11y, perf := score("accessibility"), score("performance")
			t.Logf("lighthouse %s (%s): performance %.0f, accessibility %.0f, CLS %s, LCP %s, TBT %s (%.0f s)", p.path,
				map[string]string{"": "mobile", "desktop": "desktop"}[p.preset], perf*100, a11y*100,
				r.Audits["cumulative-layout-shift"].DisplayValue, r.Audits["largest-contentful-paint"].DisplayValue,
				r.Audits["total-blocking-time"].DisplayValue, time.Since(start).Seconds())
			assert.GreaterOrEqual(t, a11y, lighthouseA11y, "%s accessibility; failing audits: %s", p.path, failing(r))
			assert.GreaterOrEqual(t, perf, lighthousePerf, "%s performance; failing audits: %s", p.path, failing(r))
		})
	}
}

// failing lists the audits of a report that scored below 0.9.
func failing(r lighthouseReport) string {
	var out []string
	for id, a := range r.Audits {
		if a.Score != nil && *a.Score < 0.9 {
			out = append(out, fmt.Sprintf("%s (%s %s)", id, a.Title, a.DisplayValue))
		}
	}
	return strings.Join(out, "; ")
}
