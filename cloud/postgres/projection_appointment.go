package postgres

import (
	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/shared/event"
)

// The branch's answers to the book's commands (docs/appointments.md,
// postgres/appt): appointment.* events move a booking, ticket.issued with
// Join and the remote-ticket events move a remote join, and each answer marks
// the command it names applied so it is no longer published. Queued on the
// ingest's pipeline like the other projections, one statement per such event
// (they are rare: no statement at all for a run without them). What later
// happens to a remote ticket (called, served, cancelled) is read from the
// tickets projection when the join is read, so no other event costs a
// statement here.
//
// Customers whose Telegram chat follows the booking or join are told of a
// decline, a cancel by the branch and a refused join by notification jobs
// written here in the same transaction (kinds JobApptDeclined,
// JobApptCancelled, JobJoinRefused; params are cloud.Text).

// Notification job kinds of the book (stored: never rename one).
const (
	JobApptDeclined  = "appt_declined"
	JobApptCancelled = "appt_cancelled"
	JobJoinRefused   = "join_refused"
)

// apptJobs ends a statement whose CTE "b" returns (branch, id, rev, chat,
// start_at) of a booking or join just changed, after its own parameters $1..$5:
// it writes one job of kind $6 with the text of key $7, whose arguments are
// the start (branch time) and the reason's key $8, to its chat, if it has
// one, and wakes the workers.
const apptJobs = `, ins AS (
		INSERT INTO telegram_jobs (branch, ticket, kind, call_no, chat_id, params, channel)
		SELECT b.branch, b.id, $6, b.rev, b.chat, jsonb_build_object('key', $7::text, 'args', jsonb_build_array(
			jsonb_build_object('s', to_char(b.start_at AT TIME ZONE COALESCE((SELECT time_zone FROM branches WHERE id = b.branch),
				'America/Santiago'), 'DD-MM HH24:MI')),
			jsonb_build_object('k', $8::text))), 'telegram'
		FROM b WHERE b.chat IS NOT NULL
		ON CONFLICT DO NOTHING RETURNING 1)
	SELECT pg_notify('telegram_jobs', '') FROM (SELECT 1 FROM ins LIMIT 1) AS x`

// settled ends a statement (after a CTE) on booking $1 at branch $2 that the
// branch settled on its own (checked in, missed): a command still pending for
// it (a cancel that crossed the check-in) is given up, the branch ignores it.
const settled = `
	UPDATE branch_commands SET status = 'expired' WHERE branch = $2 AND ticket = $1 AND status = 'pending'`

// queueAppointment queues what e does to the book (nothing for other events).
func queueAppointment(pb *pgx.Batch, branch string, e event.Event, pl any) {
	at := e.At
	request := ""
	switch d := pl.(type) {
	case *event.AppointmentRef:
		request = d.Request
		switch e.Type {
		case event.AppointmentReceived:
			pb.Queue(`UPDATE appt_bookings SET status = 'received', updated_at = $4
				WHERE id = $1 AND branch = $2 AND rev = $3 AND status = 'booked'`, d.Appointment, branch, d.Rev, at)
		case event.AppointmentMissed:
			pb.Queue(`WITH b AS (UPDATE appt_bookings SET status = 'missed', updated_at = $3
				WHERE id = $1 AND branch = $2 AND status IN ('booked', 'received'))`+settled, d.Appointment, branch, at)
		}
	case *event.AppointmentDecline:
		request = d.Request
		pb.Queue(`WITH b AS (UPDATE appt_bookings SET status = 'declined', reason = $4, updated_at = $5
				WHERE id = $1 AND branch = $2 AND rev = $3 AND status IN ('booked', 'received')
				RETURNING branch, id, rev, chat, start_at)`+apptJobs,
			d.Appointment, branch, d.Rev, d.Reason, at, JobApptDeclined, "appointment.notice.declined",
			"appointment.decline."+d.Reason)
	case *event.AppointmentCancel:
		request = d.Request
		by := d.By
		if by == "" {
			by = "branch"
		}
		// Only a cancel by the branch is news to the customer.
		pb.Queue(`WITH b AS (UPDATE appt_bookings SET status = 'cancelled', cancelled_by = $3, updated_at = $4
				WHERE id = $1 AND branch = $2 AND status IN ('booked', 'received')
				RETURNING branch, id, rev, CASE WHEN $5::boolean THEN chat END AS chat, start_at)`+apptJobs,
			d.Appointment, branch, by, at, by == "branch", JobApptCancelled, "appointment.notice.cancelled",
			"appointment.cancel.branch")
	case *event.AppointmentCheckIn:
		request = d.Request
		pb.Queue(`WITH b AS (UPDATE appt_bookings SET status = 'checked_in', ticket = $3, printed = $4, late = $5, checked_at = $6,
				updated_at = $6
			WHERE id = $1 AND branch = $2 AND status IN ('booked', 'received', 'missed', 'declined'))`+settled,
			d.Appointment, branch, d.Ticket, d.Printed, d.Late, at)
	case *event.Issued:
		if d.Join == "" {
			return
		}
		request = d.Join
		pb.Queue(`UPDATE appt_joins SET status = 'issued', reason = '', ticket = $3, printed = $4, position = $5,
				typical_s = $6, upper_s = $7, updated_at = $8
			WHERE id = $1 AND branch = $2 AND status IN ('pending', 'refused')`,
			d.Join, branch, d.Ticket, d.PrintedOr(d.Service), d.Position, d.QuotedTypical, d.QuotedUpper, at)
	case *event.JoinRefusal:
		request = d.Request
		pb.Queue(`WITH b AS (UPDATE appt_joins SET status = 'refused', reason = $3, updated_at = $4
				WHERE id = $1 AND branch = $2 AND status = 'pending'
				RETURNING branch, id, $5::int AS rev, chat, created_at AS start_at)`+apptJobs,
			d.Request, branch, d.Reason, at, 0, JobJoinRefused, "appointment.notice.join_refused",
			"appointment.refuse."+d.Reason)
	case *event.CheckedIn:
		request = d.Request
		pb.Queue(`UPDATE appt_joins SET status = 'checked_in', checked_at = $3, hold_until = NULL, updated_at = $3
			WHERE branch = $1 AND ticket = $2 AND status = 'issued'`, branch, d.Ticket, at)
	case *event.Slid:
		pb.Queue(`UPDATE appt_joins SET hold_until = $3, slides = GREATEST(slides, $4), updated_at = $5
			WHERE branch = $1 AND ticket = $2 AND status = 'issued'`, branch, d.Ticket, d.HoldUntil, d.Slides, at)
	case *event.TicketRef:
		if e.Type != event.TicketExpired {
			return
		}
		pb.Queue(`UPDATE appt_joins SET status = 'expired', updated_at = $3
			WHERE branch = $1 AND ticket = $2 AND status IN ('issued', 'checked_in')`, branch, d.Ticket, at)
	default:
		return
	}
	if request != "" {
		pb.Queue(`UPDATE branch_commands SET status = 'applied', applied_at = $3
			WHERE id = $1 AND branch = $2 AND status = 'pending'`, request, branch, at)
	}
}
