package agent_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// apptRules are the default rules with remote joining open for C (cap 2).
func apptRules() event.Rules {
	r := event.DefaultRules()
	r.Appointments = event.AppointmentRules{Remote: map[string]event.RemoteRule{"C": {Open: true, Cap: 2}}}
	return r
}

func order(id string, rev int, svc string, start time.Time, code string) *event.AppointmentOrder {
	return &event.AppointmentOrder{Appointment: id, Rev: rev, Service: svc, Start: start, End: start.Add(15 * time.Minute),
		Code: code, RUTCheck: "check-" + code, Note: "nota " + id}
}

// only returns the one event of ch, of type typ.
func only(t *testing.T, ch agent.Change, typ event.Type) any {
	t.Helper()
	require.Len(t, ch.Events, 1)
	require.Equal(t, typ, ch.Events[0].Type)
	return ch.Events[0].Data
}

func TestBookAppointmentAnswers(t *testing.T) {
	f := newFixture(t, apptRules())
	ch, _ := f.e.BookAppointment(f.now, order("A1", 1, "C", f.now.Add(time.Hour), "111111"), "c1")
	r := only(t, ch, event.AppointmentReceived).(event.AppointmentRef)
	assert.Equal(t, 1, r.Rev)
	require.Len(t, ch.Appointments, 1)
	// An older revision (reordered) is answered with what the branch holds.
	ch, res := f.e.BookAppointment(f.now, order("A1", 2, "C", f.now.Add(2*time.Hour), "111111"), "c2")
	assert.Equal(t, "received: rev 2", res)
	ch, _ = f.e.BookAppointment(f.now, order("A1", 1, "C", f.now.Add(time.Hour), "111111"), "c3")
	r = only(t, ch, event.AppointmentReceived).(event.AppointmentRef)
	assert.Equal(t, 2, r.Rev)
	assert.Equal(t, "c3", r.Request)
	assert.Empty(t, ch.Appointments, "nothing changes")
	a, ok := f.e.Appointment("A1")
	require.True(t, ok)
	assert.True(t, a.Start.Equal(f.now.Add(2*time.Hour)))

	// A cancel that overtook its booking holds the booking off the book.
	ch, _ = f.e.CancelAppointment(f.now, &event.AppointmentOrder{Appointment: "A9", Rev: 1}, "c4")
	only(t, ch, event.AppointmentCancelled)
	ch, _ = f.e.BookAppointment(f.now, order("A9", 1, "C", f.now.Add(time.Hour), "999999"), "c5")
	assert.Equal(t, "customer", only(t, ch, event.AppointmentCancelled).(event.AppointmentCancel).By)

	decline := func(o *event.AppointmentOrder) string {
		ch, _ := f.e.BookAppointment(f.now, o, "d")
		return only(t, ch, event.AppointmentDeclined).(event.AppointmentDecline).Reason
	}
	assert.Equal(t, event.DeclineSlotPassed, decline(order("B1", 1, "C", f.now.Add(-11*time.Minute), "222222")))
	assert.Equal(t, event.DeclineServiceUnknown, decline(order("B2", 1, "Z", f.now.Add(time.Hour), "222222")))
	assert.Equal(t, event.DeclineInvalid, decline(order("B3", 1, "C", f.now.Add(time.Hour), "22222")))
	assert.Equal(t, event.DeclineInvalid, decline(nil))
	bad := order("B4", 1, "C", f.now.Add(time.Hour), "222222")
	bad.Note = "a\x00b"
	assert.Equal(t, event.DeclineInvalid, decline(bad))
	// Within the grace a booking still reaches the branch.
	ch, _ = f.e.BookAppointment(f.now, order("B5", 1, "C", f.now.Add(-9*time.Minute), "555555"), "e")
	only(t, ch, event.AppointmentReceived)
}

func TestBookAppointmentDayClosed(t *testing.T) {
	// Open 09:00-11:00 on weekdays and Saturdays, the 30th a holiday.
	f := newFixtureWith(t, func(c *agent.EngineConfig) {
		s, err := agent.NewSchedule("09:00-11:00", event.Hours{Holidays: []event.Holiday{{Date: "2026-11-30", Name: "Feriado"}}})
		require.NoError(t, err)
		c.Schedule = s
	}, apptRules())
	decline := func(start time.Time) string {
		ch, _ := f.e.BookAppointment(f.now, order("D", 1, "C", start, "444444"), "d")
		require.Len(t, ch.Events, 1)
		if d, ok := ch.Events[0].Data.(event.AppointmentDecline); ok {
			return d.Reason
		}
		return string(ch.Events[0].Type)
	}
	assert.Equal(t, event.DeclineDayClosed, decline(f.now.Add(48*time.Hour)), "a holiday")
	f.tick(90 * time.Minute) // 11:30: the day ended at 11:00 + grace 30 min
	ch := f.e.Roll(f.now)
	require.NotEmpty(t, ch.Events)
	assert.Equal(t, event.DeclineDayClosed, decline(f.now.Add(5*time.Minute)))
	assert.Equal(t, string(event.AppointmentReceived), decline(f.now.Add(24*time.Hour)), "tomorrow is open")
}

