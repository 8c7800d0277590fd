package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/web"
)

// TestTemplateBrowser390 drives the template pages in chromium on a 390 px
// phone, with the keyboard where a person would: the template is written
// and saved, the preview's per-branch detail opens from the keyboard, the
// first stage is published; no page is wider than the screen.
func TestTemplateBrowser390(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.SecureCookies = true })
	ctx := context.Background()
	for _, id := range []string{"WB-001", "WB-002"} {
		require.NoError(t, e.store.PutBranch(ctx, cloud.BranchInput{ID: id, Name: "Teléfono " + id, Region: "Web Móvil", TimeZone: "America/Santiago"}))
	}
	e.user("admin@wb.cl", "admin", nil, nil)
	bctx, css, step, fits := phone390(t, e, "admin@wb.cl")
	step("new template",
		chromedp.Navigate(e.srv.URL+"/config/templates"),
		chromedp.WaitVisible(css(`#tpl-name`)))
	fits("/config/templates")
	step("write it",
		chromedp.SendKeys(css(`#tpl-name`), "Móvil"),
		chromedp.SendKeys(css(`#tpl-value`), "Web Móvil"),
		chromedp.Click(css(`input[name="manage_services"]`)),
		chromedp.SendKeys(css(`#tpl-services`), "C | Caja | 10 | 4 | 1"),
		chromedp.Click(css(`input[name="manage_hours"]`)),
		// Enter in a text field submits the form.
		chromedp.SendKeys(css(`#tpl-name`), kb.Enter),
		chromedp.WaitVisible(css(`#review`)))
	fits("the template's page")
	step("review", chromedp.Click(css(`#review`)), chromedp.WaitVisible(css(`#preview-summary`)))
	fits("the preview")
	summary, err := chromedp.Run(bctx, chromedp.Text(css(`#preview-summary`)))
	require.NoError(t, err)
	assert.Equal(t, "2 sucursales: 2 cambian, 0 sin cambios, 0 rechazadas. 0 conservan campos propios.", summary)
	step("open a branch's detail from the keyboard",
		chromedp.Focus(css(`#preview-WB-001 summary`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(css(`#preview-WB-001 table.diff`)))
	step("first stage",
		chromedp.SendKeys(css(`#first-n`), "1"),
		chromedp.Click(css(`#publish`)),
		chromedp.WaitVisible(css(`#continue`)))
	fits("the publication")
	step("the rest", chromedp.Click(css(`#continue`)), chromedp.WaitVisible(css(`#result-WB-002`)))
	require.Len(t, e.pub.got, 2)
	step("versions", chromedp.Navigate(e.srv.URL+"/config/versions?region=Web+M%C3%B3vil"), chromedp.WaitVisible(css(`#versions-count`)))
	fits("/config/versions")
}
