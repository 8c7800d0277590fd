package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// TestOpeningHoursEndToEnd runs the real agent and cloud with a fake Bot API:
// HQ's config (on the retained config topic) gives the branch hours that close
// at the next minute with no grace and a cut-off already past for P. The kiosk
// issues C while open and refuses P (service.closed_for_today); a customer
// links C by Telegram; at closing the agent ends the day by itself (no
// traffic), the cloud projects the abandoned ticket, the customer is told in
// Spanish that the branch closed, and the kiosk then refuses with
// branch.closed, writing nothing.
func TestOpeningHoursEndToEnd(t *testing.T) {
	parallelOnClock(t)
	loc, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	if now := time.Now().In(loc); now.Hour() == 23 && now.Minute() >= 50 {
		t.Skip("too close to midnight in Santiago for a same-day closing")
	}
	e := newEnv(t, "E2E-HRS")
	fake := telegramEnv(t, e)
	// The closing is set once both programs run (starting may take long on a
	// busy machine): the next minute with at least 30 s to issue and link.
	now := time.Now().In(loc)
	closeAt := now.Truncate(time.Minute).Add(time.Minute)
	if now.Add(30 * time.Second).After(closeAt) {
		closeAt = closeAt.Add(time.Minute)
	}
	if closeAt.Day() != now.Day() {
		t.Skip("too close to midnight in Santiago for a same-day closing")
	}

	hash, err := bcrypt.GenerateFromPassword([]byte("1234"), bcrypt.MinCost)
	require.NoError(t, err)
	grace := 0
	hours := "00:00-" + closeAt.Format("15:04")
	cfg := event.Config{V: event.Version, Branch: e.branch, Version: 1, TimeZone: "America/Santiago",
		Services: queue.DefaultServices(), Counters: []queue.Counter{{Number: 1, Name: "Módulo 1"}},
		Executives: []event.ConfigExecutive{{Executive: queue.Executive{ID: "E01", Name: "Ana Pérez", Services: []string{"C", "P"}}, PINHash: string(hash)}},
		Rules:      event.DefaultRules(), OpeningHours: hours,
		Hours: event.Hours{CloseGraceMin: &grace, LastTicket: map[string]string{"P": "00:00"},
			Holidays: []event.Holiday{{Date: closeAt.AddDate(0, 0, 1).Format(time.DateOnly), Name: "Feriado de prueba"}}},
		PublishedAt: time.Now().UTC()}
	e.publishConfig(cfg)
	require.Eventually(t, func() bool {
		var b struct {
			OpeningHours string `json:"opening_hours"`
		}
		_, err := e.do("GET", "/api/v1/branch", "", nil, &b)
		return err == nil && b.OpeningHours == hours
	}, 30*time.Second, 50*time.Millisecond, "config not applied: %s", e.agent.output())

	tk := e.issueOne("C")
	var p struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
	}
	code, err := e.do("POST", "/api/v1/tickets", "", map[string]string{"service": "P"}, &p)
	require.NoError(t, err)
	assert.Equal(t, 409, code)
	assert.Equal(t, "service.closed_for_today", p.Code)
	assert.Equal(t, "Ya no se entregan números de Personal Banker por hoy. Vuelva el "+
		spanishDate(closeAt.AddDate(0, 0, 2))+" a las 00:00.", p.Detail, "tomorrow is a holiday: the day after")
	fake.AddUpdate(telegramtest.TextUpdate(9301, "es", "/start "+tk.Token))
	waitTexts(t, fake, 9301, 2)

	want := "La sucursal cerró la atención de hoy; tu número " + tk.Number + " ya no será llamado."
	require.Eventually(t, func() bool { return slices.Contains(fake.SentTo(9301), want) },
		time.Until(closeAt)+60*time.Second, 100*time.Millisecond, "day-closed message: %v", fake.SentTo(9301))
	assert.False(t, time.Now().Before(closeAt), "not before closing time")
	var st string
	require.NoError(t, e.db.QueryRow(t.Context(), `SELECT status FROM tickets WHERE id = $1`, tk.ID).Scan(&st))
	assert.Equal(t, "abandoned", st)
	var closed int
	require.NoError(t, e.db.QueryRow(t.Context(), `SELECT count(*) FROM events WHERE branch = $1 AND type = 'day.closed'`, e.branch).Scan(&closed))
	assert.Equal(t, 1, closed)

	before := e.agentSync()
	code, err = e.do("POST", "/api/v1/tickets", "", map[string]string{"service": "C"}, &p)
	require.NoError(t, err)
	assert.Equal(t, 409, code)
	assert.Equal(t, "branch.closed", p.Code)
	assert.Contains(t, p.Detail, "La sucursal está cerrada. Abre ")
	assert.Equal(t, before.LastSeq, e.agentSync().LastSeq, "a refusal writes nothing")
}

// spanishDate is "lunes 7 de diciembre".
func spanishDate(d time.Time) string {
	days := []string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"}
	months := []string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}
	return fmt.Sprintf("%s %d de %s", days[d.Weekday()], d.Day(), months[d.Month()-1])
}
