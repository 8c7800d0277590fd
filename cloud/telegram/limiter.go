package telegram

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter spaces calls evenly at a rate (a golang.org/x/time/rate bucket
// of one: no burst), so no 1-second window holds more than rate calls, and
// can be paused (after a 429's retry_after). It is per process: with R
// replicas give each 1/R of the bot's budget. Unlike shared/ratelimit, which
// refuses a client over its budget, it makes its one caller wait.
type Limiter struct {
	lim *rate.Limiter
	now func() time.Time

	mu     sync.Mutex
	last   *rate.Reservation // the slot Wait handed out last
	lastAt time.Time         // when that slot falls
	paused time.Time
}

// NewLimiter allows perSecond calls per second.
func NewLimiter(perSecond float64) *Limiter {
	return &Limiter{lim: rate.NewLimiter(rate.Limit(perSecond), 1), now: time.Now}
}

// Wait blocks until a call is allowed or ctx ends. A pause that starts while
// a caller sleeps for its slot sends it back for a slot after the pause.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		now := l.now()
		d := l.paused.Sub(now)
		var r *rate.Reservation
		if d <= 0 {
			r = l.lim.ReserveN(now, 1)
			d = r.DelayFrom(now)
			l.last, l.lastAt = r, now.Add(d)
		}
		at := now.Add(d)
		paused := l.paused.After(now)
		l.mu.Unlock()
		if d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				if r != nil {
					r.CancelAt(at) // a wait given up spends no slot
				}
				return ctx.Err()
			}
		}
		if paused {
			continue // the pause is over: take a slot now
		}
		l.mu.Lock()
		paused = l.now().Before(l.paused)
		l.mu.Unlock()
		if !paused {
			return nil
		}
	}
}

// Undo gives back the last slot taken (the caller had nothing to send), so an
// idle poll does not delay the next real send.
func (l *Limiter) Undo() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last != nil {
		// Cancelling at the slot's own time restores its token even when
		// the slot has passed; a later slot, if any, keeps its place.
		l.last.CancelAt(l.lastAt)
		l.last = nil
	}
}

// PauseUntil lets no call through before t.
func (l *Limiter) PauseUntil(t time.Time) {
	l.mu.Lock()
	if l.paused.Before(t) {
		l.paused = t
	}
	l.mu.Unlock()
}
