package agent_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

var santiago = func() *time.Location {
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		panic(err)
	}
	return loc
}()

// at is a wall-clock time in Santiago.
func at(day, hhmm string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly+" 15:04", day+" "+hhmm, santiago)
	if err != nil {
		panic(err)
	}
	return t
}

// newHoursFixture is an engine with a schedule, on the morning of day.
func newHoursFixture(t *testing.T, openingHours string, h event.Hours, day string, st agent.EngineState) *fixture {
	t.Helper()
	sched, err := agent.NewSchedule(openingHours, h)
	require.NoError(t, err)
	f := &fixture{now: at(day, "08:00")}
	e, err := agent.NewEngine(agent.EngineConfig{
		Branch: "SCL-001", Location: santiago, Services: queue.DefaultServices(),
		Counters: []queue.Counter{{Number: 1}, {Number: 2}}, Rules: event.DefaultRules(), Schedule: sched,
		Executives: []agent.Executive{{Executive: queue.Executive{ID: "E01", Name: "Eva", Services: []string{"C", "P"}}, Active: true}},
		NewID:      func() string { f.ids++; return fmt.Sprintf("T%04d", f.ids) },
		NewToken:   func() string { return fmt.Sprintf("tok%d", f.ids) },
	}, st)
	require.NoError(t, err)
	f.e = e
	f.e.Roll(f.now)
	return f
}

// refused issues at now and checks the refusal: its reason, no change, and
// the Spanish message.
func (f *fixture) refused(t *testing.T, svc, reason, es string) {
	t.Helper()
	_, ch, err := f.e.Issue(f.now, agent.IssueRequest{Service: svc})
	require.Error(t, err)
	assert.Equal(t, reason, queue.ErrorReason(err))
	assert.Equal(t, queue.CodeConflict, queue.ErrorCode(err))
	assert.True(t, ch.Empty(), "a refusal writes nothing")
	assert.Equal(t, es, queue.ErrorMessage(i18n.ES, err))
}

func TestIssueOutsideHours(t *testing.T) {
	// Monday 30 November 2026, hours 09:00–14:00 (the report: issued at 16:08).
	f := newHoursFixture(t, "09:00-14:00", event.Hours{}, "2026-11-30", agent.EngineState{})
	f.now = at("2026-11-30", "16:08")
	f.refused(t, "C", "branch.closed", "La sucursal está cerrada. Abre mañana a las 09:00.")
	f.now = at("2026-11-30", "08:59")
	f.refused(t, "C", "branch.closed", "La sucursal está cerrada. Abre hoy a las 09:00.")
	_, _, err := f.e.Issue(f.now, agent.IssueRequest{Service: "C"})
	assert.Equal(t, "The branch is closed. It opens today at 09:00.", queue.ErrorMessage(i18n.EN, err))
	f.now = at("2026-11-30", "09:00")
	assert.Equal(t, "C-001", f.issue(t, "C", queue.Normal).Display(), "open at opening time, numbering untouched by refusals")
	f.now = at("2026-11-30", "13:59")
	f.issue(t, "C", queue.Normal)
	f.now = at("2026-11-30", "14:00")
	f.refused(t, "C", "branch.closed", "La sucursal está cerrada. Abre mañana a las 09:00.")
}

