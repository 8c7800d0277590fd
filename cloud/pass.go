package cloud

import (
	"context"
	"time"
)

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
