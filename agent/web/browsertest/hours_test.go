package browsertest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	cd "github.com/chromedp/chromedp"
	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/testkit/chrometest"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
)

// TestKioskClosed: the real agent gets HQ's hours over a real broker. A
// service past its last-ticket cut-off shows closed; the branch closes while a
// customer is choosing; his tap is refused and the kiosk keeps saying, in
// Spanish, that the branch is closed and when it opens, with every service
// shown closed, and no ticket is issued.
func TestKioskClosed(t *testing.T) {
	loc, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	now := time.Now().In(loc)
	if now.Hour() == 23 && now.Minute() >= 55 || now.Hour() == 0 && now.Minute() < 5 {
		t.Skip("too close to midnight in Santiago")
	}
	broker := mqtttest.Start(t)
	data := t.TempDir()
	agentCLI(t, "executive", "add", "--data", data, "--id", "E01", "--name", "Ana Pérez", "--pin", "240681", "--services", "C,P")
	c := broker.MustBranchCert(t, "SCL-001")
	ag := startAgentBin(t, agentBin, data, "127.0.0.1:0", "--mqtt", broker.URL(), "--cert", c.CertFile, "--key", c.KeyFile,
		"--ca", broker.PKI.CAFile)

	tlsCfg, err := broker.PKI.TLSConfig(broker.Cloud)
	require.NoError(t, err)
	hq := paho.NewClient(paho.NewClientOptions().AddBroker(broker.URL()).SetClientID(fmt.Sprintf("hq-%d", time.Now().UnixNano()%1e6)).SetTLSConfig(tlsCfg))
	require.True(t, hq.Connect().WaitTimeout(10*time.Second))
	defer hq.Disconnect(100)
	hash, err := bcrypt.GenerateFromPassword([]byte("1234"), bcrypt.MinCost)
	require.NoError(t, err)
	publish := func(version int64, hours string) {
		t.Helper()
		cfg := event.Config{V: event.Version, Branch: "SCL-001", Version: version, TimeZone: "America/Santiago",
			Services: queue.DefaultServices()[:2], Counters: []queue.Counter{{Number: 1, Name: "Módulo 1"}},
			Executives: []event.ConfigExecutive{{Executive: queue.Executive{ID: "E01", Name: "Ana Pérez", Services: []string{"C", "P"}}, PINHash: string(hash)}},
			Rules:      event.DefaultRules(), OpeningHours: hours, Hours: event.Hours{LastTicket: map[string]string{"P": "00:00"}},
			PublishedAt: time.Now().UTC()}
		raw, err := json.Marshal(cfg)
		require.NoError(t, err)
		tok := hq.Publish(event.ConfigTopic("SCL-001"), 1, true, raw)
		require.True(t, tok.WaitTimeout(10*time.Second))
		require.NoError(t, tok.Error())
		require.Eventually(t, func() bool {
			var b struct {
				OpeningHours string `json:"opening_hours"`
			}
			return call(t, ag, "GET", "/branch", "", nil, &b) == 200 && b.OpeningHours == hours
		}, 20*time.Second, 50*time.Millisecond, "config v%d not applied:\n%s", version, ag.out.String())
	}
	publish(1, "00:00-23:59")

	browser := newBrowser(t)
	var jsErr jsErrors
	jsErr.watch(browser, "kiosk")
	defer func() { assert.Empty(t, jsErr.all(), "JavaScript errors in the page") }()
	do(t, browser, "kiosk with P past its cut-off",
		cd.Navigate(ag.URL()+"/kiosk"),
		cd.WaitVisible(cd.CSS(`button[data-service="C"]`)),
		until(`document.querySelector('button[data-service="P"]').disabled && document.querySelector('button[data-service="P"]').textContent.includes('Cerrado por hoy')`, 5*time.Second),
		until(`!document.querySelector('button[data-service="C"]').disabled && document.getElementById('kiosk-closed').hidden`, time.Second),
		until(`document.getElementById('opening-hours').textContent === 'Horario de atención: 00:00-23:59'`, 5*time.Second),
		chrometest.Click(cd.CSS(`button[data-service="C"]`)),
		cd.WaitVisible(cd.ID("rut-skip")),
		chrometest.Click(cd.ID("rut-skip")),
		cd.WaitVisible(cd.ID("priority-normal")),
	)

	// The branch closes (HQ's new hours) while the customer chooses.
	closed, opens := "00:00-01:00", "mañana a las 00:00"
	if now.Hour() < 2 {
		closed, opens = "22:00-23:00", "hoy a las 22:00"
	}
	publish(2, closed)
	want := "La sucursal está cerrada. Abre " + opens + "."
	do(t, browser, "refused tap",
		chrometest.Click(cd.ID("priority-normal")),
		until(`document.getElementById('kiosk-error').textContent === `+jsString(want)+` && !document.getElementById('kiosk-error').hidden`, 10*time.Second),
		until(`document.getElementById('kiosk-closed').textContent === `+jsString(want)+` && !document.getElementById('kiosk-closed').hidden`, 10*time.Second),
		until(`[...document.querySelectorAll('.service-btn')].every((b) => b.disabled)`, 5*time.Second),
		cd.Sleep(1500),
		// Still there after the service refreshes that follow the refusal.
		until(`!document.getElementById('kiosk-error').hidden && document.getElementById('kiosk-error').textContent === `+jsString(want), time.Second),
		shot(t, "kiosk-closed"),
	)
	checkA11y(t, browser, "kiosk closed")
	var svcs struct {
		Services []struct {
			Waiting int  `json:"waiting"`
			Open    bool `json:"open"`
		} `json:"services"`
	}
	require.Equal(t, 200, call(t, ag, "GET", "/services", "", nil, &svcs))
	for _, s := range svcs.Services {
		assert.Zero(t, s.Waiting, "no ticket issued")
		assert.False(t, s.Open)
	}
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }
