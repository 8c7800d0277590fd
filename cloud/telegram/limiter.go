package telegram

import (
	"context"
	"sync"
	"time"
)

// Limiter spaces calls evenly at a rate (no burst), so no 1-second window
// holds more than rate calls, and can be paused (after a 429's retry_after).
// It is per process: with R replicas give each 1/R of the bot's budget.
type Limiter struct {
	mu     sync.Mutex
	every  time.Duration
	next   time.Time
	paused time.Time
	now    func() time.Time
}

// NewLimiter allows perSecond calls per second.
func NewLimiter(perSecond float64) *Limiter {
	return &Limiter{every: time.Duration(float64(time.Second) / perSecond), now: time.Now}
}

// Wait blocks until a call is allowed or ctx ends. A pause that starts while
// a caller sleeps for its slot sends it back for a slot after the pause.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		now := l.now()
		at := l.next
		if at.Before(now) {
			at = now
		}
		l.next = at.Add(l.every)
		l.mu.Unlock()
		if d := at.Sub(now); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
		l.mu.Lock()
		paused := l.now().Before(l.paused)
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
	if l.next.Sub(l.paused) >= l.every {
		l.next = l.next.Add(-l.every)
	}
	l.mu.Unlock()
}

// PauseUntil lets no call through before t.
func (l *Limiter) PauseUntil(t time.Time) {
	l.mu.Lock()
	if l.next.Before(t) {
		l.next = t
	}
	if l.paused.Before(t) {
		l.paused = t
	}
	l.mu.Unlock()
}
