package browsertest

import (
	"context"
	"testing"
	"time"

	cd "github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countSpeech counts the page's calls of speechSynthesis.speak.
const countSpeech = `(() => {
  window.__speaks = 0;
  const speak = speechSynthesis.speak.bind(speechSynthesis);
  speechSynthesis.speak = (u) => { window.__speaks++; speak(u); };
})()`

// TestDisplayBoard: the TV asks only for the waiting counts (no ticket
// lists), keeps a call highlighted for its configured ?highlight= time and
// then shows it like the others; a TV started with the kiosk-mode autoplay
// flag speaks the call, one without it (and untouched) stays silent instead of
// calling speechSynthesis.speak() without a gesture.
func TestDisplayBoard(t *testing.T) {
	data := t.TempDir()
	agentCLI(t, "executive", "add", "--data", data, "--id", "E01", "--name", "Ana Pérez", "--pin", "240681", "--services", "C,P")
	ag := startAgent(t, data, "127.0.0.1:0")
	var sess struct {
		Token string `json:"token"`
	}
	call(t, ag, "POST", "/sessions", "", map[string]any{"executive": "E01", "pin": "240681", "counter": 3}, &sess)

	kioskMode := newBrowser(t)
	plain := newBrowser(t, cd.Flag("autoplay-policy", "document-user-activation-required"))
	var jsErr jsErrors
	jsErr.watch(kioskMode, "display")
	jsErr.watch(plain, "display (no flag)")
	defer func() { assert.Empty(t, jsErr.all(), "JavaScript errors in the pages") }()
	for _, tab := range []context.Context{kioskMode, plain} {
		do(t, tab, "open display",
			cd.EmulateViewport(1920, 1080),
			cd.Navigate(ag.URL()+"/display?highlight=5"),
			until(`document.getElementById('conn').dataset.state === 'online'`, 10*time.Second),
			cd.Evaluate[cd.Void](countSpeech),
		)
	}
	checkA11y(t, kioskMode, "display")

	var tk struct {
		Number string `json:"number"`
	}
	call(t, ag, "POST", "/tickets", "", map[string]any{"service": "C"}, &tk)
	call(t, ag, "POST", "/tickets", "", map[string]any{"service": "C"}, nil)
	do(t, kioskMode, "waiting count",
		until(`document.querySelector('#waiting li[data-service="C"] .w-count').textContent === '2'`, 10*time.Second))
	call(t, ag, "POST", "/counters/3/call-next", sess.Token, nil, nil)
	for _, tab := range []context.Context{kioskMode, plain} {
		do(t, tab, "the call, highlighted",
			until(`document.body.dataset.newest === '`+tk.Number+`' && document.body.dataset.announced === '1'`, 10*time.Second),
			until(`document.body.dataset.highlight === 'on' && !document.getElementById('newest').classList.contains('settled')`, time.Second),
			until(`document.querySelector('#waiting li[data-service="C"] .w-count').textContent === '1'`, 10*time.Second),
		)
	}
	do(t, kioskMode, "spoken", until(`window.__speaks === 1 && document.body.dataset.spoken === 'yes'`, 5*time.Second), shot(t, "display-highlighted"))
	assert.Equal(t, "no", get(t, plain, cd.Evaluate[string](`document.body.dataset.spoken`)))
	assert.Equal(t, 0, get(t, plain, cd.Evaluate[int](`window.__speaks`)), "no speech without a gesture or the kiosk flag")

	// Only the counts travel: no request for the full queue lists.
	urls := get(t, kioskMode, cd.Evaluate[[]string](`performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('/api/v1/queues'))`))
	require.NotEmpty(t, urls)
	for _, u := range urls {
		assert.Contains(t, u, "tickets=none")
	}

	do(t, kioskMode, "the highlight ends after 5 s",
		until(`document.body.dataset.highlight === 'off' && document.getElementById('newest').classList.contains('settled')`, 8*time.Second),
		shot(t, "display-settled"),
	)
	assert.Equal(t, tk.Number, get(t, kioskMode, cd.Text(cd.ID("newest-number"))), "the call stays on the board")
	checkA11y(t, kioskMode, "display settled")
}
