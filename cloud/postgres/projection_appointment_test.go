package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/appt"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/seal"
)

// TestProjectAppointmentAnswers: each of the branch's answers moves its
// booking or remote join, marks the command it names applied, and tells a
// following chat of a decline, a cancel by the branch and a refused join.
func TestProjectAppointmentAnswers(t *testing.T) {
	s := store(t)
	ctx := context.Background()
	const b = "APPT-ING"
	scl, _ := time.LoadLocation("America/Santiago")
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, scl)
	book := appt.New(testDB, nil)
	book.Now = func() time.Time { return now }
	chat := apptBranch(t, book, b, "tue")
	slot := func(hhmm string) time.Time {
		t, _ := time.ParseInLocation("2006-01-02 15:04", "2026-12-01 "+hhmm, scl)
		return t
	}
	mkBook := func(hhmm, rut string) cloud.Booking {
		bk, err := book.Book(ctx, cloud.BookRequest{Branch: b, Service: "C", Start: slot(hhmm), RUT: rut,
			Channel: "telegram", Chat: chat})
		require.NoError(t, err)
		return bk
	}
	kept, declined, cancelled, missed := mkBook("09:00", "12345678-5"), mkBook("09:30", "11111111-1"),
		mkBook("10:00", "22222222-2"), mkBook("10:30", "33333333-3")
	cmdOf := func(key, typ string) string {
		var id string
		require.NoError(t, testDB.QueryRow(ctx, `SELECT id FROM branch_commands WHERE branch = $1 AND ticket = $2 AND type = $3
			ORDER BY created_at DESC LIMIT 1`, b, key, typ).Scan(&id))
		return id
	}
	cmdStatus := func(id string) string {
		var st string
		require.NoError(t, testDB.QueryRow(ctx, `SELECT status FROM branch_commands WHERE id = $1`, id).Scan(&st))
		return st
	}
	ref := func(bk cloud.Booking, rev int) event.AppointmentRef {
		return event.AppointmentRef{Appointment: bk.ID, Rev: rev, Service: "C", Day: bk.Day, Start: bk.Start,
			Request: cmdOf(bk.ID, event.CommandBookAppointment)}
	}
	j1, err := book.Join(ctx, cloud.JoinRequest{Branch: b, Service: "C", Channel: "web"})
	require.NoError(t, err)
	j2, err := book.Join(ctx, cloud.JoinRequest{Branch: b, Service: "C", Channel: "telegram", Chat: chat})
	require.NoError(t, err)
	j3, err := book.Join(ctx, cloud.JoinRequest{Branch: b, Service: "C", Channel: "web"})
	require.NoError(t, err)

	seq := uint64(0)
	at := now.Add(time.Minute)
	ev := func(typ event.Type, data any) event.Event {
		seq++
		e, err := event.New(seq, b+"-e"+string(rune('a'+seq)), typ, at.Add(time.Duration(seq)*time.Second), data)
		require.NoError(t, err)
		return e
	}
	tref := func(id string, n int) event.TicketRef {
		return event.TicketRef{Ticket: id, Service: "C", Number: n, Day: "2026-12-01", Printed: "C-00" + string(rune('0'+n))}
	}
	stale := ref(kept, 1)
	stale.Rev = 7
	keptRef := ref(kept, 1)
	missedRef := ref(missed, 1)
	missedRef.Request = ""
	first := []event.Event{
		ev(event.AppointmentReceived, stale), // a revision the cloud never sent: ignored
		ev(event.AppointmentReceived, keptRef),
		ev(event.AppointmentDeclined, event.AppointmentDecline{AppointmentRef: ref(declined, 1), Reason: event.DeclineDayClosed}),
		ev(event.AppointmentCancelled, event.AppointmentCancel{AppointmentRef: ref(cancelled, 1), By: "branch"}),
		ev(event.AppointmentMissed, missedRef),
		ev(event.TicketIssued, event.Issued{TicketRef: tref("tj1", 1), Priority: "normal", QueuedAt: at, Position: 4,
			QuotedTypical: 900, QuotedUpper: 1200, Channel: "web", Join: j1.ID}),
		ev(event.JoinRefused, event.JoinRefusal{Request: j2.ID, Service: "C", Reason: event.RefuseCapacity}),
		ev(event.TicketIssued, event.Issued{TicketRef: tref("tj3", 2), Priority: "normal", QueuedAt: at, Position: 5,
			Channel: "web", Join: j3.ID}),
		ev(event.TicketIssued, event.Issued{TicketRef: tref("ta1", 3), Priority: "normal", QueuedAt: at, Position: 1,
			Channel: event.ChannelAppointment, Appointment: kept.ID, Due: kept.Start}),
		ev(event.AppointmentCheckedIn, event.AppointmentCheckIn{AppointmentRef: event.AppointmentRef{Appointment: kept.ID,
			Rev: 1, Service: "C", Day: kept.Day, Start: kept.Start}, Ticket: "ta1", Printed: "C-003", Late: true, By: "rut"}),
	}
	_, err = s.Ingest(ctx, batch(b, first))
	require.NoError(t, err)

	got := func(bk cloud.Booking) cloud.Booking {
		x, err := book.Booking(ctx, bk.ID, bk.Code)
		require.NoError(t, err)
		return x
	}
	k := got(kept)
	assert.Equal(t, cloud.BookingCheckedIn, k.Status)
	assert.Equal(t, "ta1", k.Ticket)
	assert.Equal(t, "C-003", k.Printed)
	assert.True(t, k.Late)
	assert.Equal(t, "applied", cmdStatus(keptRef.Request))
	d := got(declined)
	assert.Equal(t, cloud.BookingDeclined, d.Status)
	assert.Equal(t, event.DeclineDayClosed, d.Reason)
	assert.Equal(t, cloud.BookingCancelled, got(cancelled).Status)
	assert.Equal(t, cloud.BookingMissed, got(missed).Status)
	for _, bk := range []cloud.Booking{declined, cancelled} {
		assert.Equal(t, "applied", cmdStatus(cmdOf(bk.ID, event.CommandBookAppointment)))
	}
	assert.Equal(t, "expired", cmdStatus(cmdOf(missed.ID, event.CommandBookAppointment)),
		"missed names no request: the branch settled it, nothing is sent again")

	// Jobs for the chat: the decline, the branch's cancel and the refused join.
	var params string
	require.NoError(t, testDB.QueryRow(ctx, `SELECT params::text FROM telegram_jobs WHERE branch = $1 AND ticket = $2 AND kind = $3`,
		b, declined.ID, postgres.JobApptDeclined).Scan(&params))
	assert.JSONEq(t, `{"key":"appointment.notice.declined","args":[{"s":"01-12 09:30"},{"k":"appointment.decline.day_closed"}]}`, params)
	assert.Equal(t, 1, count(t, `SELECT count(*) FROM telegram_jobs WHERE branch = $1 AND ticket = $2 AND kind = $3`,
		b, cancelled.ID, postgres.JobApptCancelled))
	assert.Equal(t, 1, count(t, `SELECT count(*) FROM telegram_jobs WHERE branch = $1 AND ticket = $2 AND kind = $3`,
		b, j2.ID, postgres.JobJoinRefused))
	assert.Equal(t, 3, count(t, `SELECT count(*) FROM telegram_jobs WHERE branch = $1`, b))

	r1, err := book.RemoteJoin(ctx, j1.ID, j1.Code)
	require.NoError(t, err)
	assert.Equal(t, cloud.JoinIssued, r1.Status)
	assert.Equal(t, "tj1", r1.Ticket)
	assert.Equal(t, "C-001", r1.Printed)
	assert.Equal(t, 4, r1.Position)
	assert.Equal(t, 900, r1.TypicalS)
	assert.Equal(t, "waiting", r1.TicketStatus)
	assert.Equal(t, "applied", cmdStatus(j1.ID))
	r2, err := book.RemoteJoin(ctx, j2.ID, j2.Code)
	require.NoError(t, err)
	assert.Equal(t, cloud.JoinRefused, r2.Status)
	assert.Equal(t, event.RefuseCapacity, r2.Reason)
	assert.Equal(t, "applied", cmdStatus(j2.ID))

	// The remote ticket slides back, its customer scans the QR, the branch
	// says he is in, then calls him; the other one expires.
	token, err := book.CheckInToken(ctx, b)
	require.NoError(t, err)
	slidRef := tref("tj1", 1)
	slidRef.Place = &event.Place{Position: 3, TypicalS: 400, UpperS: 700}
	hold := at.Add(15 * time.Minute)
	_, err = s.Ingest(ctx, batch(b, []event.Event{ev(event.TicketSlid, event.Slid{TicketRef: slidRef, HoldUntil: hold, Slides: 1})}))
	require.NoError(t, err)
	r1, err = book.RemoteJoin(ctx, j1.ID, j1.Code)
	require.NoError(t, err)
	assert.Equal(t, 3, r1.Position, "the branch's relayed place")
	assert.True(t, hold.Equal(r1.HoldUntil))
	_, err = book.CheckIn(ctx, j1.ID, j1.Code, token)
	require.NoError(t, err)
	checkCmd := cmdOf("tj1", event.CommandCheckIn)
	inRef := tref("tj1", 1)
	inRef.Place = &event.Place{Position: 2, TypicalS: 300, UpperS: 500}
	_, err = s.Ingest(ctx, batch(b, []event.Event{
		ev(event.TicketCheckedIn, event.CheckedIn{TicketRef: inRef, By: "qr", Request: checkCmd}),
		ev(event.TicketExpired, tref("tj3", 2)),
	}))
	require.NoError(t, err)
	r1, err = book.RemoteJoin(ctx, j1.ID, j1.Code)
	require.NoError(t, err)
	assert.Equal(t, cloud.JoinCheckedIn, r1.Status)
	assert.Equal(t, 2, r1.Position)
	assert.True(t, r1.HoldUntil.IsZero())
	assert.Equal(t, "applied", cmdStatus(checkCmd))
	r3, err := book.RemoteJoin(ctx, j3.ID, j3.Code)
	require.NoError(t, err)
	assert.Equal(t, cloud.JoinExpired, r3.Status)
	_, err = s.Ingest(ctx, batch(b, []event.Event{ev(event.TicketCalled, event.Called{TicketRef: tref("tj1", 1)})}))
	require.NoError(t, err)
	r1, err = book.RemoteJoin(ctx, j1.ID, j1.Code)
	require.NoError(t, err)
	assert.Equal(t, cloud.JoinClosed, r1.Status)
	assert.Equal(t, "called", r1.TicketStatus)
}