func TestJoinRefusals(t *testing.T) {
	f := newFixture(t, apptRules())
	join := func(svc, channel, code string) (agent.Change, string) {
		return f.e.Join(f.now, &event.JoinOrder{Service: svc, Channel: channel, Code: code}, "j-"+svc+code)
	}
	refusal := func(svc, channel, code string) string {
		ch, _ := join(svc, channel, code)
		return only(t, ch, event.JoinRefused).(event.JoinRefusal).Reason
	}
	assert.Equal(t, event.RefuseInvalid, refusal("C", "web", "1"))
	assert.Equal(t, event.RefuseInvalid, refusal("C", "fax", "100001"))
	assert.Equal(t, event.RefuseUnknown, refusal("Z", "web", "100001"))
	assert.Equal(t, event.RefuseNotOpen, refusal("P", "web", "100001"))
	ch, _ := join("C", "telegram", "100001")
	iss := only(t, ch, event.TicketIssued).(event.Issued)
	assert.Equal(t, "j-C100001", iss.Join)
	assert.Equal(t, "telegram", iss.Channel)
	assert.Equal(t, event.ActorTelegram, iss.Actor.Kind)
	_, _ = join("C", "web", "100002")
	assert.Equal(t, event.RefuseCapacity, refusal("C", "web", "100003"))
	// Checked in, a remote ticket no longer counts toward the cap.
	_, ch, err := f.e.CheckInByCommand(f.now, iss.Ticket, "q1")
	require.NoError(t, err)
	assert.Equal(t, "qr", only(t, ch, event.TicketCheckedIn).(event.CheckedIn).By)
	_, ch, err = f.e.CheckInByCommand(f.now, iss.Ticket, "q2")
	require.NoError(t, err, "checked in already: answered again, so the cloud's command settles")
	assert.Equal(t, "q2", only(t, ch, event.TicketCheckedIn).(event.CheckedIn).Request)
	assert.Empty(t, ch.Tickets, "nothing changes")
	ch, _ = join("C", "web", "100003")
	only(t, ch, event.TicketIssued)

	// Closed now: outside the hours.
	g := newFixtureWith(t, func(c *agent.EngineConfig) {
		s, err := agent.NewSchedule("11:00-14:00", event.Hours{})
		require.NoError(t, err)
		c.Schedule = s
	}, apptRules())
	ch, _ = g.e.Join(g.now, &event.JoinOrder{Service: "C", Code: "100001"}, "j")
	assert.Equal(t, event.RefuseClosed, only(t, ch, event.JoinRefused).(event.JoinRefusal).Reason)
}

func TestCheckInLateAndEarly(t *testing.T) {
	f := newFixture(t, apptRules())
	for i, start := range []time.Time{f.now, f.now.Add(70 * time.Minute), f.now.Add(25 * time.Minute)} {
		ch, _ := f.e.BookAppointment(f.now, order(string(rune('A'+i)), 1, "P", start, []string{"100000", "200000", "300000"}[i]), "c")
		only(t, ch, event.AppointmentReceived)
	}
	f.tick(20 * time.Minute) // 10:20
	_, _, err := f.e.CheckIn(f.now, agent.CheckIn{Code: "200000"})
	var qe *queue.Error
	require.ErrorAs(t, err, &qe)
	assert.Equal(t, "appointment.too_early", qe.Reason)
	assert.Equal(t, []any{"11:10", "10:40"}, qe.Args)
	_, _, err = f.e.CheckIn(f.now, agent.CheckIn{})
	assert.Equal(t, "checkin.invalid", queue.ErrorReason(err))

	// Late (20 min after a 10:00 slot): an ordinary ticket, the booking kept.
	late, ch, err := f.e.CheckIn(f.now, agent.CheckIn{RUTCheck: "check-100000"})
	require.NoError(t, err)
	assert.True(t, late.Late)
	assert.False(t, late.Ticket.Booked())
	assert.Equal(t, "A", late.Ticket.Appointment)
	require.Len(t, ch.Events, 2)
	assert.True(t, ch.Events[1].Data.(event.AppointmentCheckIn).Late)
	// On time: due at its start, ahead of the late one.
	onTime, _, err := f.e.CheckIn(f.now, agent.CheckIn{Code: "300000"})
	require.NoError(t, err)
	assert.True(t, onTime.Ticket.Booked())
	assert.Equal(t, 2, onTime.Position, "early: after the walk-in (the late one)")
	assert.Equal(t, 1, f.e.Position(late.Ticket.ID, f.now))
	f.tick(5 * time.Minute) // now due
	assert.Equal(t, 1, f.e.Position(onTime.Ticket.ID, f.now))
	assert.Equal(t, 2, f.e.Position(late.Ticket.ID, f.now))
	_, _, err = f.e.CheckIn(f.now, agent.CheckIn{Code: "300000"})
	assert.Equal(t, "checkin.not_found", queue.ErrorReason(err), "once")
}
