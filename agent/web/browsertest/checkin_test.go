package browsertest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	cd "github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
	"github.com/ticketero/ticketero/shared/testkit/chrometest"
)

// TestKioskCheckIn: the branch holds a booking for five minutes from now
// and a number taken from a phone (the cloud's appointment.book and
// ticket.join, applied as the relay applies them). At the kiosk, "Tengo hora
// agendada": a wrong code is refused in Spanish; the booked customer types
// his RUT and gets his number, marked "Hora agendada"; the phone customer
// types his code and is told he is in the queue. The check-in screen fits a
// 1024×768 kiosk. The terminal lists the booked ticket marked, calls it and
// shows the booking's note; the TV marks the call.
func TestKioskCheckIn(t *testing.T) {
	loc, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	now := time.Now().In(loc)
	if now.Hour() == 23 && now.Minute() >= 50 || now.Hour() == 0 && now.Minute() < 5 {
		t.Skip("too close to midnight in Santiago")
	}
	data := t.TempDir()
	rules := event.DefaultRules()
	rules.Appointments.Remote = map[string]event.RemoteRule{"C": {Open: true, Cap: 5}}
	start := now.Add(5 * time.Minute).Truncate(time.Minute)
	book := &event.AppointmentOrder{Appointment: "A-1", Rev: 1, Service: "P", Start: start, End: start.Add(20 * time.Minute),
		Code: "482913", RUTCheck: seal.CheckInHash("SCL-001", now.Format(time.DateOnly), "12345678-5"),
		Note: "Viene a firmar su crédito hipotecario"}
	seedAgent(t, data, event.Config{V: event.Version, Branch: "SCL-001", Version: 1, TimeZone: "America/Santiago",
		Services: queue.DefaultServices(), Counters: []queue.Counter{{Number: 1}, {Number: 2}}, Rules: rules},
		event.Command{V: 1, Branch: "SCL-001", ID: "cmd-book", Type: event.CommandBookAppointment, Appointment: book, At: time.Now()},
		joinCommand())
	agentCLI(t, "executive", "add", "--data", data, "--id", "E01", "--name", "Ana Pérez", "--pin", "240681", "--services", "C,P")
	ag := startAgent(t, data, "127.0.0.1:0")

	browser := newBrowser(t)
	var jsErr jsErrors
	jsErr.watch(browser, "kiosk")
	defer func() { assert.Empty(t, jsErr.all(), "JavaScript errors in the pages") }()
	ckeys := func(s string) cd.Action[cd.Void] {
		var steps []cd.Action[cd.Void]
		for _, c := range s {
			steps = append(steps, chrometest.Click(cd.CSS(`.ckey[data-ckey="`+string(c)+`"]`)))
		}
		return cd.Steps(steps...)
	}
	do(t, browser, "a wrong code",
		cd.EmulateViewport(1024, 768),
		cd.Navigate(ag.URL()+"/kiosk?return=300"),
		cd.WaitVisible(cd.ID("checkin-start")),
		until(`document.getElementById('checkin-start').textContent.includes('Tengo hora agendada')`, time.Second),
		chrometest.Click(cd.ID("checkin-start")),
		cd.WaitVisible(cd.ID("checkin-input")),
		chrometest.Click(cd.ID("checkin-by-code")),
		until(`document.getElementById('checkin-k').hidden && document.getElementById('checkin-label').textContent === 'Código de 6 dígitos de su reserva'`, time.Second),
		ckeys("11111"),
		until(`document.getElementById('checkin-submit').disabled`, time.Second),
		ckeys("1"),
		until(`!document.getElementById('checkin-submit').disabled`, time.Second),
		chrometest.Click(cd.ID("checkin-submit")),
		until(`document.getElementById('checkin-status').textContent.startsWith('No encontramos una reserva')`, 5*time.Second),
		shot(t, "kiosk-checkin-not-found"),
	)
	js, err := json.Marshal([]string{"#checkin-by-rut", "#checkin-by-code", "#checkin-input", "#checkin-status",
		`.ckey[data-ckey="0"]`, `.ckey[data-ckey="del"]`, "#checkin-submit", "#checkin-back"})
	require.NoError(t, err)
	assert.Empty(t, get(t, browser, cd.Evaluate[[]string](offscreen+"("+string(js)+")")), "the check-in screen fits 1024x768")
	checkA11y(t, browser, "kiosk check-in")

	do(t, browser, "the booked customer, by RUT",
		chrometest.Click(cd.ID("checkin-by-rut")),
		ckeys("123456785"),
		until(`document.getElementById('checkin-input').value === '12.345.678-5' && !document.getElementById('checkin-submit').disabled`, time.Second),
		chrometest.Click(cd.ID("checkin-submit")),
		until(`document.getElementById('result-number').textContent === 'P-001'`, 5*time.Second),
		// The kiosk shows times in its own clock's zone, as the rest of its page.
		until(`!document.getElementById('result-appointment').hidden && document.getElementById('result-appointment').textContent === 'Hora agendada · ' + TK.timeOfDay(`+jsString(start.UTC().Format(time.RFC3339))+`)`, time.Second),
		until(`document.getElementById('result-checkin').textContent.startsWith('Lo llamaremos a su hora')`, time.Second),
		until(`document.getElementById('pt-appointment').textContent.startsWith('Hora agendada')`, time.Second),
		shot(t, "kiosk-checkin-booked"),
		chrometest.Click(cd.ID("result-done")),
		cd.WaitVisible(cd.ID("checkin-start")),
	)
	do(t, browser, "the phone customer, by code",
		chrometest.Click(cd.ID("checkin-start")),
		cd.WaitVisible(cd.ID("checkin-input")),
		chrometest.Click(cd.ID("checkin-by-code")),
		ckeys("700700"),
		chrometest.Click(cd.ID("checkin-submit")),
		until(`document.getElementById('result-number').textContent === 'C-001'`, 5*time.Second),
		until(`document.getElementById('result-appointment').hidden && document.getElementById('result-checkin').textContent.startsWith('Llegada registrada')`, time.Second),
		chrometest.Click(cd.ID("result-done")),
	)

	// The terminal: the booked ticket marked in the queue, called, its note shown.
	term := newTab(t, browser)
	jsErr.watch(term, "terminal")
	do(t, term, "terminal",
		cd.EmulateViewport(1280, 800),
		signIn(ag.URL(), "E01", "240681", "1"),
		until(`(() => { const li = document.querySelector('li[data-number="P-001"]'); return li && li.querySelector('.tl-appt').textContent === 'Hora agendada'; })()`, 5*time.Second),
		chrometest.Click(cd.ID("act-call")),
		until(`document.body.dataset.current === 'P-001'`, 5*time.Second),
		until(`!document.getElementById('cur-appt').hidden && document.getElementById('cur-appt').textContent === 'Hora agendada ' + TK.timeOfDay(`+jsString(start.UTC().Format(time.RFC3339))+`)`, 5*time.Second),
		until(`document.getElementById('cust-note').textContent === 'Nota de la reserva: Viene a firmar su crédito hipotecario'`, 5*time.Second),
		shot(t, "terminal-appointment"),
	)
	tv := newTab(t, browser)
	jsErr.watch(tv, "display")
	do(t, tv, "the TV marks the booked call",
		cd.EmulateViewport(1920, 1080),
		cd.Navigate(ag.URL()+"/display"),
		until(`document.body.dataset.newest === 'P-001' && !document.getElementById('newest-appt').hidden`, 10*time.Second),
		until(`document.getElementById('newest-appt').textContent === 'Hora agendada'`, time.Second),
		shot(t, "display-appointment"),
	)
}