// TestRetentionClearsBookings: past the retention a booking keeps its outcome
// but not its RUT pseudonyms, note, chat or token; a join likewise; spent
// codes and slot locks go. A second run finds nothing.
func TestRetentionClearsBookings(t *testing.T) {
	store(t)
	ctx := context.Background()
	const b = "APPT-RET"
	scl, _ := time.LoadLocation("America/Santiago")
	then := time.Date(2025, 3, 3, 8, 0, 0, 0, scl) // a Monday
	keys, err := seal.NewRUTKeys([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	book := appt.New(testDB, keys)
	book.Now = func() time.Time { return then }
	chat := apptBranch(t, book, b, "mon")
	for i, r := range []string{"12345678-5", "11111111-1"} {
		_, err := book.Book(ctx, cloud.BookRequest{Branch: b, Service: "C", Start: then.Add(time.Duration(1+i) * time.Hour),
			RUT: r, Note: "nota", Channel: "telegram", Chat: chat})
		require.NoError(t, err)
	}
	_, err = book.Join(ctx, cloud.JoinRequest{Branch: b, Service: "C", RUT: "12345678-5", Channel: "telegram", Chat: chat})
	require.NoError(t, err)
	assert.Equal(t, 3, count(t, `SELECT count(*) FROM telegram_token_links WHERE chat_id = $1`, chat))

	a := &postgres.Anonymiser{Pool: testDB}
	res, err := a.Anonymise(ctx, then.AddDate(0, 0, 100), 90, 1)
	require.NoError(t, err)
	assert.NotZero(t, res.Appointments)
	assert.Zero(t, count(t, `SELECT count(*) FROM appt_bookings WHERE branch = $1 AND (rut_hash NOT LIKE 'gone:%' OR rut_sealed <> ''
		OR note <> '' OR chat IS NOT NULL OR token IS NOT NULL)`, b))
	assert.Equal(t, 2, count(t, `SELECT count(*) FROM appt_bookings WHERE branch = $1 AND status = 'booked'`, b), "outcomes kept")
	assert.Zero(t, count(t, `SELECT count(*) FROM appt_joins WHERE branch = $1 AND (rut_hash IS NOT NULL OR chat IS NOT NULL)`, b))
	assert.Zero(t, count(t, `SELECT count(*) FROM telegram_token_links WHERE chat_id = $1`, chat))
	assert.Zero(t, count(t, `SELECT count(*) FROM appt_codes WHERE branch = $1`, b))
	assert.Zero(t, count(t, `SELECT count(*) FROM appt_slot_locks WHERE branch = $1`, b))
	res, err = a.Anonymise(ctx, then.AddDate(0, 0, 100), 90, 100)
	require.NoError(t, err)
	assert.Zero(t, res.Appointments)
}

// apptBranch makes branch b with service C open for remote joins and booked
// on weekday 09:00-12:00 in 30-minute slots by 4 executives, and a Telegram
// chat row to follow bookings; it returns the chat's row ID.
func apptBranch(t *testing.T, book *appt.Store, b, weekday string) int64 {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{`INSERT INTO branches (id) VALUES ($1)`,
		`INSERT INTO hq_services (branch, code, name, target_wait_s, mean_service_s) VALUES ($1, 'C', 'Caja', 600, 300)`,
		`INSERT INTO hq_branch_configs (branch, version, snapshot, published_at, published_by)
			VALUES ($1, 1, '{"rules":{"appointments":{"remote":{"C":{"open":true}}}}}', now(), 'admin')`} {
		_, err := testDB.Exec(ctx, q, b)
		require.NoError(t, err)
	}
	var chat int64
	require.NoError(t, testDB.QueryRow(ctx, `INSERT INTO telegram_chats (chat_hash, chat_enc) VALUES ('h-' || $1, '\x00')
		RETURNING id`, b).Scan(&chat))
	require.NoError(t, book.SaveSchedule(ctx, cloud.BookingSchedule{Branch: b, Service: "C", SlotMin: 30, HorizonDays: 7,
		Weekly: map[string][]cloud.BookingHours{weekday: {{From: "09:00", To: "12:00", Executives: 4}}}}, "admin"))
	return chat
}