func TestIssueLunchBreakAndWeekend(t *testing.T) {
	h := event.Hours{WeeklyHours: map[string]string{"sat": "", "sun": "", "fri": "09:00-13:00"}}
	f := newHoursFixture(t, "09:00-13:00,14:00-17:00", h, "2026-11-30", agent.EngineState{})
	f.now = at("2026-11-30", "13:30")
	f.refused(t, "C", "branch.closed", "La sucursal está cerrada. Abre hoy a las 14:00.")
	assert.Equal(t, "09:00-13:00,14:00-17:00", f.e.Schedule().Today(f.now))
	assert.Equal(t, "09:00-13:00", f.e.Schedule().Today(at("2026-12-04", "08:00")), "Friday's own hours")
	assert.Equal(t, "", f.e.Schedule().Today(at("2026-12-05", "08:00")), "closed on Saturday")
	f.now = at("2026-11-30", "14:00")
	f.issue(t, "C", queue.Normal)
	// Friday closes at 13:00; Saturday and Sunday closed: next is Monday.
	f.now = at("2026-12-04", "13:10")
	f.refused(t, "C", "branch.closed", "La sucursal está cerrada. Abre el lunes 7 de diciembre a las 09:00.")
	f.now = at("2026-12-05", "10:00")
	f.refused(t, "C", "branch.closed", "La sucursal está cerrada. Abre el lunes 7 de diciembre a las 09:00.")
	_, _, err := f.e.Issue(f.now, agent.IssueRequest{Service: "C"})
	assert.Equal(t, "The branch is closed. It opens on Monday 7 December at 09:00.", queue.ErrorMessage(i18n.EN, err))
}

func TestIssueOnHoliday(t *testing.T) {
	h := event.Hours{Holidays: []event.Holiday{{Date: "2026-12-08", Name: "Inmaculada Concepción"}, {Date: "2026-12-25"}}}
	f := newHoursFixture(t, "09:00-14:00", h, "2026-12-08", agent.EngineState{})
	f.now = at("2026-12-08", "10:00")
	f.refused(t, "C", "branch.holiday", "Hoy es feriado (Inmaculada Concepción) y la sucursal no atiende. Abre mañana a las 09:00.")
	f.now = at("2026-12-24", "15:00")
	f.refused(t, "C", "branch.closed", "La sucursal está cerrada. Abre el sábado 26 de diciembre a las 09:00.")
	f.now = at("2026-12-25", "10:00")
	f.refused(t, "C", "branch.holiday", "Hoy es feriado (feriado) y la sucursal no atiende. Abre mañana a las 09:00.")
	f.now = at("2026-12-09", "10:00")
	f.issue(t, "C", queue.Normal)
}

func TestLastTicketCutoffPerService(t *testing.T) {
	h := event.Hours{LastTicket: map[string]string{"C": "30", "P": "13:00"}}
	f := newHoursFixture(t, "09:00-14:00", h, "2026-11-30", agent.EngineState{})
	f.now = at("2026-11-30", "12:59")
	f.issue(t, "P", queue.Normal)
	f.now = at("2026-11-30", "13:00")
	f.refused(t, "P", "service.closed_for_today", "Ya no se entregan números de Personal Banker por hoy. Vuelva mañana a las 09:00.")
	waiting := f.issue(t, "C", queue.Normal)
	f.now = at("2026-11-30", "13:30")
	f.refused(t, "C", "service.closed_for_today", "Ya no se entregan números de Caja por hoy. Vuelva mañana a las 09:00.")
	f.issue(t, "E", queue.Normal) // no cut-off: until closing

	// Customers already waiting are still served after the cut-off, and after
	// closing within the grace.
	f.now = at("2026-11-30", "14:10")
	assert.True(t, f.e.Roll(f.now).Empty(), "the day is not over during the grace")
	f.login(t, "E01", 1)
	called, _, err := f.e.CallNext(f.now, "E01", 1)
	require.NoError(t, err)
	require.NotNil(t, called)
	assert.Equal(t, "P-001", called.Display())
	_, _, err = f.e.Apply(f.now, agent.Act{Ticket: called.ID, Action: queue.ActionNoShow, Executive: "E01"})
	require.NoError(t, err)
	called, _, err = f.e.CallNext(f.now, "E01", 1)
	require.NoError(t, err)
	require.NotNil(t, called)
	assert.Equal(t, waiting.ID, called.ID)
}

