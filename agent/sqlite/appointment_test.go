package sqlite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

// applyAppointmentRules publishes the default services with remote joining
// open for C (cap cap).
func applyAppointmentRules(t *testing.T, st *sqlite.Store, version int64, cap int) {
	t.Helper()
	rules := event.DefaultRules()
	rules.Appointments = event.AppointmentRules{Remote: map[string]event.RemoteRule{"C": {Open: true, Cap: cap}}}
	require.NoError(t, st.ApplyConfig(context.Background(), event.Config{V: 1, Branch: "SCL-001", Version: version,
		TimeZone: "America/Santiago", Services: queue.DefaultServices(), Counters: []queue.Counter{{Number: 1}, {Number: 2}},
		Executives: []event.ConfigExecutive{{Executive: queue.Executive{ID: "E01", Name: "Ana", Services: []string{"C", "P"}}}},
		Rules:      rules}))
}

func book(id string, rev int, svc string, start time.Time, code, rut string) *event.AppointmentOrder {
	o := &event.AppointmentOrder{Appointment: id, Rev: rev, Service: svc, Start: start, End: start.Add(20 * time.Minute),
		Code: code, Note: "Traigo la escritura", Token: "tok-" + id + "-" + code}
	if rut != "" {
		o.RUTCheck = seal.CheckInHash("SCL-001", start.In(santiago).Format(time.DateOnly), rut)
	}
	return o
}

var santiago, _ = time.LoadLocation("America/Santiago")

// pendingOf returns the outbox's events of the given types, in order.
func pendingOf(t *testing.T, st *sqlite.Store, types ...event.Type) []event.Event {
	t.Helper()
	evs, err := st.Pending(context.Background(), 0, 1000)
	require.NoError(t, err)
	var out []event.Event
	for _, ev := range evs {
		for _, typ := range types {
			if ev.Type == typ {
				out = append(out, ev)
			}
		}
	}
	return out
}

func payload[T any](t *testing.T, ev event.Event) T {
	t.Helper()
	p, err := ev.Payload()
	require.NoError(t, err)
	return *p.(*T)
}

