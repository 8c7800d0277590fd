package booking_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	cd "github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// axePath is axe-core as the agent's browser tests vendor it.
var axePath = filepath.Join("..", "..", "agent", "web", "browsertest", "testdata", "axe.min.js")

// axeFindings runs axe-core and lists serious and critical violations.
const axeFindings = `(async () => {
  const r = await axe.run(document, { resultTypes: ['violations'] });
  const out = [];
  r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').forEach((v) =>
    v.nodes.forEach((n) => out.push(v.id + ': ' + n.target.join(' '))));
  return out;
})()`

// TestBookingPageInChromium books on a 390 px phone in chromium by keyboard
// and mouse as a customer does, and runs axe-core on every page of the
// flow: nothing serious or critical.
func TestBookingPageInChromium(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("chromium not found at %s", chromium)
	}
	axe, err := os.ReadFile(axePath)
	require.NoError(t, err)
	e := newEnv(t, envOpt{})
	actx, cancelA := cd.NewExecAllocator(context.Background(), cd.ExecPath(chromium), cd.Flag("headless", true),
		cd.NoSandbox, cd.DisableGPU, cd.NoFirstRun, cd.Flag("accept-lang", "es-CL,es"), cd.WindowSize(390, 844),
		cd.UserDataDir(t.TempDir()))
	ctx, cancelC := cd.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	require.NoError(t, cd.Do(ctx))
	check := func(page string) {
		t.Helper()
		tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		require.NoError(t, cd.Do(tctx, cd.Evaluate[cd.Void](string(axe)+";undefined")), page)
		found, err := cd.Run(tctx, cd.Evaluate[[]string](axeFindings, cd.EvalAwaitPromise))
		require.NoError(t, err, page)
		assert.Empty(t, found, "%s: axe-core serious or critical findings", page)
	}
	step := func(name string, a ...cd.Action[cd.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := cd.Do(sctx, a...); err != nil {
			html, _ := cd.Run(ctx, cd.Evaluate[string](`location.href + "\n" + document.body.outerHTML`))
			t.Fatalf("%s: %v\n%s", name, err, html)
		}
	}
	day := e.tomorrow()
	start := e.at(day, "11:15")
	step("search", cd.Navigate(e.srv.URL+"/agenda"), cd.WaitVisible(cd.CSS(`#q`)),
		cd.SendKeys(cd.CSS(`#q`), "providencia\n"), cd.WaitVisible(cd.CSS(`a[href="/agenda/sucursal/SCL-001"]`)))
	check("home")
	step("branch", cd.Click(cd.CSS(`a[href="/agenda/sucursal/SCL-001"]`)), cd.WaitVisible(cd.CSS(`a[href="/agenda/sucursal/SCL-001/C"]`)))
	check("branch")
	step("day", cd.Click(cd.CSS(`a[href="/agenda/sucursal/SCL-001/C"]`)), cd.WaitVisible(cd.CSS(`a[href="?dia=`+day+`"]`)),
		cd.Click(cd.CSS(`a[href="?dia=`+day+`"]`)), cd.WaitVisible(cd.CSS(`a[aria-current="date"][href="?dia=`+day+`"]`)))
	check("slots")
	slot := `a[href$="inicio=` + strconv.FormatInt(start.Unix(), 10) + `"]`
	step("slot", cd.Click(cd.CSS(slot)), cd.WaitVisible(cd.CSS(`#rut`)))
	check("form")
	step("book", cd.SendKeys(cd.CSS(`#rut`), rutOf(12345678)), cd.SendKeys(cd.CSS(`#nota`), "Traigo mi carnet"),
		cd.Click(cd.CSS(`form button[type=submit]`)), cd.WaitVisible(cd.CSS(`p.code`)))
	code, err := cd.Run(ctx, cd.Text(cd.CSS(`p.code`)))
	require.NoError(t, err)
	assert.Regexp(t, `^[0-9]{6}$`, code)
	check("booking")
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM appt_bookings WHERE note = 'Traigo mi carnet'`))
}
