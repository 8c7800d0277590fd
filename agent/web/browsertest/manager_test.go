package browsertest

import (
	"context"
	"testing"
	"time"

	cd "github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/testkit/chrometest"
)

// noSideScroll is true when the page is no wider than the viewport.
const noSideScroll = `document.documentElement.scrollWidth <= window.innerWidth`

// TestBranchManager drives every manager action on /branch against the real
// agent, on a 390×844 phone and a 1280×800 screen: a PIN without the manager
// role is refused; the manager signs in, closes Empresas for today (the kiosk
// then shows it closed and the API refuses it), changes an executive's
// services, signs out an executive who left (his called ticket waits again),
// and posts a message that the TV shows and then takes down.
func TestBranchManager(t *testing.T) {
	data := t.TempDir()
	agentCLI(t, "executive", "add", "--data", data, "--id", "E01", "--name", "Ana Pérez", "--pin", "240681", "--services", "C,P")
	agentCLI(t, "executive", "add", "--data", data, "--id", "G01", "--name", "Marta Rojas", "--pin", "739150", "--services", "C", "--manager")
	ag := startAgent(t, data, "127.0.0.1:0")
	var sess struct {
		Token string `json:"token"`
	}
	call(t, ag, "POST", "/sessions", "", map[string]any{"executive": "E01", "pin": "240681", "counter": 2}, &sess)
	var tk struct {
		Number string `json:"number"`
	}
	call(t, ag, "POST", "/tickets", "", map[string]any{"service": "C"}, &tk)
	call(t, ag, "POST", "/counters/2/call-next", sess.Token, nil, nil)

	browser := newBrowser(t)
	display := newTab(t, browser)
	var jsErr jsErrors
	jsErr.watch(browser, "branch")
	jsErr.watch(display, "display")
	defer func() { assert.Empty(t, jsErr.all(), "JavaScript errors in the pages") }()
	do(t, display, "open display", cd.EmulateViewport(1920, 1080), cd.Navigate(ag.URL()+"/display"),
		until(`document.getElementById('conn').dataset.state === 'online'`, 10*time.Second))

	phone := func(tab context.Context) { do(t, tab, "phone", cd.EmulateViewport(390, 844, cd.EmulateMobile)) }
	phone(browser)
	do(t, browser, "branch page",
		cd.Navigate(ag.URL()+"/branch"),
		until(`document.getElementById('conn').dataset.state === 'online' && document.querySelector('main').getAttribute('aria-busy') === 'false'`, 10*time.Second),
		until(`document.getElementById('lan-state').textContent === 'Red local: bien'`, 5*time.Second),
		until(`document.getElementById('wan-state').textContent.startsWith('Conexión con casa matriz: no configurada')`, 5*time.Second),
		until(noSideScroll, time.Second),
		shot(t, "branch-manager-signin-390x844"),
	)
	checkA11y(t, browser, "branch sign-in on a phone")
	page := get(t, browser, cd.Evaluate[string](`document.body.innerText`))
	for _, jargon := range []string{"acuse", "MQTT", "AM", "PM"} {
		assert.NotContains(t, page, jargon, "plain Spanish, 24-hour times")
	}

	signIn := func(t *testing.T, id, pin string) {
		do(t, browser, "sign in "+id,
			cd.Evaluate[cd.Void](`document.getElementById('mgr-id').value = ''; document.getElementById('mgr-pin').value = ''`),
			cd.SendKeys(cd.ID("mgr-id"), id), cd.SendKeys(cd.ID("mgr-pin"), pin),
			chrometest.Click(cd.ID("mgr-submit")),
		)
	}
	t.Run("non-manager refused", func(t *testing.T) {
		signIn(t, "e01", "240681")
		do(t, browser, "refused",
			until(`!document.getElementById('mgr-signin-error').hidden`, 5*time.Second),
			until(`document.getElementById('mgr-panel').hidden && document.body.dataset.manager === 'false'`, time.Second))
		assert.Equal(t, "Esta persona no tiene el rol de jefe de sucursal.", get(t, browser, cd.Text(cd.ID("mgr-signin-error"))))
		signIn(t, "G01", "111999")
		do(t, browser, "wrong PIN", until(`document.getElementById('mgr-signin-error').textContent === 'Ejecutivo o PIN incorrecto.'`, 5*time.Second))
	})

	signIn(t, "g01", "739150")
	do(t, browser, "signed in",
		until(`document.body.dataset.manager === 'true' && !document.getElementById('mgr-panel').hidden`, 5*time.Second),
		until(`document.querySelector('#mgr-services li[data-service="E"]') !== null`, 5*time.Second),
		until(`document.querySelector('#executives tr[data-id="E01"] button[data-action="sign-out"]') !== null`, 5*time.Second),
		until(noSideScroll, time.Second),
		shot(t, "branch-manager-390x844"),
	)
	checkA11y(t, browser, "branch manager on a phone")
	assert.Equal(t, "Sesión de Marta Rojas", get(t, browser, cd.Text(cd.ID("mgr-name"))))

	t.Run("close and open a service", func(t *testing.T) {
		// A kiosk already open shows the change live (no reload).
		kiosk := newTab(t, browser)
		do(t, kiosk, "kiosk open", cd.Navigate(ag.URL()+"/kiosk"),
			until(`document.getElementById('conn').dataset.state === 'online' && document.querySelector('button[data-service="E"]') !== null && !document.querySelector('button[data-service="E"]').disabled`, 10*time.Second))
		do(t, browser, "close E",
			chrometest.Click(cd.CSS(`#mgr-services li[data-service="E"] button`)),
			until(`document.querySelector('#mgr-services li[data-service="E"]').dataset.state === 'closed'`, 5*time.Second),
			until(`document.getElementById('mgr-done').textContent.startsWith('Empresas no entrega más números hoy')`, time.Second),
		)
		do(t, kiosk, "kiosk shows it closed",
			until(`document.querySelector('button[data-service="E"]') !== null && document.querySelector('button[data-service="E"]').disabled`, 10*time.Second))
		assert.Contains(t, get(t, kiosk, cd.Text(cd.CSS(`button[data-service="E"]`))), "Cerrado por hoy")
		assert.Equal(t, "Hoy ya no se entregan números de Empresas. Consulte en la sucursal.",
			get(t, kiosk, cd.Evaluate[string](`document.querySelector('button[data-service="E"]').title`)))
		do(t, browser, "open E",
			chrometest.Click(cd.CSS(`#mgr-services li[data-service="E"] button`)),
			until(`document.querySelector('#mgr-services li[data-service="E"]').dataset.state === 'open'`, 5*time.Second))
		do(t, kiosk, "kiosk open again (live)",
			until(`document.querySelector('button[data-service="E"]') !== null && !document.querySelector('button[data-service="E"]').disabled`, 10*time.Second))
	})

	t.Run("services today", func(t *testing.T) {
		do(t, browser, "change Ana's services",
			chrometest.Click(cd.CSS(`#executives tr[data-id="E01"] button[data-action="services"]`)),
			cd.WaitVisible(cd.ID("dlg-services")),
			shot(t, "branch-manager-services-390x844"),
		)
		checkA11y(t, browser, "services dialog")
		do(t, browser, "choose E only",
			cd.Evaluate[cd.Void](`document.querySelectorAll('#services-choices input').forEach((i) => { i.checked = i.value === 'E'; })`),
			chrometest.Click(cd.ID("services-confirm")),
			until(`document.querySelector('#executives tr[data-id="E01"] td').textContent === 'E (cambiado hoy)'`, 5*time.Second),
		)
		var xs struct {
			Executives []struct {
				Name     string   `json:"name"`
				Services []string `json:"services"`
			} `json:"executives"`
		}
		call(t, ag, "GET", "/executives", "", nil, &xs)
		for _, x := range xs.Executives {
			if x.Name == "Ana Pérez" {
				assert.Equal(t, []string{"E"}, x.Services)
			}
		}
	})

	t.Run("sign an executive out", func(t *testing.T) {
		do(t, browser, "sign Ana out",
			chrometest.Click(cd.CSS(`#executives tr[data-id="E01"] button[data-action="sign-out"]`)),
			cd.WaitVisible(cd.ID("dlg-signout")),
			until(`document.getElementById('signout-text').textContent.includes('módulo 2')`, time.Second),
		)
		checkA11y(t, browser, "sign-out dialog")
		do(t, browser, "confirm",
			chrometest.Click(cd.ID("signout-confirm")),
			until(`document.getElementById('mgr-done').textContent === 'Se cerró la sesión de Ana Pérez.'`, 5*time.Second),
			until(`document.querySelector('#executives tr[data-id="E01"] button[data-action="sign-out"]') === null`, 5*time.Second),
		)
		var q struct {
			Queues []struct {
				Service string `json:"service"`
				Waiting int    `json:"waiting"`
			} `json:"queues"`
		}
		call(t, ag, "GET", "/queues", "", nil, &q)
		for _, x := range q.Queues {
			if x.Service == "C" {
				assert.Equal(t, 1, x.Waiting, "her called ticket %s waits again", tk.Number)
			}
		}
	})

	t.Run("TV message", func(t *testing.T) {
		do(t, browser, "too long is refused",
			cd.SetValue(cd.ID("mgr-message"), "hola <b>"),
			chrometest.Click(cd.ID("mgr-post")),
			until(`!document.getElementById('mgr-error').hidden`, 5*time.Second),
		)
		assert.Contains(t, get(t, browser, cd.Text(cd.ID("mgr-error"))), "no puede llevar el carácter")
		do(t, browser, "post",
			cd.SetValue(cd.ID("mgr-message"), "Hoy Caja atiende hasta las 14:00"),
			cd.SetValue(cd.ID("mgr-minutes"), "30"),
			chrometest.Click(cd.ID("mgr-post")),
			until(`document.getElementById('mgr-done').textContent.startsWith('El mensaje está en la pantalla hasta las')`, 5*time.Second),
			until(`!document.getElementById('mgr-message-remove').hidden`, time.Second),
		)
		do(t, display, "the TV shows it",
			until(`document.body.dataset.message === 'Hoy Caja atiende hasta las 14:00' && !document.getElementById('tv-message').hidden`, 10*time.Second),
			shot(t, "display-message"),
		)
		checkA11y(t, display, "display with a message")
		// The whole page at the desktop size too.
		do(t, browser, "desktop", cd.EmulateViewport(1280, 800), until(noSideScroll, time.Second), shot(t, "branch-manager-1280x800"))
		checkA11y(t, browser, "branch manager at 1280x800")
		do(t, browser, "remove",
			chrometest.Click(cd.ID("mgr-message-remove")),
			until(`document.getElementById('mgr-done').textContent === 'Se quitó el mensaje de la pantalla.'`, 5*time.Second))
		do(t, display, "the TV takes it down",
			until(`document.body.dataset.message === '' && document.getElementById('tv-message').hidden`, 10*time.Second))
	})

	do(t, browser, "sign out", chrometest.Click(cd.ID("mgr-signout")),
		until(`document.body.dataset.manager === 'false' && !document.getElementById('mgr-signin').hidden`, 5*time.Second))
	require.Empty(t, get(t, browser, cd.Evaluate[string](`sessionStorage.getItem('ticketero.manager') || ''`)))
}

