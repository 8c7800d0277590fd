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
	holder := rand.Text()
	err = p.Pool.QueryRow(ctx, `INSERT INTO cluster_passes AS p (job, holder, until) VALUES ($1, $2, now() + $3::interval)
		ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, until = excluded.until WHERE p.until <= now()
		RETURNING true`, job, holder, hold).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("postgres: claim %s pass: %w", job, err)
	}
	return func(ctx context.Context, rest time.Duration) error {
		_, err := p.Pool.Exec(ctx, `UPDATE cluster_passes SET until = now() + $3::interval WHERE job = $1 AND holder = $2`,
			job, holder, rest)
		if err != nil {
			return fmt.Errorf("postgres: end %s pass: %w", job, err)
		}
		return nil
	}, true, nil
}
