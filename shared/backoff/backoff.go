// Package backoff is the delay between attempts of every reconnect and retry
// loop in Ticketero: exponential from a minimum, capped, with random jitter
// so that many clients failing together (every branch when the broker
// restarts) do not come back together.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is an exponential delay: Min, doubled after each failure up to Max,
// plus up to Jitter times that delay at random. Reset after a success. The
// zero Backoff is not usable: build one with New. A Backoff is used by one
// goroutine.
type Backoff struct {
	Min, Max time.Duration
	// Jitter is the fraction of the delay added at random (New: 0.5, so a
	// delay d waits between d and 1.5 d).
	Jitter float64
	// Rand returns a number in [0, 1) (tests); nil uses math/rand/v2.
	Rand func() float64

	cur time.Duration
}

// New returns a backoff from lo to hi with jitter of up to half the delay.
// A hi below lo is taken as lo.
func New(lo, hi time.Duration) *Backoff {
	return &Backoff{Min: lo, Max: hi, Jitter: 0.5}
}

// Next returns the delay to wait before the next attempt and doubles the
// following one (up to Max).
func (b *Backoff) Next() time.Duration {
	if b.cur < b.Min {
		b.cur = b.Min
	}
	d := b.cur
	b.cur = min(b.cur*2, max(b.Max, b.Min))
	if b.Jitter > 0 {
		r := b.Rand
		if r == nil {
			r = rand.Float64 // #nosec G404 -- jitter, not a secret
		}
		d += time.Duration(r() * b.Jitter * float64(d))
	}
	return d
}

// Reset starts the delays again from Min (after a success).
func (b *Backoff) Reset() { b.cur = 0 }

// Wait waits Next() or until ctx ends, and returns ctx's error if it ended.
func (b *Backoff) Wait(ctx context.Context) error { return Sleep(ctx, b.Next()) }

// Sleep waits d or until ctx ends, and returns ctx's error if it ended.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
