package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/testkit/chrometest"
)

// TestBrowserA11yConfigList holds the configuration list's network-scale
// states (search, filters, numbered pages: 230 more branches than the HQ of
// TestBrowserA11y) to TestBrowserA11y's checks in chromium at 1280×800 and
// on a 390×844 phone, and uses them from the keyboard alone: a search typed
// and sent with Enter, a page link reached with Tab and followed with Enter.
// On the phone the pager fits the screen.
func TestBrowserA11yConfigList(t *testing.T) {
	h := newA11yHQ(t, "LG", "Listado")
	ctx := context.Background()
	var rows [][]any
	for i := 101; i <= 330; i++ {
		rows = append(rows, []any{fmt.Sprintf("LG-%03d", i), fmt.Sprintf("Listado %d", i), "Listado Norte"})
	}
	_, err := h.f.Pool.CopyFrom(ctx, pgx.Identifier{"branches"}, []string{"id", "name", "region"}, pgx.CopyFromRows(rows))
	require.NoError(t, err)
	require.NoError(t, h.store.SetTags(ctx, "LG-120", []string{"piloto-lg"}))
	pages := []a11yPage{
		{name: "config searched, page 1 of 3", path: "/config?q=listado"},
		{name: "config searched, page 2 of 3", path: "/config?q=listado&page=2"},
		{name: "config filtered", path: "/config?q=listado&region=" + url.QueryEscape("Listado Norte") + "&version=unpublished" + fmt.Sprintf("&template=%d", h.template)},
		{name: "config tag", path: "/config?q=piloto-lg"},
		{name: "config no match", path: "/config?q=ninguna-sucursal-asi"},
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	for _, v := range []struct {
		name string
		w, h int64
		lang string
	}{{"1280", 1280, 800, ""}, {"390", 390, 844, ""}, {"en 1280", 1280, 800, "en"}} {
		t.Run(strings.ReplaceAll(v.name, " ", "_"), func(t *testing.T) {
			t.Parallel() // each its own chromium; they only read
			tab, step := h.a11yBrowser(t, h.admin, v.w, v.h, v.lang)
			checkPages(t, tab, step, h.srv.URL, pages)
			step("paged", chromedp.Navigate(h.srv.URL+"/config?q=listado&page=2"), chromedp.WaitVisible(css(`#config-pager`)))
			fits, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(() => { const n = document.querySelector('#config-pager');
  return n.scrollWidth <= n.clientWidth && n.getBoundingClientRect().right <= document.documentElement.clientWidth; })()`))
			require.NoError(t, err)
			assert.True(t, fits, "the pager fits the screen")
			if v.lang != "" {
				return
			}
			// The keyboard alone: the search, then Tab to page 3 and Enter.
			step("search from the keyboard", chromedp.Navigate(h.srv.URL+"/config"), chromedp.WaitVisible(css(`#config-search`)),
				chromedp.Focus(css(`#config-search`)), chromedp.KeyEvent("listado"), chromedp.KeyEvent("\r"),
				chromedp.WaitVisible(css(`#config-clear`)), // only a searched list has it
				chromedp.WaitVisible(css(`#config-pager a[aria-current="page"][aria-label="Página 1"]`)))
			loc, err := chromedp.Run(tab, chromedp.Evaluate[string](`location.search`))
			require.NoError(t, err)
			assert.Equal(t, "?q=listado&region=&version=&template=", loc, "the GET form: the state is the URL")
			step("to the pager", chromedp.Focus(css(`#config-pager a[rel="next"]`)))
			for range 6 { // back from "Siguiente »" past the page count to "3"
				step("shift-tab", chromedp.KeyEvent("\t", chromedp.KeyModifiers(chromedp.ModifierShift)))
				label, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.activeElement.getAttribute('aria-label') || document.activeElement.textContent`))
				require.NoError(t, err)
				if label == "Página 3" {
					break
				}
			}
			step("follow page 3", chromedp.KeyEvent("\r"),
				chromedp.WaitVisible(css(`#config-pager a[aria-current="page"][aria-label="Página 3"]`)),
				chromedp.WaitVisible(css(`a[href="/config/branches/LG-330"]`)))
			chrometest.Check(t, tab, "config page 3 from the keyboard", chrometest.All...)
		})
	}
}