// TestAppointmentCommandsOnSQLite drives every command of the wire contract
// through a real SQLite store: each is applied once by its ID, answered by
// an outbox event in the same transaction, and survives a restart.
func TestAppointmentCommandsOnSQLite(t *testing.T) {
	e := MustStore(t, 2)
	ctx := context.Background()
	MustExecutive(t, e.path, "E01", "C", "P")
	applyAppointmentRules(t, e.st, 1, 1)
	cmd := func(id, typ string, o *event.AppointmentOrder) event.Command {
		return event.Command{V: 1, Branch: "SCL-001", ID: id, Type: typ, Appointment: o, At: e.clock.Now()}
	}
	// 10:00 in Santiago. A booking at 10:50, its repeat, a reschedule.
	a1 := book("A1", 1, "P", t0.Add(40*time.Minute), "123456", "12345678-5")
	require.NoError(t, e.st.ApplyCommand(ctx, cmd("c1", event.CommandBookAppointment, a1)))
	require.NoError(t, e.st.ApplyCommand(ctx, cmd("c1", event.CommandBookAppointment, a1)), "a repeat is a no-op")
	a1b := book("A1", 2, "P", t0.Add(50*time.Minute), "123456", "12345678-5")
	require.NoError(t, e.st.ApplyCommand(ctx, cmd("c2", event.CommandBookAppointment, a1b)))
	// Declines: the window closed, a service the branch does not run, an invalid order.
	require.NoError(t, e.st.ApplyCommand(ctx, cmd("c3", event.CommandBookAppointment, book("A2", 1, "P", t0.Add(-11*time.Minute), "222222", ""))))
	require.NoError(t, e.st.ApplyCommand(ctx, cmd("c4", event.CommandBookAppointment, book("A3", 1, "Z", t0.Add(time.Hour), "333333", ""))))
	require.NoError(t, e.st.ApplyCommand(ctx, cmd("c5", event.CommandBookAppointment, book("A4", 1, "P", t0.Add(time.Hour), "12ab56", ""))))
	// A booking cancelled by the customer.
	require.NoError(t, e.st.ApplyCommand(ctx, cmd("c6", event.CommandBookAppointment, book("A5", 1, "C", t0.Add(time.Hour), "555555", ""))))
	require.NoError(t, e.st.ApplyCommand(ctx, cmd("c7", event.CommandCancelAppointment, &event.AppointmentOrder{Appointment: "A5", Rev: 1})))
	require.NoError(t, e.st.ApplyCommand(ctx, cmd("c7", event.CommandCancelAppointment, &event.AppointmentOrder{Appointment: "A5", Rev: 1})))

	rec := pendingOf(t, e.st, event.AppointmentReceived)
	require.Len(t, rec, 3, "A1, its reschedule, A5: once each")
	r := payload[event.AppointmentRef](t, rec[1])
	assert.Equal(t, event.AppointmentRef{Appointment: "A1", Rev: 2, Service: "P", Day: "2026-11-28", Start: t0.Add(50 * time.Minute),
		Request: "c2", Actor: &event.Actor{Kind: event.ActorSystem, Request: "c2"}}, r)
	var reasons []string
	for _, ev := range pendingOf(t, e.st, event.AppointmentDeclined) {
		d := payload[event.AppointmentDecline](t, ev)
		reasons = append(reasons, d.Request+":"+d.Reason)
	}
	assert.Equal(t, []string{"c3:slot_passed", "c4:service_unknown", "c5:invalid"}, reasons)
	canc := pendingOf(t, e.st, event.AppointmentCancelled)
	require.Len(t, canc, 1)
	assert.Equal(t, "customer", payload[event.AppointmentCancel](t, canc[0]).By)

	// Remote joins: one issued (not present), the next refused at the cap.
	join := func(id string) event.Command {
		return event.Command{V: 1, Branch: "SCL-001", ID: id, Type: event.CommandJoinQueue,
			Join: &event.JoinOrder{Service: "C", Channel: event.ChannelWeb, Code: "777777", Token: "tok-" + id}}
	}
	require.NoError(t, e.st.ApplyCommand(ctx, join("j1")))
	require.NoError(t, e.st.ApplyCommand(ctx, join("j1")))
	require.NoError(t, e.st.ApplyCommand(ctx, join("j2")))
	require.NoError(t, e.st.ApplyCommand(ctx, event.Command{V: 1, Branch: "SCL-001", ID: "j3", Type: event.CommandJoinQueue,
		Join: &event.JoinOrder{Service: "P", Code: "888888"}}))
	issued := pendingOf(t, e.st, event.TicketIssued)
	require.Len(t, issued, 1)
	iss := payload[event.Issued](t, issued[0])
	assert.Equal(t, "j1", iss.Join)
	assert.Equal(t, event.ChannelWeb, iss.Channel)
	assert.Equal(t, "tok-j1", iss.Token)
	var refused []string
	for _, ev := range pendingOf(t, e.st, event.JoinRefused) {
		x := payload[event.JoinRefusal](t, ev)
		refused = append(refused, x.Request+":"+x.Reason)
	}
	assert.Equal(t, []string{"j2:capacity", "j3:not_open"}, refused)

	// The remote ticket is never called while unchecked; the QR check-in
	// (through the cloud) makes it present, once.
	tok := e.login(t, "E01", 1)
	next, err := e.st.CallNext(ctx, tok, 1)
	require.NoError(t, err)
	assert.Nil(t, next, "an unchecked remote ticket is not called")
	ci := event.Command{V: 1, Branch: "SCL-001", ID: "q1", Type: event.CommandCheckIn, Ticket: iss.Ticket}
	require.NoError(t, e.st.ApplyCommand(ctx, ci))
	require.NoError(t, e.st.ApplyCommand(ctx, ci))
	cin := pendingOf(t, e.st, event.TicketCheckedIn)
	require.Len(t, cin, 1)
	c := payload[event.CheckedIn](t, cin[0])
	assert.Equal(t, "qr", c.By)
	assert.Equal(t, "q1", c.Request)
	require.NotNil(t, c.Place)
	assert.Equal(t, 1, c.Place.Position)

	// The kiosk: too early at 10:00 for 10:50 (check-in opens 10:20).
	_, err = e.st.CheckIn(ctx, "", "12.345.678-5")
	assert.Equal(t, "appointment.too_early", queue.ErrorReason(err))
	_, err = e.st.CheckIn(ctx, "999999", "")
	assert.Equal(t, "checkin.not_found", queue.ErrorReason(err))
	_, err = e.st.CheckIn(ctx, "12345", "")
	assert.Equal(t, "checkin.code_invalid", queue.ErrorReason(err))

	e.clock.Add(30 * time.Minute) // 10:30
	got, err := e.st.CheckIn(ctx, "", "12.345.678-5")
	require.NoError(t, err)
	require.NotNil(t, got.Appointment)
	assert.False(t, got.Late)
	assert.Equal(t, "P-001", got.Ticket.Display())
	assert.Equal(t, event.ChannelAppointment, got.Ticket.Channel)
	assert.True(t, got.Ticket.Due.Equal(t0.Add(50*time.Minute)))
	issued = pendingOf(t, e.st, event.TicketIssued, event.AppointmentCheckedIn)
	require.Len(t, issued, 3)
	iss = payload[event.Issued](t, issued[1])
	assert.Equal(t, "A1", iss.Appointment)
	assert.True(t, iss.Due.Equal(t0.Add(50*time.Minute)))
	assert.Equal(t, "tok-A1-123456", iss.Token, "the booking's link token rides on the ticket")
	assert.Equal(t, event.AppointmentCheckedIn, issued[2].Type)
	assert.Equal(t, issued[1].Seq+1, issued[2].Seq, "in the same transaction")
	aci := payload[event.AppointmentCheckIn](t, issued[2])
	assert.Equal(t, iss.Ticket, aci.Ticket)
	assert.Equal(t, "rut", aci.By)

	// A booking nobody comes for is missed at start + grace + 60 min.
	require.NoError(t, e.st.ApplyCommand(ctx, cmd("c8", event.CommandBookAppointment, book("A6", 1, "C", t0.Add(40*time.Minute), "666666", ""))))
	e.reopen(t, 2)
	_, err = e.st.CheckIn(ctx, "", "12.345.678-5")
	assert.Equal(t, "checkin.not_found", queue.ErrorReason(err), "checked in once, after a restart too")
	e.clock.Add(80 * time.Minute) // 11:50: A6 was due 10:40
	_, err = e.st.CheckIn(ctx, "666666", "")
	assert.Equal(t, "appointment.missed", queue.ErrorReason(err))
	missed := pendingOf(t, e.st, event.AppointmentMissed)
	require.Len(t, missed, 1)
	assert.Equal(t, "A6", payload[event.AppointmentRef](t, missed[0]).Appointment)
	var status string
	require.NoError(t, e.st.DB().QueryRow("SELECT status FROM appointments WHERE id = 'A6'").Scan(&status))
	assert.Equal(t, agent.ApptMissed, status)
}

