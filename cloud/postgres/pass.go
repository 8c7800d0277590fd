package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Passes lets the replicas run a periodic job's passes one at a time
// (cluster_passes, one row per job): each replica ticks as before, and a
// tick runs a pass only when its claim on the job succeeds. A claim holds
// until it is ended or its hold runs out, so a replica killed mid-pass
// holds the job no longer than the hold; the clock is the database's, so
// the replicas' clocks do not matter. Unlike the leader (Elector), a claim
// needs no dedicated session and costs one statement at each end of a
// pass, and any replica that can do the job takes the next pass: one whose
// broker is down fails its pass, ends it at once, and leaves the next to
// the others.
type Passes struct{ Pool *pgxpool.Pool }

// Claim takes job's next pass when no other replica's claim on it holds;
// the claim holds for hold unless end ends it first. ok reports whether
// this replica runs the pass; end(rest) ends it, letting another replica
// claim the job rest from now (0 after a failed pass, so another replica
// tries at its next tick). end touches only this claim: one that ran out
// and was taken by another replica stays that replica's.
func (p Passes) Claim(ctx context.Context, job string, hold time.Duration) (end func(ctx context.Context, rest time.Duration) error, ok bool, err error) {
	end, ok, _, err = p.Keep(ctx, job, rand.Text(), hold)
	return end, ok, err
}

// Keep is Claim for a replica that keeps the job while it ticks: holder
// is the replica's own token, the same at each of its claims, and a claim
// succeeds while another holder's claim does not hold or when the job is
// still holder's own (its claim held or not). kept reports that holder
// claimed the job's last pass too: no other replica ran a pass since, so
// what the replica remembers of its passes (what it sent) is still true.
// A job's first claim, or one taken over from another holder, is not kept.
func (p Passes) Keep(ctx context.Context, job, holder string, hold time.Duration) (end func(ctx context.Context, rest time.Duration) error, ok, kept bool, err error) {
	// prev is read first (MATERIALIZED, joined into the insert) and locked,
	// so it is the row the conflict's WHERE sees, before this statement
	// changes it.
	err = p.Pool.QueryRow(ctx, `WITH prev AS MATERIALIZED (SELECT holder FROM cluster_passes WHERE job = $1 FOR UPDATE)
		INSERT INTO cluster_passes AS p (job, holder, until)
			SELECT $1, $2, now() + $3::interval FROM (VALUES (1)) AS one LEFT JOIN prev ON true
		ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, until = excluded.until
			WHERE p.until <= now() OR p.holder = excluded.holder
		RETURNING COALESCE((SELECT holder FROM prev) = $2, false)`, job, holder, hold).Scan(&kept)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, false, nil
	}
	if err != nil {
		return nil, false, false, fmt.Errorf("postgres: claim %s pass: %w", job, err)
	}
	return func(ctx context.Context, rest time.Duration) error {
		_, err := p.Pool.Exec(ctx, `UPDATE cluster_passes SET until = now() + $3::interval WHERE job = $1 AND holder = $2`,
			job, holder, rest)
		if err != nil {
			return fmt.Errorf("postgres: end %s pass: %w", job, err)
		}
		return nil
	}, true, kept, nil
}
