package cloud

import (
	"context"
	"time"
)

// PassClaimer lets one replica at a time run a periodic job's pass
// (postgres.Passes).
type PassClaimer interface {
	// Claim takes job's next pass unless another replica's claim holds
	// (ok false); the claim holds for hold unless end ends it, letting
	// another replica claim the job rest from now.
	Claim(ctx context.Context, job string, hold time.Duration) (end func(ctx context.Context, rest time.Duration) error, ok bool, err error)
}

// RunPass runs fn as job's pass when p claims it (held for hold at most)
// and ends the claim rest after it, at once when fn fails (EndPass); ran is
// false when another replica's claim holds. A nil p runs fn every time.
func RunPass(ctx context.Context, p PassClaimer, job string, hold, rest time.Duration, fn func() error) (ran bool, err error) {
	if p == nil {
		return true, fn()
	}
	end, ok, err := p.Claim(ctx, job, hold)
	if err != nil || !ok {
		return false, err
	}
	return true, EndPass(ctx, end, rest, fn())
}

// EndPass ends a pass a replica claimed for a periodic job
// (postgres.Passes): end is the claim's, and another replica may claim
// the job rest from now, or at once when the pass failed (err not nil:
// another replica, perhaps with a working broker, tries at its tick). The
// claim is ended even when ctx is done (a replica stopping mid-pass). It
// returns the pass's err, else end's.
func EndPass(ctx context.Context, end func(ctx context.Context, rest time.Duration) error, rest time.Duration, err error) error {
	if err != nil {
		rest = 0
	}
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if eerr := end(ectx, rest); eerr != nil && err == nil {
		err = eerr
	}
	return err
}
