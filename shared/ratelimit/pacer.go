package ratelimit

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Pacer makes its caller wait for the next slot of one budget (a
// golang.org/x/time/rate bucket): Burst calls at once, then perSecond. Where
// Keyed refuses a client over its budget, a Pacer paces one sender (the
// agent's relay, the Telegram and SMS workers). It can give back a slot taken
// for nothing (Undo) and be paused (after a server's retry-after). It is safe
// for concurrent use.
type Pacer struct {
	lim *rate.Limiter
	now func() time.Time

	mu     sync.Mutex
	last   *rate.Reservation // the slot Wait handed out last
	lastAt time.Time         // when that slot falls
	paused time.Time
}

// NewPacer allows perSecond calls per second, burst (at least 1) at once,
// on the clock now (time.Now when nil).
func NewPacer(perSecond float64, burst int, now func() time.Time) *Pacer {
	if now == nil {
		now = time.Now
	}
	return &Pacer{lim: rate.NewLimiter(rate.Limit(perSecond), max(burst, 1)), now: now}
}

// Wait blocks until a call is allowed or ctx ends. A pause that starts while
// a caller sleeps for its slot sends it back for a slot after the pause.
func (p *Pacer) Wait(ctx context.Context) error {
	for {
		p.mu.Lock()
		now := p.now()
		d := p.paused.Sub(now)
		var r *rate.Reservation
		if d <= 0 {
			r = p.lim.ReserveN(now, 1)
			d = r.DelayFrom(now)
			p.last, p.lastAt = r, now.Add(d)
		}
		at := now.Add(d)
		paused := p.paused.After(now)
		p.mu.Unlock()
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
		p.mu.Lock()
		paused = p.now().Before(p.paused)
		p.mu.Unlock()
		if !paused {
			return nil
		}
	}
}

// Undo gives back the last slot taken (the caller had nothing to send), so an
// idle poll does not delay the next real send.
func (p *Pacer) Undo() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last != nil {
		// Cancelling at the slot's own time restores its token even when
		// the slot has passed; a later slot, if any, keeps its place.
		p.last.CancelAt(p.lastAt)
		p.last = nil
	}
}

// PauseUntil lets no call through before t.
func (p *Pacer) PauseUntil(t time.Time) {
	p.mu.Lock()
	if p.paused.Before(t) {
		p.paused = t
	}
	p.mu.Unlock()
}
