package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/cloud"
)

// The bot's side of appointments (cloud/telegram appt.go): what a chat's
// next plain message answers, and the bookings a chat follows. The book
// itself is cloud.Appointments (postgres/appt); these read its rows for
// one chat only.

func (u chatUpdate) PendingRef(ctx context.Context, chatID int64, within time.Duration) (string, error) {
	var ref string
	err := u.tx.QueryRow(ctx, `SELECT COALESCE(params->>'ref', '') FROM telegram_jobs
		WHERE branch = '' AND ticket = '' AND kind = 'reply' AND chat_id = $1 AND created_at > $2
		ORDER BY id DESC LIMIT 1`, chatID, u.s.Now().Add(-within)).Scan(&ref)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("notify: pending ref: %w", err)
	}
	return ref, nil
}

func (u chatUpdate) FollowBooking(ctx context.Context, chatID int64, token string) (cloud.Booking, bool, error) {
	var b cloud.Booking
	err := u.tx.QueryRow(ctx, `UPDATE appt_bookings SET chat = $1 WHERE token = $2 AND status IN ('booked', 'received')
		RETURNING id, branch, service, start_at, end_at, to_char(day, 'YYYY-MM-DD'), rev, code, status, channel`, chatID, token).
		Scan(&b.ID, &b.Branch, &b.Service, &b.Start, &b.End, &b.Day, &b.Rev, &b.Code, &b.Status, &b.Channel)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, false, nil
	}
	if err != nil {
		return b, false, fmt.Errorf("notify: follow booking: %w", err)
	}
	b.Token = token
	return b, true, nil
}

func (u chatUpdate) ChatBookings(ctx context.Context, chatID int64, now time.Time) ([]cloud.Booking, error) {
	rows, err := u.tx.Query(ctx, `SELECT id, branch, service, start_at, end_at, to_char(day, 'YYYY-MM-DD'), rev, code,
			status, channel, COALESCE(token, '')
		FROM appt_bookings WHERE chat = $1 AND status IN ('booked', 'received') AND end_at > $2
		ORDER BY start_at LIMIT 10`, chatID, now)
	if err != nil {
		return nil, fmt.Errorf("notify: chat bookings: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (cloud.Booking, error) {
		var b cloud.Booking
		err := r.Scan(&b.ID, &b.Branch, &b.Service, &b.Start, &b.End, &b.Day, &b.Rev, &b.Code, &b.Status, &b.Channel, &b.Token)
		return b, err
	})
}

// QueueReminders writes the reminders of the bookings chats follow: the day
// before (from 24 h to 3 h before the slot, for bookings made before that)
// and one hour before (for bookings made before that). Keyed by (branch,
// booking, kind, rev): each is written once per revision, so a moved booking
// is reminded of its new time. It returns 1 when it wrote any (0 none).
func (s *Store) QueueReminders(ctx context.Context) (int, error) {
	now := s.Now()
	tag, err := s.pool.Exec(ctx, `WITH due AS (
			SELECT b.id, b.branch, b.rev, b.chat, b.code, k.kind, COALESCE(br.name, b.branch) AS name,
				b.start_at AT TIME ZONE COALESCE(NULLIF(br.time_zone, ''), 'America/Santiago') AS local
			FROM appt_bookings b LEFT JOIN branches br ON br.id = b.branch
			CROSS JOIN (VALUES ('remind_day', interval '24 hours', interval '3 hours'),
				('remind_hour', interval '60 minutes', interval '0')) AS k(kind, lead, stop)
			WHERE b.chat IS NOT NULL AND b.status IN ('booked', 'received')
				AND b.start_at > $1 AND b.start_at <= $1 + interval '24 hours'
				AND $1 >= b.start_at - k.lead AND $1 < b.start_at - k.stop
				AND b.created_at <= b.start_at - k.lead),
		ins AS (INSERT INTO telegram_jobs (branch, ticket, kind, call_no, chat_id, params)
			SELECT branch, id, kind, rev, chat, CASE kind
				WHEN 'remind_day' THEN jsonb_build_object('key', 'telegram.appt.remind_day', 'args', jsonb_build_array(
					jsonb_build_object('s', to_char(local, 'DD-MM-YYYY')), jsonb_build_object('s', to_char(local, 'HH24:MI')),
					jsonb_build_object('s', name), jsonb_build_object('s', code)))
				ELSE jsonb_build_object('key', 'telegram.appt.remind_hour', 'args', jsonb_build_array(
					jsonb_build_object('s', name), jsonb_build_object('s', to_char(local, 'HH24:MI')),
					jsonb_build_object('s', code))) END
			FROM due ON CONFLICT DO NOTHING RETURNING 1)
		`+wakeWorkers, now)
	if err != nil {
		return 0, fmt.Errorf("notify: reminders: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
