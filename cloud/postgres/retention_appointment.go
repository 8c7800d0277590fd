package postgres

import (
	"fmt"

	"github.com/ticketero/ticketero/cloud"
)

// Retention of the book (postgres/appt): a booking or remote join of a day
// past the retention keeps its outcome for the reports, but loses its RUT
// pseudonym (replaced by a per-row placeholder, so the one-booking-per-RUT
// index still holds), sealed RUT, note and chat; the tokens that linked a
// chat go, and so do the spent check-in codes and slot locks of those days.
// Same parameters as the other steps: $1 the clock, $2 days, $3 batch; they
// run after them (retentionSteps).
func appointmentRetentionSteps() []retentionStep {
	day := `(($1::timestamptz AT TIME ZONE COALESCE((SELECT time_zone FROM branches WHERE id = %s), 'America/Santiago'))::date - $2::int)`
	// anyDay bounds day for every zone (no zone's date is past UTC's next
	// one): a condition on the row alone, so the day indexes of migration
	// 00025 find the candidates before each row's zone is looked up.
	const anyDay = `(($1::timestamptz AT TIME ZONE 'UTC')::date - $2::int + 1)`
	n := func(r *cloud.AnonymiseResult) *int64 { return &r.Appointments }
	return []retentionStep{
		{"appt_token_links", `DELETE FROM telegram_token_links l USING (
				SELECT l2.ctid AS c FROM telegram_token_links l2
				JOIN (SELECT branch, day, token FROM appt_bookings UNION ALL SELECT branch, day, token FROM appt_joins) a
					ON a.token = l2.token
				WHERE a.day < ` + sprintf(day, "a.branch") + `
				LIMIT $3 FOR UPDATE OF l2 SKIP LOCKED) x
			WHERE l.ctid = x.c`, n},
		{"appt_bookings", `UPDATE appt_bookings b SET rut_hash = 'gone:' || b.id, rut_sealed = '', note = '',
				chat = NULL, token = NULL
			FROM (SELECT id FROM appt_bookings b2
				WHERE b2.rut_hash NOT LIKE 'gone:%' AND b2.day < ` + anyDay + ` AND b2.day < ` + sprintf(day, "b2.branch") + `
				LIMIT $3 FOR UPDATE SKIP LOCKED) x
			WHERE b.id = x.id`, n},
		{"appt_joins", `UPDATE appt_joins j SET rut_hash = NULL, chat = NULL, token = NULL
			FROM (SELECT id FROM appt_joins j2
				WHERE (j2.rut_hash IS NOT NULL OR j2.chat IS NOT NULL OR j2.token IS NOT NULL)
				AND j2.day < ` + anyDay + ` AND j2.day < ` + sprintf(day, "j2.branch") + `
				LIMIT $3 FOR UPDATE SKIP LOCKED) x
			WHERE j.id = x.id`, n},
		{"appt_codes", `DELETE FROM appt_codes c USING (
				SELECT branch, day, code FROM appt_codes c2 WHERE c2.day < ` + anyDay + ` AND c2.day < ` + sprintf(day, "c2.branch") + `
				LIMIT $3 FOR UPDATE SKIP LOCKED) x
			WHERE c.branch = x.branch AND c.day = x.day AND c.code = x.code`, n},
		{"appt_slot_locks", `DELETE FROM appt_slot_locks s USING (
				SELECT branch, service, start_at FROM appt_slot_locks
				WHERE start_at < $1::timestamptz - make_interval(days => $2::int)
				LIMIT $3 FOR UPDATE SKIP LOCKED) x
			WHERE s.branch = x.branch AND s.service = x.service AND s.start_at = x.start_at`, n},
	}
}

// sprintf puts a row's branch column into day.
func sprintf(format, arg string) string { return fmt.Sprintf(format, arg) }
