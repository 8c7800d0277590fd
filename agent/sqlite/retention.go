package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ticketero/ticketero/agent"
)

// retentionBatch is the most tickets anonymised in one writer operation, so
// a big backlog (a first run after months) never holds the writer long.
const retentionBatch = 2000

// Anonymise clears the personal data of tickets whose business day is more
// than days days before today (in the branch's time zone): the encrypted
// RUT and its keyed hash, the encrypted mobile number, and the bookings of
// those days (appointments, with their check-in hashes). The ticket itself stays (numbers, times, outcome)
// for the day's statistics. It runs through the single writer in batches
// and writes no event: the outbox carries no RUT, only rut_hash, and rows
// not yet acknowledged are left to the cloud's own retention. It returns
// the number of tickets anonymised; a second run finds none.
func (s *Store) Anonymise(ctx context.Context, days int) (int, error) {
	if days < 1 {
		return 0, fmt.Errorf("sqlite: retention of %d days: must be at least 1", days)
	}
	total := 0
	for {
		n, err := call(ctx, s, func(tx *sql.Tx, now time.Time) (int, agent.Change, error) {
			today, err := time.Parse(time.DateOnly, s.eng.BusinessDay(now))
			if err != nil {
				return 0, agent.Change{}, &writeError{fmt.Errorf("sqlite: retention: business day: %w", err)}
			}
			cutoff := today.AddDate(0, 0, -days).Format(time.DateOnly)
			// The day's ticket histories go too (their notes are free text).
			if _, err := tx.Exec(`DELETE FROM ticket_log WHERE ticket IN (SELECT id FROM tickets WHERE day < ?)`, cutoff); err != nil {
				return 0, agent.Change{}, &writeError{fmt.Errorf("sqlite: retention: %w", err)}
			}
			r, err := tx.Exec(`UPDATE tickets SET rut_enc = NULL, rut_hash = '', name_enc = NULL
				WHERE rowid IN (SELECT rowid FROM tickets
					WHERE day < ? AND (rut_enc IS NOT NULL OR rut_hash <> '' OR name_enc IS NOT NULL) LIMIT ?)`, cutoff, retentionBatch)
			if err != nil {
				return 0, agent.Change{}, &writeError{fmt.Errorf("sqlite: retention: %w", err)}
			}
			n, err := r.RowsAffected()
			if err != nil {
				return 0, agent.Change{}, &writeError{fmt.Errorf("sqlite: retention: %w", err)}
			}
			// Mobile numbers for SMS go with the RUT.
			r, err = tx.Exec(`DELETE FROM ticket_phones WHERE rowid IN (SELECT rowid FROM ticket_phones
					WHERE day < ? LIMIT ?)`, cutoff, retentionBatch)
			if err != nil {
				return 0, agent.Change{}, &writeError{fmt.Errorf("sqlite: retention: phones: %w", err)}
			}
			p, err := r.RowsAffected()
			if err != nil {
				return 0, agent.Change{}, &writeError{fmt.Errorf("sqlite: retention: phones: %w", err)}
			}
			// Bookings of those days go whole (their check-in hash, sealed RUT,
			// note and link token); the tickets' check-in hashes too.
			r, err = tx.Exec(`DELETE FROM appointments WHERE rowid IN (SELECT rowid FROM appointments
					WHERE day < ? AND status <> 'received' LIMIT ?)`, cutoff, retentionBatch)
			if err != nil {
				return 0, agent.Change{}, &writeError{fmt.Errorf("sqlite: retention: appointments: %w", err)}
			}
			a, err := r.RowsAffected()
			if err != nil {
				return 0, agent.Change{}, &writeError{fmt.Errorf("sqlite: retention: appointments: %w", err)}
			}
			if _, err := tx.Exec(`UPDATE tickets SET rut_check = '' WHERE day < ? AND rut_check <> ''`, cutoff); err != nil {
				return 0, agent.Change{}, &writeError{fmt.Errorf("sqlite: retention: %w", err)}
			}
			return int(max(n, p, a)), agent.Change{}, nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < retentionBatch {
			return total, nil
		}
	}
}
