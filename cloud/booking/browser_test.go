package booking_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	cd "github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/testkit/chrometest"
)

// TestBookingPageInChromium books on a 390 px phone in chromium by keyboard
// and mouse as a customer does, and runs axe-core on every page of the
// flow: no axe finding of any impact, no text below WCAG AA contrast, no
// unnamed control.
func TestBookingPageInChromium(t *testing.T) {
	chromium := chrometest.Chromium()
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("chromium not found at %s", chromium)
	}
	e := newEnv(t, envOpt{})
	actx, cancelA := cd.NewExecAllocator(context.Background(), cd.ExecPath(chromium), cd.Flag("headless", true),
		cd.NoSandbox, cd.DisableGPU, cd.NoFirstRun, cd.Flag("accept-lang", "es-CL,es"), cd.WindowSize(390, 844),
		cd.UserDataDir(t.TempDir()))
	ctx, cancelC := cd.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	require.NoError(t, cd.Do(ctx))
	check := func(page string) {
		t.Helper()
		chrometest.Check(t, ctx, page, chrometest.All...)
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
	step("branch", chrometest.Click(cd.CSS(`a[href="/agenda/sucursal/SCL-001"]`)), cd.WaitVisible(cd.CSS(`a[href="/agenda/sucursal/SCL-001/C"]`)))
	check("branch")
	step("day", chrometest.Click(cd.CSS(`a[href="/agenda/sucursal/SCL-001/C"]`)), cd.WaitVisible(cd.CSS(`a[href="?dia=`+day+`"]`)),
		chrometest.Click(cd.CSS(`a[href="?dia=`+day+`"]`)), cd.WaitVisible(cd.CSS(`a[aria-current="date"][href="?dia=`+day+`"]`)))
	check("slots")
	slot := `a[href$="inicio=` + strconv.FormatInt(start.Unix(), 10) + `"]`
	step("slot", chrometest.Click(cd.CSS(slot)), cd.WaitVisible(cd.CSS(`#rut`)))
	check("form")
	step("book", cd.SendKeys(cd.CSS(`#rut`), rutOf(12345678)), cd.SendKeys(cd.CSS(`#nota`), "Traigo mi carnet"),
		chrometest.Click(cd.CSS(`form button[type=submit]`)), cd.WaitVisible(cd.CSS(`p.code`)))
	code, err := cd.Run(ctx, cd.Text(cd.CSS(`p.code`)))
	require.NoError(t, err)
	assert.Regexp(t, `^[0-9]{6}$`, code)
	check("booking")
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM appt_bookings WHERE note = 'Traigo mi carnet'`))
}