func TestCutoffDuringBreak(t *testing.T) {
	// P's last ticket at 12:30, lunch 13:00–14:00: in the break P is done for
	// today (not "opens at 14:00"), C reopens at 14:00; after closing the
	// branch is closed for both.
	h := event.Hours{LastTicket: map[string]string{"P": "12:30"}}
	f := newHoursFixture(t, "09:00-13:00,14:00-17:00", h, "2026-11-30", agent.EngineState{})
	f.now = at("2026-11-30", "13:30")
	f.refused(t, "P", "service.closed_for_today", "Ya no se entregan números de Personal Banker por hoy. Vuelva mañana a las 09:00.")
	f.refused(t, "C", "branch.closed", "La sucursal está cerrada. Abre hoy a las 14:00.")
	f.now = at("2026-11-30", "17:05")
	f.refused(t, "P", "branch.closed", "La sucursal está cerrada. Abre mañana a las 09:00.")
	f.now = at("2026-11-30", "08:00")
	f.refused(t, "P", "branch.closed", "La sucursal está cerrada. Abre hoy a las 09:00.")
}

func TestDayClosesAtClosingPlusGrace(t *testing.T) {
	f := newHoursFixture(t, "09:00-14:00", event.Hours{}, "2026-11-30", agent.EngineState{})
	f.now = at("2026-11-30", "13:50")
	f.issue(t, "C", queue.Normal)
	f.issue(t, "P", queue.Preferential)
	f.now = at("2026-11-30", "14:29")
	assert.True(t, f.e.Roll(f.now).Empty(), "default grace is 30 min")

	f.now = at("2026-11-30", "14:30")
	ch := f.e.Roll(f.now)
	require.Len(t, ch.Events, 3)
	assert.Equal(t, event.TicketAbandoned, ch.Events[0].Type)
	assert.Equal(t, event.TicketAbandoned, ch.Events[1].Type)
	assert.Equal(t, event.DayClosed, ch.Events[2].Type)
	assert.Equal(t, event.Day{Day: "2026-11-30", Abandoned: 2}, ch.Events[2].Data)
	assert.Equal(t, "2026-11-30", ch.Meta[agent.MetaDayClosed])
	assert.Empty(t, f.e.Open())
	assert.Equal(t, "2026-11-30", f.e.Day(), "the date is still today")
	assert.True(t, f.e.Roll(f.now.Add(time.Hour)).Empty(), "closed once")

	// Midnight: a new day, no second day.closed.
	f.now = at("2026-12-01", "00:00")
	ch = f.e.Roll(f.now)
	assert.Empty(t, ch.Events)
	assert.Equal(t, "2026-12-01", ch.Meta[agent.MetaDay])
	f.now = at("2026-12-01", "09:00")
	assert.Equal(t, "C-001", f.issue(t, "C", queue.Normal).Display(), "numbers restart")
}

func TestDayCloseGraceConfigured(t *testing.T) {
	grace := 45
	f := newHoursFixture(t, "09:00-13:00,14:00-17:00", event.Hours{CloseGraceMin: &grace}, "2026-11-30", agent.EngineState{})
	f.now = at("2026-11-30", "10:00")
	f.issue(t, "C", queue.Normal)
	f.now = at("2026-11-30", "13:50")
	assert.True(t, f.e.Roll(f.now).Empty(), "a lunch break does not close the day")
	f.now = at("2026-11-30", "17:44")
	assert.True(t, f.e.Roll(f.now).Empty())
	f.now = at("2026-11-30", "17:45")
	ch := f.e.Roll(f.now)
	require.Len(t, ch.Events, 2)
	assert.Equal(t, event.DayClosed, ch.Events[1].Type)
}

func TestDayClosedSurvivesRestart(t *testing.T) {
	// A day that ended at 14:30 and an agent restarted at 20:00: no second close.
	f := newHoursFixture(t, "09:00-14:00", event.Hours{}, "2026-11-30", agent.EngineState{Day: "2026-11-30", Closed: true})
	f.now = at("2026-11-30", "20:00")
	assert.True(t, f.e.Roll(f.now).Empty())
	assert.Empty(t, f.e.Roll(at("2026-12-01", "00:00")).Events)
	// Not closed yet at a restart after the grace: it closes now.
	f = newHoursFixture(t, "09:00-14:00", event.Hours{}, "2026-11-30", agent.EngineState{Day: "2026-11-30"})
	ch := f.e.Roll(at("2026-11-30", "20:00"))
	require.Len(t, ch.Events, 1)
	assert.Equal(t, event.DayClosed, ch.Events[0].Type)
}

