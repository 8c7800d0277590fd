package browsertest

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	cd "github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/testkit/chrometest"
)

// TestKioskPhone: with SMS offered, the kiosk asks for an optional mobile
// number after the RUT: continue needs 8 digits and the consent ticked; the
// ticket is issued with the number (stored encrypted, never shown back);
// skipping issues without one. Without --kiosk-sms the screen never shows.
func TestKioskPhone(t *testing.T) {
	dir := t.TempDir()
	ag := startAgentBin(t, agentBin, dir, "127.0.0.1:0", "--kiosk-sms", "on")
	browser := newBrowser(t)
	do(t, browser, "phone with consent",
		cd.EmulateViewport(1024, 768),
		cd.Navigate(ag.URL()+"/kiosk"),
		cd.WaitVisible(cd.CSS(`button[data-service="C"]`)),
		chrometest.Click(cd.CSS(`button[data-service="C"]`)),
		chrometest.Click(cd.ID("rut-skip")),
		cd.WaitVisible(cd.ID("h-phone")),
		until(`document.getElementById('h-phone').textContent === '¿Le avisamos por SMS? (opcional)'`, time.Second),
	)
	for _, k := range "8765432" {
		do(t, browser, "key", chrometest.Click(cd.CSS(`button[data-pkey="`+string(k)+`"]`)))
	}
	do(t, browser, "seven digits: not yet",
		until(`document.getElementById('phone-continue').disabled`, time.Second),
		chrometest.Click(cd.CSS(`button[data-pkey="1"]`)),
		until(`document.getElementById('phone-input').value === '+56 9 8765 4321'`, time.Second),
		until(`document.getElementById('phone-continue').disabled`, time.Second), // no consent yet
		chrometest.Click(cd.ID("phone-consent")),
		until(`!document.getElementById('phone-continue').disabled`, time.Second),
	)
	checkA11y(t, browser, "kiosk phone screen")
	do(t, browser, "issue",
		chrometest.Click(cd.ID("phone-continue")),
		cd.WaitVisible(cd.ID("priority-normal")),
		chrometest.Click(cd.ID("priority-normal")),
		until(`document.getElementById('result-number').textContent === 'C-001'`, 5*time.Second),
	)
	ag.kill()
	n := sqliteCount(t, dir, `SELECT count(*) FROM ticket_phones`)
	assert.Equal(t, 1, n, "the number is kept (encrypted) for the ticket")

	plain := startAgent(t, t.TempDir(), "127.0.0.1:0")
	do(t, browser, "no SMS offered",
		cd.Navigate(plain.URL()+"/kiosk"),
		cd.WaitVisible(cd.CSS(`button[data-service="C"]`)),
		chrometest.Click(cd.CSS(`button[data-service="C"]`)),
		chrometest.Click(cd.ID("rut-skip")),
		cd.WaitVisible(cd.ID("priority-normal")),
	)
	hidden := get(t, browser, cd.Evaluate[bool](`document.getElementById('screen-phone').hidden`))
	require.True(t, hidden)
}

// sqliteCount runs a count query on the agent's database (the agent stopped).
func sqliteCount(t *testing.T, dir, q string) int {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "agent.db")+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRow(q).Scan(&n))
	return n
}

// TestCounterTablet: a customer just served rates the visit on the counter
// tablet with two taps (4, then 9); the agent writes one feedback.given for
// that visit; the tablet thanks him and is ready for the next.
func TestCounterTablet(t *testing.T) {
	data := t.TempDir()
	agentCLI(t, "executive", "add", "--data", data, "--id", "E01", "--name", "Ana Pérez", "--pin", "240681", "--services", "C,P")
	ag := startAgent(t, data, "127.0.0.1:0")
	var sess struct {
		Token string `json:"token"`
	}
	call(t, ag, "POST", "/sessions", "", map[string]any{"executive": "E01", "pin": "240681", "counter": 1}, &sess)
	var tk struct {
		ID string `json:"id"`
	}
	call(t, ag, "POST", "/tickets", "", map[string]any{"service": "C"}, &tk)
	call(t, ag, "POST", "/counters/1/call-next", sess.Token, nil, nil)
	call(t, ag, "POST", "/tickets/"+tk.ID+"/start", sess.Token, nil, nil)
	call(t, ag, "POST", "/tickets/"+tk.ID+"/complete", sess.Token, map[string]any{}, nil)

	browser := newBrowser(t)
	do(t, browser, "two taps",
		cd.EmulateViewport(1280, 800),
		cd.Navigate(ag.URL()+"/tablet?counter=1"),
		cd.WaitVisible(cd.CSS(`button[data-csat="4"]`)),
		until(`document.getElementById('h-csat').textContent === '¿Qué tan satisfecho quedó con la atención?'`, time.Second),
	)
	checkA11y(t, browser, "counter tablet")
	do(t, browser, "answer",
		chrometest.Click(cd.CSS(`button[data-csat="4"]`)),
		cd.WaitVisible(cd.CSS(`button[data-nps="9"]`)),
		chrometest.Click(cd.CSS(`button[data-nps="9"]`)),
		until(`!document.getElementById('screen-thanks').hidden && document.getElementById('tablet-error').hidden`, 5*time.Second),
		until(`!document.getElementById('screen-csat').hidden`, 10*time.Second),
	)
	ag.kill()
	assert.Equal(t, 1, sqliteCount(t, data, `SELECT count(*) FROM outbox WHERE type = 'feedback.given'`))
}
