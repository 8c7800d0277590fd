// Package ratelimit is the one rate limiter of the project, on
// golang.org/x/time/rate: Keyed, a token bucket per key (usually a client
// address) that refuses a client over its budget, with idle keys evicted so
// memory stays bounded however many addresses a flood uses; and Pacer, one
// bucket that makes its sender wait for the next slot (the agent's relay, the
// Telegram and SMS workers).
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxKeys bounds the buckets a Keyed keeps when Config.MaxKeys is 0.
const DefaultMaxKeys = 10_000

// Config is one budget: Burst requests at once, refilled at one token per
// Every. A Config with Every or Burst not positive does not limit.
type Config struct {
	Every time.Duration
	Burst int
	// MaxKeys bounds the buckets kept (default DefaultMaxKeys). Buckets idle
	// long enough to be full again are dropped first, which changes nothing;
	// past the bound an arbitrary bucket is dropped (its key starts full
	// again), so memory stays bounded and nobody is ever locked out by it.
	MaxKeys int
	// Now is the clock (default time.Now), so tests need not sleep.
	Now func() time.Time
}

// Off reports whether c does not limit.
func (c Config) Off() bool { return c.Every <= 0 || c.Burst <= 0 }

// Keyed holds a token bucket per key. It is safe for concurrent use.
type Keyed struct {
	cfg Config

	mu        sync.Mutex
	buckets   map[string]*rate.Limiter
	lastSweep time.Time
}

// New returns a Keyed limiter of c.
func New(c Config) *Keyed {
	if c.MaxKeys <= 0 {
		c.MaxKeys = DefaultMaxKeys
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Keyed{cfg: c, buckets: map[string]*rate.Limiter{}}
}

// Allow takes a token from key's bucket. When none is left it returns false
// and how long until one is (for Retry-After).
func (k *Keyed) Allow(key string) (bool, time.Duration) {
	if k.cfg.Off() {
		return true, 0
	}
	now := k.cfg.Now()
	k.mu.Lock()
	k.sweep(now)
	b, ok := k.buckets[key]
	if !ok {
		if len(k.buckets) >= k.cfg.MaxKeys {
			for victim := range k.buckets { // bounded memory: drop one at random
				delete(k.buckets, victim)
				break
			}
		}
		b = rate.NewLimiter(rate.Every(k.cfg.Every), k.cfg.Burst)
		k.buckets[key] = b
	}
	k.mu.Unlock()
	if b.AllowN(now, 1) {
		return true, 0
	}
	return false, time.Duration((1 - b.TokensAt(now)) * float64(k.cfg.Every))
}

// sweep drops, at most once a minute (or when the bound is reached), the
// buckets that have refilled: a key idle that long is indistinguishable from
// a new one. k.mu is held.
func (k *Keyed) sweep(now time.Time) {
	if now.Sub(k.lastSweep) < time.Minute && len(k.buckets) < k.cfg.MaxKeys {
		return
	}
	k.lastSweep = now
	for key, b := range k.buckets {
		if b.TokensAt(now) >= float64(k.cfg.Burst) {
			delete(k.buckets, key)
		}
	}
}

// Len is the number of buckets kept.
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}
