// Package chrometest holds the accessibility and performance checks that the
// browser tests of the branch pages (agent/web/browsertest), the HQ web
// (cloud/web) and the public booking pages (cloud/booking) share: axe-core
// (AXE.md), WCAG AA contrast, unnamed controls, and Lighthouse as
// scripts/dev-services.sh installs it. Only tests import it.
package chrometest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	cd "github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Chromium is Debian's chromium, or $TICKETERO_CHROMIUM.
func Chromium() string {
	if p := os.Getenv("TICKETERO_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// axeSource is axe-core 4.14.1, unmodified (AXE.md).
//
//go:embed axe.min.js
var axeSource string

// ContrastFailures lists visible text whose colour against its effective
// background is below WCAG AA: 4.5:1, or 3:1 for large text (24 px, or 18.66 px
// bold). Disabled controls are exempt, as WCAG allows.
const ContrastFailures = `(() => {
  const parse = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(',').map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const bgOf = (el) => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0.5) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el || el.closest('[disabled]') || el.closest('[aria-hidden="true"]')) continue;
    const r = el.getBoundingClientRect();
    const st = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || st.visibility === 'hidden') continue;
    const fg = parse(st.color), bg = bgOf(el);
    const l1 = lum(fg), l2 = lum(bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(st.fontSize), bold = Number(st.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) out.push(n.textContent.trim().slice(0, 40) + ' (' + ratio.toFixed(2) + ')');
  }
  return out;
})()`

// Unlabelled lists buttons, inputs, selects and text areas that a screen
// reader could not name.
const Unlabelled = `(() => Array.from(document.querySelectorAll('button, input, select, textarea')).filter((e) => {
  if (e.closest('[hidden]') || e.type === 'hidden') return false;
  const name = (e.getAttribute('aria-label') || '') + (e.labels && e.labels.length ? e.labels[0].textContent : '') + (e.tagName === 'BUTTON' ? e.textContent : '');
  return !name.trim();
}).map((e) => e.id || e.outerHTML.slice(0, 60)))()`

// axeRun runs axe-core on the page as it is now and lists its findings of
// the impacts in the JSON array %s ("rule: element: what"). Besides axe's
// default rules it runs label-content-name-mismatch (an accessible name must
// contain the visible text, WCAG 2.5.3), which axe counts as experimental.
// DevTools' evaluation is not bound by the page's Content-Security-Policy, so
// the pages keep theirs.
const axeRun = `(async () => {
  const impacts = %s;
  const r = await axe.run(document, { rules: { 'label-content-name-mismatch': { enabled: true } }, resultTypes: ['violations'] });
  const out = [];
  r.violations.filter((v) => impacts.includes(v.impact)).forEach((v) =>
    v.nodes.forEach((n) => out.push(v.id + ': ' + n.target.join(' ') + ': ' + (n.failureSummary || v.help).replace(/\s+/g, ' ').slice(0, 160))));
  return out;
})()`

// Axe impacts: Serious is what every browser test refuses; All adds the
// moderate and minor findings.
var (
	Serious = []string{"serious", "critical"}
	All     = []string{"minor", "moderate", "serious", "critical"}
)

// Axe injects axe-core into the tab's page unless it is there already and
// returns its findings of the given impacts (Serious when none is given).
func Axe(tab context.Context, impacts ...string) ([]string, error) {
	if len(impacts) == 0 {
		impacts = Serious
	}
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	loaded, err := cd.Run(ctx, cd.Evaluate[bool](`typeof axe === 'object'`))
	if err != nil {
		return nil, err
	}
	if !loaded {
		if err := cd.Do(ctx, cd.Evaluate[cd.Void](axeSource+";undefined")); err != nil {
			return nil, err
		}
	}
	list, err := json.Marshal(impacts)
	if err != nil {
		return nil, err
	}
	return cd.Run(ctx, cd.Evaluate[[]string](fmt.Sprintf(axeRun, list), cd.EvalAwaitPromise))
}

// Check asserts WCAG AA contrast and named controls on what the tab shows
// now, and that axe-core finds nothing of the impacts (serious or critical
// when none is given); page names the state in the failure messages.
func Check(t testing.TB, tab context.Context, page string, impacts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	low, err := cd.Run(ctx, cd.Evaluate[[]string](ContrastFailures))
	require.NoError(t, err, page)
	assert.Empty(t, low, "%s: text below WCAG AA contrast", page)
	unnamed, err := cd.Run(ctx, cd.Evaluate[[]string](Unlabelled))
	require.NoError(t, err, page)
	assert.Empty(t, unnamed, "%s: controls without an accessible name", page)
	if len(impacts) == 0 {
		impacts = Serious
	}
	found, err := Axe(tab, impacts...)
	require.NoError(t, err, page)
	assert.Empty(t, found, "%s: axe-core findings (%s)", page, strings.Join(impacts, ", "))
}

// Click clicks the first visible element that sel matches, as chromedp's Click
// does, and looks for it again when the page replaced it between the query and
// the click. A live list re-rendered by an update (the manager's executives
// table when a status arrives) answers the stale node with "Could not find node
// with given id"; a person's click would have landed on the new row, so the
// test clicks that one. The error comes before any mouse event is sent, so a
// retry never clicks twice.
func Click[S cd.Selectable](sel S, opts ...cd.QueryOption) cd.Action[cd.Void] {
	return cd.Func(func(ctx context.Context, tg *cd.Target) error {
		for {
			_, err := cd.Click(sel, opts...)(ctx, tg)
			if err == nil || !nodeReplaced(err) || ctx.Err() != nil {
				return err
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// nodeReplaced tells the DevTools errors of a node that left the document.
func nodeReplaced(err error) bool {
	s := err.Error()
	return strings.Contains(s, "Could not find node with given id") ||
		strings.Contains(s, "No node with given id") ||
		strings.Contains(s, "Node is detached")
}