// TestDisplayDeltas: the TV takes the waiting counts from the stream's
// events (every queue's count after the change) instead of refetching the
// queues on each ticket event.
func TestDisplayDeltas(t *testing.T) {
	ag := startAgent(t, t.TempDir(), "127.0.0.1:0")
	browser := newBrowser(t)
	var jsErr jsErrors
	jsErr.watch(browser, "display")
	defer func() { assert.Empty(t, jsErr.all(), "JavaScript errors in the pages") }()
	do(t, browser, "open display", cd.EmulateViewport(1920, 1080), cd.Navigate(ag.URL()+"/display"),
		until(`document.getElementById('conn').dataset.state === 'online' && document.querySelector('#waiting li[data-service="P"]') !== null`, 10*time.Second))
	const fetches = `performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/v1/queues')).length`
	before := get(t, browser, cd.Evaluate[int](fetches))
	for range 4 {
		call(t, ag, "POST", "/tickets", "", map[string]any{"service": "P"}, nil)
	}
	do(t, browser, "counts from the events",
		until(`document.querySelector('#waiting li[data-service="P"] .w-count').textContent === '4'`, 10*time.Second),
		until(`Number(document.body.dataset.deltas) >= 4`, time.Second))
	assert.LessOrEqual(t, get(t, browser, cd.Evaluate[int](fetches))-before, 1, "at most the 15 s safety refetch, not one per event")
}
