package appt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
)

// A branch's draft appointment rules (Rules.Appointments) live beside its
// other draft rules: hq_branch_settings.appointment_rules (JSON; NULL when
// never set), read by postgres/hq into the draft config the next publication
// carries. Every change also leaves a "rules.saved" line in the book's audit
// with who made it and the rules as JSON (the history; migration 00025 moved
// the newest of those lines into the column).

const rulesSaved = "rules.saved"

// ReadRules reads a branch's draft appointment rules (zero when never set).
func ReadRules(ctx context.Context, q querier, branch string) (event.AppointmentRules, error) {
	var raw []byte
	err := q.QueryRow(ctx, `SELECT appointment_rules FROM hq_branch_settings WHERE branch = $1`, branch).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return event.AppointmentRules{}, nil
	}
	if err != nil {
		return event.AppointmentRules{}, fmt.Errorf("appt: rules: %w", err)
	}
	return DecodeRules(raw)
}

// DecodeRules decodes the appointment_rules column (NULL: zero rules).
func DecodeRules(raw []byte) (event.AppointmentRules, error) {
	var r event.AppointmentRules
	if len(raw) == 0 {
		return r, nil
	}
	if err := json.Unmarshal(raw, &r); err != nil {
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
	return s.inTx(ctx, func(tx pgx.Tx) error { return SaveRules(ctx, tx, branch, r, actor, s.Now()) })
}

// SaveRules validates a branch's appointment rules against its services
// (cloud.ValidateAppointmentRules), stores them in its draft settings and
// audits the change, in tx (the HQ schedule page and the config API's rules
// both save through it).
func SaveRules(ctx context.Context, tx pgx.Tx, branch string, r event.AppointmentRules, actor string, at time.Time) error {
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
	if _, err := tx.Exec(ctx, `INSERT INTO hq_branch_settings (branch, appointment_rules, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (branch) DO UPDATE SET appointment_rules = EXCLUDED.appointment_rules, updated_at = EXCLUDED.updated_at`,
		branch, b, at); err != nil {
		return fmt.Errorf("appt: save rules: %w", err)
	}
	return audit(ctx, tx, branch, "", rulesSaved, actor, string(b), at)
}
