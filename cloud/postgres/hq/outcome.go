package hq

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/shared/queue"
)

// Outcomes are the network's visit outcome codes, in their order; every
// branch's published configuration carries them.
func (s *Store) Outcomes(ctx context.Context) ([]queue.Outcome, error) {
	rows, err := s.pool.Query(ctx, `SELECT code, name FROM hq_outcomes ORDER BY position, code`)
	if err != nil {
		return nil, wrap("outcomes", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (queue.Outcome, error) {
		var o queue.Outcome
		return o, r.Scan(&o.Code, &o.Name)
	})
	return out, wrap("outcomes", err)
}

// PutOutcome adds an outcome code (last in order) or renames one. It reaches
// a branch with its next publication.
//
// Errors: invalid outcome.invalid; conflict hq.outcomes.too_many.
func (s *Store) PutOutcome(ctx context.Context, o queue.Outcome) error {
	if err := o.Validate(); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE hq_outcomes SET name = $2 WHERE code = $1`, o.Code, o.Name)
	if err != nil || tag.RowsAffected() == 1 {
		return wrap("put outcome", err)
	}
	tag, err = s.pool.Exec(ctx, `INSERT INTO hq_outcomes (code, name, position)
		SELECT $1, $2, coalesce(max(position), 0) + 1 FROM hq_outcomes HAVING count(*) < $3
		ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name`, o.Code, o.Name, MaxOutcomes)
	if err != nil {
		return wrap("put outcome", err)
	}
	if tag.RowsAffected() == 0 {
		return queue.Errorf(queue.CodeConflict, "hq.outcomes.too_many", MaxOutcomes)
	}
	return nil
}

// DeleteOutcome removes an outcome code; visits already marked keep it.
//
// Errors: not_found hq.outcome.not_found.
func (s *Store) DeleteOutcome(ctx context.Context, code string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM hq_outcomes WHERE code = $1`, code)
	if err != nil {
		return wrap("delete outcome", err)
	}
	if tag.RowsAffected() == 0 {
		return queue.Errorf(queue.CodeNotFound, "hq.outcome.not_found", truncateCode(code))
	}
	return nil
}

func truncateCode(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}
