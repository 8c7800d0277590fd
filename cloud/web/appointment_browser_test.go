package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/appt"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
	"github.com/ticketero/ticketero/cloud/web"
	"github.com/ticketero/ticketero/shared/queue"
)

// TestAppointmentsBrowser390: on a 390 px phone an admin writes a service's
// booking schedule with the keyboard, sees the book of a day with a booking
// and cancels it with a reason, and opens the appointment report; no page is
// wider than the screen.
func TestAppointmentsBrowser390(t *testing.T) {
	book := appt.New(hqtest.MustPool(t, dsn), nil)
	e := newEnv(t, func(c *web.Config) { c.SecureCookies = true; c.Appointments = book })
	ctx := context.Background()
	require.NoError(t, e.store.PutBranch(ctx, cloud.BranchInput{ID: "AB-001", Name: "Citas móvil", Region: "Citas Móvil", TimeZone: "America/Santiago"}))
	require.NoError(t, e.store.PutService(ctx, "AB-001", queue.Service{Code: "C", Name: "Caja", TargetWaitS: 600, MeanServiceS: 300, Priority: 1}))
	e.user("admin@ab.cl", "admin", nil, nil)
	tomorrow := time.Now().In(scl).AddDate(0, 0, 1)
	day, wd := tomorrow.Format(time.DateOnly), cloud.WeekdayKey(tomorrow.Weekday())

	_, css, step, fits := phone390(t, e, "admin@ab.cl")
	step("schedule page",
		chromedp.Navigate(e.srv.URL+"/config/branches/AB-001/appointments"),
		chromedp.WaitVisible(css(`#schedule-C`)))
	fits("the schedule page")
	step("write the schedule",
		chromedp.SendKeys(css(`#schedule-C input[name="hours_`+wd+`"]`), "09:00-11:00"),
		chromedp.SendKeys(css(`#schedule-C input[name="executives_`+wd+`"]`), "3"),
		chromedp.Click(css(`#schedule-C form button[type="submit"]`)),
		chromedp.WaitVisible(css(`p.flash`)))
	slots, err := book.Slots(ctx, "AB-001", "C", day)
	require.NoError(t, err)
	require.NotEmpty(t, slots)
	bk, err := book.Book(ctx, cloud.BookRequest{Branch: "AB-001", Service: "C", Start: slots[0].Start, RUT: "12345678-5",
		Channel: "telegram", Note: "Necesito renovar mi tarjeta de débito"})
	require.NoError(t, err)
	step("the book",
		chromedp.Navigate(e.srv.URL+"/branches/AB-001/book?day="+day),
		chromedp.WaitVisible(css(`#b-`+bk.ID)))
	fits("the book")
	step("cancel with a reason",
		chromedp.SendKeys(css(`#b-`+bk.ID+` input[name="reason"]`), "Sucursal cerrada por corte de luz"),
		chromedp.Click(css(`#b-`+bk.ID+` button[type="submit"]`)),
		chromedp.WaitVisible(css(`p.flash`)))
	fits("the book after the cancel")
	got, err := book.Booking(ctx, bk.ID, bk.Code)
	require.NoError(t, err)
	assert.Equal(t, cloud.BookingCancelled, got.Status)
	step("report", chromedp.Navigate(e.srv.URL+"/reports/appointments?from="+day+"&to="+day), chromedp.WaitVisible(css(`#appt-report`)))
	fits("the appointment report")
}

// stepper returns step for the browser tab bctx: it runs actions within 15 s,
// failing the test with the page's address and HTML.
func stepper(t *testing.T, bctx context.Context) func(string, ...chromedp.Action[chromedp.Void]) {
	return func(name string, a ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, 15*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, a...); err != nil {
			html, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`location.href + "\n" + document.documentElement.outerHTML`))
			t.Fatalf("%s: %v\n%s", name, err, html)
		}
	}
}

// phone390 starts chromium on a 390 px phone signed in as email, and returns
// its context, a CSS selector maker, step (runs actions within 15 s, failing the test with
// the page's HTML) and fits (fails if the page is wider than the phone).
func phone390(t *testing.T, e *env, email string) (context.Context, func(string) chromedp.CSS, func(string, ...chromedp.Action[chromedp.Void]), func(string)) {
	bctx := newBrowser(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	step := stepper(t, bctx)
	fits := func(page string) {
		t.Helper()
		w, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		require.NoError(t, err)
		assert.LessOrEqual(t, w, 390, "%s is wider than the phone", page)
	}
	step("sign in",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(e.srv.URL+"/login"),
		chromedp.WaitVisible(css(`#email`)),
		chromedp.SendKeys(css(`#email`), email),
		chromedp.SendKeys(css(`#password`), "password-"+email),
		chromedp.Click(css(`#signin`)),
		// Signed in: the navigation shows (the sign-in page has none).
		chromedp.WaitVisible(css(`header nav`)))
	return bctx, css, step, fits
}