func TestHoursPublishedAfterClosing(t *testing.T) {
	// HQ publishes 09:00–14:00 at 16:08 to a branch still serving its queue:
	// the day ends a grace after the hours arrived, not at once.
	f := newHoursFixture(t, "09:00-14:00", event.Hours{}, "2026-11-30",
		agent.EngineState{Day: "2026-11-30", HoursSince: at("2026-11-30", "16:08"), Tickets: []agent.Ticket{{
			ID: "W1", Day: "2026-11-30", OriginService: "C", Number: 7, Service: "C", Priority: queue.Normal,
			Status: queue.StatusWaiting, QueuedAt: at("2026-11-30", "15:50"), CreatedAt: at("2026-11-30", "15:50")}}})
	assert.True(t, f.e.Roll(at("2026-11-30", "16:37")).Empty())
	f.now = at("2026-11-30", "16:10")
	f.refused(t, "C", "branch.closed", "La sucursal está cerrada. Abre mañana a las 09:00.")
	ch := f.e.Roll(at("2026-11-30", "16:38"))
	require.Len(t, ch.Events, 2)
	assert.Equal(t, event.Day{Day: "2026-11-30", Abandoned: 1}, ch.Events[1].Data)
	// Hours that arrived before closing change nothing: the day ends at 14:30.
	f = newHoursFixture(t, "09:00-14:00", event.Hours{}, "2026-11-30", agent.EngineState{Day: "2026-11-30", HoursSince: at("2026-11-30", "10:00")})
	require.Len(t, f.e.Roll(at("2026-11-30", "14:30")).Events, 1)
}

func TestNoHoursBehavesAsBefore(t *testing.T) {
	sched, err := agent.NewSchedule("", event.Hours{Holidays: []event.Holiday{{Date: "2026-11-30"}}})
	require.NoError(t, err)
	assert.Nil(t, sched, "no hours: no schedule, holidays alone do not close")
	f := newHoursFixture(t, "", event.Hours{}, "2026-11-30", agent.EngineState{})
	f.now = at("2026-11-30", "23:30")
	f.issue(t, "C", queue.Normal)
	assert.True(t, f.e.Roll(f.now).Empty())
	ch := f.e.Roll(at("2026-12-01", "00:00"))
	require.Len(t, ch.Events, 2, "closes at midnight")
}

func TestNewScheduleRefusesBadInput(t *testing.T) {
	for _, h := range []event.Hours{
		{WeeklyHours: map[string]string{"lunes": "09:00-14:00"}},
		{WeeklyHours: map[string]string{"mon": "14:00-09:00"}},
		{LastTicket: map[string]string{"C": "1:30"}},
	} {
		_, err := agent.NewSchedule("09:00-14:00", h)
		assert.Error(t, err, "%+v", h)
	}
}

// BenchmarkCheckIssue is the schedule's cost on the issue path: open (the
// common case) and closed (the refusal computes the next opening).
func BenchmarkCheckIssue(b *testing.B) {
	h := event.Hours{WeeklyHours: map[string]string{"sat": "", "sun": ""}, LastTicket: map[string]string{"C": "30"},
		Holidays: []event.Holiday{{Date: "2026-12-08"}, {Date: "2026-12-25"}}}
	sched, err := agent.NewSchedule("09:00-13:00,14:00-17:00", h)
	require.NoError(b, err)
	svc := queue.DefaultServices()[0]
	for name, now := range map[string]time.Time{"open": at("2026-11-30", "10:00"), "closed": at("2026-12-04", "18:00")} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				_ = sched.CheckIssue(svc, now)
			}
		})
	}
}