// TestRemoteTicketTimersOnSQLite: the store's writer runs the remote
// tickets' timers before each batch. A number taken from the phone into an
// empty queue is at the front at once: its hold starts (ticket.slid, slides
// 0); the first walk-in to arrive goes ahead of it (slides 1); it keeps its
// hold across a restart and expires at its end (ticket.expired, a no-show
// in the table).
func TestRemoteTicketTimersOnSQLite(t *testing.T) {
	e := MustStore(t, 2)
	ctx := context.Background()
	applyAppointmentRules(t, e.st, 1, 0)
	require.NoError(t, e.st.ApplyCommand(ctx, event.Command{V: 1, Branch: "SCL-001", ID: "j1", Type: event.CommandJoinQueue,
		Join: &event.JoinOrder{Service: "C", Code: "123123"}}))
	remote := payload[event.Issued](t, pendingOf(t, e.st, event.TicketIssued)[0])
	for range 4 {
		e.clock.Add(time.Second)
		_, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C"})
		require.NoError(t, err)
	}
	slid := pendingOf(t, e.st, event.TicketSlid)
	require.Len(t, slid, 2)
	var got []string
	for _, ev := range slid {
		s := payload[event.Slid](t, ev)
		assert.True(t, s.HoldUntil.Equal(t0.Add(time.Second+15*time.Minute)), "the hold counts from the first time at the front")
		got = append(got, fmt.Sprintf("slides %d position %d", s.Slides, s.Place.Position))
	}
	assert.Equal(t, []string{"slides 0 position 1", "slides 1 position 2"}, got)
	tk, err := e.st.Ticket(ctx, remote.Ticket)
	require.NoError(t, err)
	assert.Equal(t, 2, tk.Position)
	assert.True(t, tk.Unchecked)

	e.reopen(t, 2)
	tk, err = e.st.Ticket(ctx, remote.Ticket)
	require.NoError(t, err)
	assert.True(t, tk.Unchecked, "still not here after a restart")
	assert.Equal(t, 1, tk.Slides)
	assert.True(t, tk.HoldUntil.Equal(t0.Add(time.Second+15*time.Minute)))
	_, queues := e.st.Queues(ctx)
	assert.Equal(t, 4, queues[0].Waiting, "not counted")
	assert.True(t, queues[0].Tickets[4].Unchecked, "listed last")

	e.clock.Add(15 * time.Minute)
	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "P"})
	require.NoError(t, err)
	require.Len(t, pendingOf(t, e.st, event.TicketExpired), 1)
	tk, err = e.st.Ticket(ctx, remote.Ticket)
	require.NoError(t, err)
	assert.Equal(t, queue.StatusNoShow, tk.Status)
	assert.Len(t, pendingOf(t, e.st, event.TicketSlid), 2)
}
