package appt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
)

// A branch's draft appointment rules (Rules.Appointments) are the newest
// "rules.saved" line of the book's audit, whose detail is the rules as JSON:
// every change is kept with who made it, and the newest is what the next
// published config carries (postgres/hq reads it with ReadRules).

const rulesSaved = "rules.saved"

// ReadRules reads a branch's draft appointment rules (zero when never set).
func ReadRules(ctx context.Context, q querier, branch string) (event.AppointmentRules, error) {
	var r event.AppointmentRules
	var detail string
	err := q.QueryRow(ctx, `SELECT detail FROM appt_audit WHERE branch = $1 AND action = $2 ORDER BY at DESC, id DESC LIMIT 1`,
		branch, rulesSaved).Scan(&detail)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("appt: rules: %w", err)
	}
	if err := json.Unmarshal([]byte(detail), &r); err != nil {
		return r, fmt.Errorf("appt: rules: %w", err)
	}
	return r, nil
}

// AppointmentRules is the branch's draft Rules.Appointments.
func (s *Store) AppointmentRules(ctx context.Context, branch string) (event.AppointmentRules, error) {
	return ReadRules(ctx, s.pool, branch)
}

// PutAppointmentRules validates and stores a branch's appointment rules.
func (s *Store) PutAppointmentRules(ctx context.Context, branch string, r event.AppointmentRules, actor string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT code FROM hq_services WHERE branch = $1`, branch)
		if err != nil {
			return fmt.Errorf("appt: services: %w", err)
		}
		services, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("appt: services: %w", err)
		}
		if err := cloud.ValidateAppointmentRules(r, services); err != nil {
			return err
		}
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return audit(ctx, tx, branch, "", rulesSaved, actor, string(b), s.Now())
	})
}