// TestTerminalRemoteNotHere: a number taken from the phone whose customer
// has not checked in is listed in the terminal's queue as "aún no llega",
// cannot be called, and call-next passes it by.
func TestTerminalRemoteNotHere(t *testing.T) {
	data := t.TempDir()
	rules := event.DefaultRules()
	rules.Appointments.Remote = map[string]event.RemoteRule{"C": {Open: true}}
	seedAgent(t, data, event.Config{V: event.Version, Branch: "SCL-001", Version: 1, TimeZone: "America/Santiago",
		Services: queue.DefaultServices(), Counters: []queue.Counter{{Number: 1}}, Rules: rules}, joinCommand())
	agentCLI(t, "executive", "add", "--data", data, "--id", "E01", "--name", "Ana Pérez", "--pin", "240681", "--services", "C")
	ag := startAgent(t, data, "127.0.0.1:0")
	call(t, ag, "POST", "/tickets", "", map[string]string{"service": "C"}, nil)

	browser := newBrowser(t)
	var jsErr jsErrors
	jsErr.watch(browser, "terminal")
	defer func() { assert.Empty(t, jsErr.all(), "JavaScript errors in the terminal") }()
	do(t, browser, "terminal",
		cd.EmulateViewport(1280, 800),
		signIn(ag.URL(), "E01", "240681", "1"),
		until(`(() => { const li = document.querySelector('li[data-number="C-001"]'); return li && li.classList.contains('absent') && li.querySelector('.tl-absent').textContent === 'aún no llega' && li.querySelector('.call-this').disabled; })()`, 5*time.Second),
		until(`document.querySelector('.queue[data-service="C"] .q-count').textContent.includes('1')`, time.Second),
		chrometest.Click(cd.ID("act-call")),
		until(`document.body.dataset.current === 'C-002'`, 5*time.Second),
		shot(t, "terminal-remote-not-here"),
	)
}

// seedAgent writes the data key and an HQ configuration into the agent's
// data directory dir, and applies cmds as the relay would (the cloud's
// commands), before the agent starts.
func seedAgent(t *testing.T, dir string, cfg event.Config, cmds ...event.Command) {
	t.Helper()
	key := make([]byte, sqlite.KeySize)
	_, _ = rand.Read(key)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data.key"), []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600))
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dir, "agent.db"), Branch: "SCL-001", DataKey: key})
	require.NoError(t, err)
	require.NoError(t, st.ApplyConfig(ctx, cfg))
	for _, c := range cmds {
		require.NoError(t, st.ApplyCommand(ctx, c))
	}
	require.NoError(t, st.Close())
}

// signIn signs exec in at counter on the terminal page of base.
func signIn(base, exec, pin, counter string) cd.Action[cd.Void] {
	return cd.Steps(
		cd.Navigate(base+"/terminal"),
		cd.WaitReady(cd.CSS(`#si-counter option[value="`+counter+`"]`)),
		cd.SendKeys(cd.ID("si-executive"), exec),
		cd.SendKeys(cd.ID("si-pin"), pin),
		cd.SetValue(cd.ID("si-counter"), counter),
		chrometest.Click(cd.ID("si-submit")),
		until(`document.body.dataset.signedIn === 'true'`, 10*time.Second),
	)
}

// joinCommand is the cloud's ticket.join of a phone customer (code 700700).
func joinCommand() event.Command {
	return event.Command{V: 1, Branch: "SCL-001", ID: "cmd-join", Type: event.CommandJoinQueue,
		Join: &event.JoinOrder{Service: "C", Channel: event.ChannelWeb, Code: "700700"}, At: time.Now()}
}
