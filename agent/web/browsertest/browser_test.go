package browsertest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	cd "github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/testkit/chrometest"
)

// chromiumPath is Debian's chromium, or $TICKETERO_CHROMIUM.
var chromiumPath = chrometest.Chromium()

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if testing.Short() {
		fmt.Fprintln(os.Stderr, "browsertest: skipped in -short mode")
		return 0
	}
	if err := ensureChromium(); err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "browsertest:", err)
			return 1
		}
		fmt.Fprintln(os.Stderr, "browsertest: skipping the browser tests:", err)
		return 0
	}
	dir, err := os.MkdirTemp("", "ticketero-browsertest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if agentBin, err = buildAgent(dir, "ticketero-agent"); err != nil {
		fmt.Fprintln(os.Stderr, "browsertest:", err)
		return 1
	}
	if agentBinNext, err = buildAgent(dir, "ticketero-agent-next", "-ldflags", "-X main.version=browsertest-next"); err != nil {
		fmt.Fprintln(os.Stderr, "browsertest:", err)
		return 1
	}
	return m.Run()
}

// ensureChromium installs Debian's chromium when it is missing and the test
// runs as root with apt-get (the CI container); elsewhere it reports why not.
func ensureChromium() error {
	if _, err := os.Stat(chromiumPath); err == nil {
		return nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil || os.Geteuid() != 0 {
		return fmt.Errorf("%s not found; install Debian's chromium (apt-get install chromium)", chromiumPath)
	}
	for _, args := range [][]string{{"update"}, {"install", "-y", "--no-install-recommends", "chromium"}} {
		cmd := exec.Command("apt-get", args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("apt-get %v: %w", args, err)
		}
	}
	_, err := os.Stat(chromiumPath)
	return err
}

// artifacts is where the screenshots go: $TICKETERO_ARTIFACTS or
// agent/web/testdata/artifacts (ignored by git).
func artifacts(t *testing.T) string {
	dir := os.Getenv("TICKETERO_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "testdata", "artifacts")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// newBrowser starts chromium with a fresh profile and returns the context of
// its first tab; more tabs come from newTab. extra options override the
// defaults (another accept-lang, say).
func newBrowser(t *testing.T, extra ...cd.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(slices.Clone(cd.DefaultExecAllocatorOptions[:]),
		cd.ExecPath(chromiumPath),
		cd.NoSandbox,
		cd.DisableGPU,
		cd.Flag("disable-component-update", true),
		cd.Flag("autoplay-policy", "no-user-gesture-required"), // a TV board plays its chime unattended
		cd.Flag("lang", "es-CL"),
		cd.Flag("accept-lang", "es-CL,es"),
		cd.UserDataDir(t.TempDir()),
		cd.WindowSize(1280, 900),
	)
	opts = append(opts, extra...)
	actx, cancelAlloc := cd.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := cd.NewContext(actx)
	t.Cleanup(cancel)
	require.NoError(t, cd.Do(ctx)) // start the browser now
	return ctx
}

// newTab opens another tab in the browser of ctx.
func newTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := cd.NewContext(browser)
	t.Cleanup(cancel)
	require.NoError(t, cd.Do(ctx))
	return ctx
}

// do runs steps in a tab with a deadline, failing the test on error. The
// deadline is for the whole sequence, whose waits carry their own limits; it
// is a ceiling against a hung browser, wide enough for a machine the other
// test packages load (CI, 2026-12-01: the offline issue's sequence ran out
// of the 30 s it had, with 15 s of it its own wait).
func do(t *testing.T, tab context.Context, what string, steps ...cd.Action[cd.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	defer cancel()
	require.NoError(t, cd.Do(ctx, steps...), what)
}

// get runs one valued action in a tab.
func get[T any](t *testing.T, tab context.Context, a cd.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	v, err := cd.Run(ctx, a)
	require.NoError(t, err)
	return v
}

// until waits for a JS condition in the page. It evaluates the condition
// every 50 ms, so a page that reloads meanwhile (the upgrade case) is simply
// asked again once it is back.
func until(expr string, timeout time.Duration) cd.Action[cd.Void] {
	return cd.Func(func(ctx context.Context, tg *cd.Target) error {
		deadline := time.Now().Add(timeout)
		var last error
		for {
			ok, err := cd.Evaluate[bool]("!!("+expr+")")(ctx, tg)
			if err == nil && ok {
				return nil
			}
			if err != nil {
				last = err
			}
			if ctx.Err() != nil || time.Now().After(deadline) {
				return fmt.Errorf("waiting for %s (last error %v): %w", expr, last, context.DeadlineExceeded)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// shot writes a PNG of the whole page to the artifacts.
func shot(t *testing.T, name string) cd.Action[cd.Void] {
	dir := artifacts(t)
	return cd.Func(func(ctx context.Context, tg *cd.Target) error {
		buf, err := cd.FullScreenshot(100)(ctx, tg)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
	})
}

func key(k string) cd.Action[cd.Void] { return chrometest.Click(cd.CSS(`.key[data-key="` + k + `"]`)) }

func keys(s string) cd.Action[cd.Void] {
	steps := make([]cd.Action[cd.Void], 0, len(s))
	for _, c := range s {
		steps = append(steps, key(string(c)))
	}
	return cd.Steps(steps...)
}

// jsErrors collects uncaught exceptions and console.error calls of tabs.
type jsErrors struct {
	mu   sync.Mutex
	list []string
}

func (j *jsErrors) add(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.list = append(j.list, s)
}

func (j *jsErrors) all() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.list)
}

// watch subscribes to a tab's exceptions and console errors until it closes.
func (j *jsErrors) watch(tab context.Context, name string) {
	exceptions := cd.Events(tab, runtime.ExceptionThrown)
	console := cd.Events(tab, runtime.ConsoleAPICalled)
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			j.add(fmt.Sprintf("%s: %s (%s:%d)", name, msg, d.URL, d.LineNumber+1))
		}
	}()
	go func() {
		for ev, err := range console {
			if err != nil {
				return
			}
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				j.add(name + ": console.error " + strings.Join(parts, " "))
			}
		}
	}()
}

// recordIssueKeys wraps fetch in the page so the test sees the Idempotency-Key
// of every ticket request the kiosk sends.
const recordIssueKeys = `(() => {
  if (window.__keys) return;
  window.__keys = [];
  const f = window.fetch;
  window.fetch = function (url, opts) {
    if (opts && opts.method === 'POST' && String(url).endsWith('/api/v1/tickets')) window.__keys.push(opts.headers['Idempotency-Key']);
    return f.apply(this, arguments);
  };
})()`

// TestBranchDay is the issue's scenario in a real browser against the real
// agent: issue at the kiosk → the ticket appears on the terminal → call → the
// display shows and announces it; then the agent is killed and restarted on the
// same port and the display, never reloaded, shows the next call.
func TestBranchDay(t *testing.T) {
	data := t.TempDir()
	agentCLI(t, "executive", "add", "--data", data, "--id", "E01", "--name", "Ana Pérez", "--pin", "240681", "--services", "C,P")
	agentCLI(t, "executive", "add", "--data", data, "--id", "E02", "--name", "Juan Soto", "--pin", "531962", "--services", "C")
	ag := startAgent(t, data, "127.0.0.1:0")
	base := ag.URL()

	browser := newBrowser(t)
	display := browser
	kiosk := newTab(t, browser)
	terminal := newTab(t, browser)
	var jsErr jsErrors
	jsErr.watch(display, "display")
	jsErr.watch(kiosk, "kiosk")
	jsErr.watch(terminal, "terminal")
	defer func() { assert.Empty(t, jsErr.all(), "JavaScript errors in the pages") }()

	// The board is up before anything happens and stays up, never reloaded.
	do(t, display, "open display",
		cd.EmulateViewport(1920, 1080),
		cd.Navigate(base+"/display"),
		until(`document.getElementById('conn').dataset.state === 'online'`, 10*time.Second),
		cd.WaitVisible(cd.ID("newest-empty")),
		cd.Evaluate[cd.Void](`window.__marker = 42`),
	)

	// Kiosk: services with their wait, the RUT keypad with live validation.
	do(t, kiosk, "kiosk services",
		cd.Navigate(base+"/kiosk"),
		cd.WaitVisible(cd.CSS(`button[data-service="C"]`)),
		shot(t, "kiosk-services"),
	)
	checkA11y(t, kiosk, "kiosk services")
	t.Run("rut check digit matches Go", func(t *testing.T) {
		type pair struct {
			Body int    `json:"body"`
			DV   string `json:"dv"`
		}
		got := get(t, kiosk, cd.Evaluate[[]pair](`(() => {
			const out = [];
			for (let b = 1000000; b <= 99999999; b += 197713) out.push({body: b, dv: TK.rutCheckDigit(String(b))});
			return out;
		})()`))
		require.Greater(t, len(got), 400)
		for _, p := range got {
			require.Equal(t, string(queue.CheckDigit(p.Body)), p.DV, "body %d", p.Body)
		}
		states := get(t, kiosk, cd.Evaluate[[]string](`['', '1234', '123456785', '123456784', '12345678K', '1000005K', '111111111K'].map(TK.rutState)`))
		assert.Equal(t, []string{"empty", "incomplete", "valid", "invalid", "invalid", "valid", "invalid"}, states)
	})
	do(t, kiosk, "kiosk rut",
		chrometest.Click(cd.CSS(`button[data-service="C"]`)),
		cd.WaitVisible(cd.ID("rut-input")),
		keys("1234"),
		until(`document.getElementById('rut-status').dataset.state === 'incomplete'`, 5*time.Second),
		keys("56784"),
		until(`document.getElementById('rut-status').dataset.state === 'invalid' && document.getElementById('rut-continue').disabled`, 5*time.Second),
		key("del"), key("5"),
		until(`document.getElementById('rut-status').dataset.state === 'valid' && !document.getElementById('rut-continue').disabled`, 5*time.Second),
		until(`document.getElementById('rut-input').value === '12.345.678-5'`, time.Second),
		shot(t, "kiosk-rut"),
	)
	checkA11y(t, kiosk, "kiosk rut")
	do(t, kiosk, "kiosk issue",
		chrometest.Click(cd.ID("rut-continue")),
		cd.WaitVisible(cd.ID("priority-preferential")),
		cd.Evaluate[cd.Void](recordIssueKeys),
		chrometest.Click(cd.ID("priority-preferential")),
		cd.WaitVisible(cd.ID("result-number")),
		until(`(() => { const i = document.getElementById('result-qr'); return i.complete && i.naturalWidth > 0; })()`, 5*time.Second),
		shot(t, "kiosk-result"),
	)
	first := get(t, kiosk, cd.Text(cd.ID("result-number")))
	checkA11y(t, kiosk, "kiosk result")
	require.Regexp(t, `^C-\d+$`, first)
	assert.Equal(t, 1, get(t, kiosk, cd.Evaluate[int](`window.__keys.length`)))
	assert.Contains(t, get(t, kiosk, cd.Text(cd.ID("result-priority"))), "preferencial")
	// The 80 mm ticket is what a print shows, and only it.
	_, err := cd.Call(kiosk, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
	require.NoError(t, err)
	do(t, kiosk, "print layout",
		until(`getComputedStyle(document.getElementById('print-ticket')).display === 'block' && getComputedStyle(document.getElementById('kiosk')).display === 'none'`, 5*time.Second),
		shot(t, "kiosk-print"),
	)
	assert.Equal(t, first, get(t, kiosk, cd.Text(cd.ID("pt-number"))))
	_, err = cd.Call(kiosk, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: ""})
	require.NoError(t, err)

	// Terminal: sign in, see the ticket in his queue, call it with the shortcut.
	do(t, terminal, "terminal sign-in",
		cd.Navigate(base+"/terminal"),
		cd.WaitReady(cd.CSS(`#si-counter option[value="5"]`)),
		// The sign-in page lists no executive IDs: he types his.
		until(`!document.documentElement.outerHTML.includes('E02')`, time.Second),
		cd.SendKeys(cd.ID("si-executive"), "e01"),
		cd.SendKeys(cd.ID("si-pin"), "240681"),
		cd.SetValue(cd.ID("si-counter"), "5"),
		chrometest.Click(cd.ID("si-submit")),
		until(`document.body.dataset.signedIn === 'true'`, 10*time.Second),
		cd.WaitReady(cd.CSS(`#my-queues li[data-number="`+first+`"]`)),
		shot(t, "terminal-queue"),
		cd.KeyEvent("n"),
		until(`document.body.dataset.current === '`+first+`' && document.body.dataset.currentStatus === 'called'`, 10*time.Second),
		shot(t, "terminal-called"),
	)

	// Display: the call shows, highlighted, and is announced in Spanish.
	do(t, display, "display shows the call",
		until(`document.body.dataset.newest === '`+first+`' && document.body.dataset.newestCounter === '5'`, 10*time.Second),
		until(`document.body.dataset.announced === '1'`, 5*time.Second),
		shot(t, "display"),
	)
	checkA11y(t, display, "display")
	checkA11y(t, terminal, "terminal")
	n, _ := strconv.Atoi(first[2:])
	assert.Equal(t, fmt.Sprintf("Número C %d, módulo 5", n), get(t, display, cd.Evaluate[string](`document.body.dataset.lastSpeech`)))
	assert.Equal(t, "Diríjase al módulo 5", get(t, display, cd.Text(cd.ID("newest-counter"))))

	// Terminal: start and finish with an outcome.
	do(t, terminal, "serve and finish",
		cd.KeyEvent("s"),
		until(`document.body.dataset.currentStatus === 'serving'`, 10*time.Second),
		cd.KeyEvent("f"),
		cd.WaitVisible(cd.ID("dlg-complete")),
		cd.SetValue(cd.ID("outcome"), "deposito"),
		chrometest.Click(cd.ID("complete-confirm")),
		until(`document.body.dataset.current === undefined && !document.getElementById('act-call').disabled`, 10*time.Second),
		// Nobody waits now: calling says so, as information, not as an error.
		cd.KeyEvent("n"),
		cd.WaitVisible(cd.ID("term-info")),
		until(`document.getElementById('term-error').hidden && document.body.dataset.current === undefined`, time.Second),
	)

	// Branch page: the day's figures and the executive at his counter.
	branch := newTab(t, browser)
	jsErr.watch(branch, "branch")
	do(t, branch, "branch page",
		cd.Navigate(base+"/branch"),
		cd.WaitReady(cd.CSS(`#executives tr[data-executive="Ana Pérez"]`)),
		cd.WaitReady(cd.CSS(`#queues tr[data-service="C"]`)),
		until(`document.getElementById('f-issued').textContent === '1' && document.getElementById('f-served').textContent === '1'`, 10*time.Second),
		// One ticket called within target: decided, 100 %; none waits past target.
		until(`document.getElementById('f-sla').textContent === '100.0 %' && document.getElementById('f-waiting').textContent === '0'`, 5*time.Second),
		until(`document.querySelector('#queues tr[data-service="C"] td:nth-of-type(6)').textContent === '1'`, 5*time.Second),
		shot(t, "branch"),
	)
	checkA11y(t, branch, "branch")
	do(t, branch, "english",
		cd.Navigate(base+"/kiosk?lang=en"),
		cd.WaitVisible(cd.CSS(`button[data-service="C"]`)),
		until(`document.getElementById('h-services').textContent === 'What do you need today?'`, time.Second),
		until(`document.querySelector('button[data-service="C"]').textContent.includes('Estimated wait')`, time.Second),
		cd.Navigate(base+"/display?lang=en"),
		until(`document.getElementById('newest-counter').textContent === 'Please go to counter 5'`, 10*time.Second),
		shot(t, "display-en"),
	)

	// The agent dies. The display notices; the kiosk keeps retrying one
	// request with one Idempotency-Key until the agent is back.
	ag.kill()
	do(t, display, "display sees the agent gone",
		until(`document.getElementById('conn').dataset.state === 'offline'`, 10*time.Second),
	)
	do(t, kiosk, "issue while the agent is down",
		chrometest.Click(cd.ID("result-done")),
		cd.WaitVisible(cd.CSS(`button[data-service="C"]`)),
		chrometest.Click(cd.CSS(`button[data-service="C"]`)),
		chrometest.Click(cd.ID("rut-skip")),
		chrometest.Click(cd.ID("priority-normal")),
		until(`window.__keys.length >= 3`, 15*time.Second),
		cd.WaitVisible(cd.ID("issuing-status")),
	)
	ag = startAgent(t, data, ag.addr)
	do(t, kiosk, "the retried request gets its ticket",
		cd.WaitVisible(cd.ID("result-number"), cd.RetryInterval(100*time.Millisecond)),
	)
	second := get(t, kiosk, cd.Text(cd.ID("result-number")))
	require.Regexp(t, `^C-\d+$`, second)
	require.NotEqual(t, first, second)
	ks := get(t, kiosk, cd.Evaluate[[]string](`window.__keys.slice(1)`))
	require.GreaterOrEqual(t, len(ks), 3)
	for _, k := range ks {
		assert.Equal(t, ks[0], k, "every retry carries the attempt's Idempotency-Key")
	}
	var stats struct {
		Issued int `json:"issued"`
	}
	call(t, ag, "GET", "/stats/today", "", nil, &stats)
	assert.Equal(t, 2, stats.Issued, "retries issued one ticket, not several")

	// Another executive calls it through the API; the board, never reloaded,
	// reconnected by itself and shows the new call.
	var sess struct {
		Token string `json:"token"`
	}
	call(t, ag, "POST", "/sessions", "", map[string]any{"executive": "E02", "pin": "531962", "counter": 6}, &sess)
	var called struct {
		Number  string `json:"number"`
		Counter int    `json:"counter"`
	}
	call(t, ag, "POST", "/counters/6/call-next", sess.Token, nil, &called)
	require.Equal(t, second, called.Number)
	do(t, display, "display after the restart",
		until(`document.body.dataset.newest === '`+second+`' && document.body.dataset.newestCounter === '6'`, 20*time.Second),
		until(`document.getElementById('conn').dataset.state === 'online'`, 10*time.Second),
		until(`window.__marker === 42`, time.Second),
		until(`document.querySelector('#history li[data-number="`+first+`"]') !== null`, 5*time.Second),
		shot(t, "display-after-restart"),
	)
	do(t, terminal, "terminal reconnects",
		until(`document.getElementById('conn').dataset.state === 'online'`, 20*time.Second),
		until(`document.body.dataset.signedIn === 'true'`, 5*time.Second),
		shot(t, "terminal-after-restart"),
	)

	// The terminal's other actions, against the restarted agent: call a
	// Personal Banker ticket, transfer it to Caja first in line, pause, resume.
	var pb struct {
		Number string `json:"number"`
	}
	call(t, ag, "POST", "/tickets", "", map[string]any{"service": "P"}, &pb)
	do(t, terminal, "transfer, pause and resume",
		cd.WaitReady(cd.CSS(`#my-queues li[data-number="`+pb.Number+`"]`)),
		cd.KeyEvent("n"),
		until(`document.body.dataset.current === '`+pb.Number+`'`, 10*time.Second),
		cd.KeyEvent("t"),
		cd.WaitVisible(cd.ID("dlg-transfer")),
		cd.SetValue(cd.ID("transfer-service"), "C"),
		chrometest.Click(cd.ID("transfer-first")),
		chrometest.Click(cd.ID("transfer-confirm")),
		// Sent at once instead of after its undo window.
		chrometest.Click(cd.ID("undo-now")),
		until(`document.body.dataset.current === undefined`, 10*time.Second),
		cd.WaitReady(cd.CSS(`#my-queues .queue[data-service="C"] li[data-number="`+pb.Number+`"]`)),
		cd.KeyEvent("p"),
		cd.WaitVisible(cd.ID("dlg-pause")),
		chrometest.Click(cd.ID("pause-confirm")),
		cd.WaitVisible(cd.ID("paused")),
		until(`document.getElementById('act-call').disabled && !document.getElementById('act-resume').hidden`, 5*time.Second),
		shot(t, "terminal-paused"),
		cd.KeyEvent("p"),
		cd.WaitNotVisible(cd.ID("paused")),
		until(`!document.getElementById('act-call').disabled`, 5*time.Second),
	)

	// A kiosk set up with ?return=2 goes back to the start on its own.
	do(t, kiosk, "kiosk returns to the start",
		cd.Navigate(base+"/kiosk?return=3&print=auto"),
		cd.WaitVisible(cd.CSS(`button[data-service="E"]`)),
		cd.Evaluate[cd.Void](`window.print = () => { window.__printed = (window.__printed || 0) + 1; }`),
		chrometest.Click(cd.CSS(`button[data-service="E"]`)),
		chrometest.Click(cd.ID("rut-skip")),
		chrometest.Click(cd.ID("priority-normal")),
		until(`!document.getElementById('screen-result').hidden && document.getElementById('result-number').textContent.startsWith('E-')`, 5*time.Second),
		until(`window.__printed === 1`, 3*time.Second),
		until(`document.getElementById('screen-result').hidden && !document.getElementById('screen-services').hidden`, 8*time.Second),
	)

	// An upgrade (another agent version) brings new pages: the board reloads
	// itself onto them, still untouched.
	ag.kill()
	ag = startAgentBin(t, agentBinNext, data, ag.addr)
	var info struct {
		Version string `json:"agent_version"`
	}
	call(t, ag, "GET", "/branch", "", nil, &info)
	require.Equal(t, "browsertest-next", info.Version)
	do(t, display, "display reloads after an upgrade",
		until(`window.__marker === undefined && document.getElementById('conn').dataset.state === 'online' && !!document.body.dataset.newest`, 30*time.Second),
	)
}
