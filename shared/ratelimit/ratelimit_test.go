package ratelimit_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ticketero/ticketero/shared/ratelimit"
)

// clock is a settable clock (tests here run on one goroutine).
type clock struct{ t time.Time }

func (c *clock) Now() time.Time      { return c.t }
func (c *clock) Add(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC)} }

func TestBurstAndRefill(t *testing.T) {
	tests := []struct {
		name  string
		every time.Duration
		burst int
		// after the burst is spent: wait, then how many pass at once
		wait      time.Duration
		wantAfter int
		retry     time.Duration
	}{
		{"one per 6s, burst 10", 6 * time.Second, 10, 6 * time.Second, 1, 6 * time.Second},
		{"half refilled", 6 * time.Second, 10, 30 * time.Second, 5, 6 * time.Second},
		{"fully refilled caps at burst", 6 * time.Second, 10, time.Hour, 10, 6 * time.Second},
		{"fast", 200 * time.Millisecond, 30, time.Second, 5, 200 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			k := ratelimit.New(ratelimit.Config{Every: tc.every, Burst: tc.burst, Now: clk.Now})
			for i := range tc.burst {
				ok, _ := k.Allow("a")
				assert.True(t, ok, "request %d of the burst", i+1)
			}
			ok, retry := k.Allow("a")
			assert.False(t, ok, "past the burst")
			assert.Equal(t, tc.retry, retry)
			ok, _ = k.Allow("b")
			assert.True(t, ok, "another key has its own bucket")

			clk.Add(tc.wait)
			passed := 0
			for {
				ok, _ := k.Allow("a")
				if !ok {
					break
				}
				passed++
			}
			assert.Equal(t, tc.wantAfter, passed)
		})
	}
}

func TestRetryAfterPartial(t *testing.T) {
	clk := newClock()
	k := ratelimit.New(ratelimit.Config{Every: 6 * time.Second, Burst: 1, Now: clk.Now})
	ok, _ := k.Allow("a")
	assert.True(t, ok)
	clk.Add(2 * time.Second)
	ok, retry := k.Allow("a")
	assert.False(t, ok)
	assert.Equal(t, 4*time.Second, retry, "the rest of the interval")
}

func TestOff(t *testing.T) {
	for _, c := range []ratelimit.Config{{}, {Every: time.Second}, {Burst: 5}} {
		k := ratelimit.New(c)
		for range 1000 {
			ok, _ := k.Allow("a")
			assert.True(t, ok)
		}
		assert.Equal(t, 0, k.Len(), "an off limiter keeps nothing")
	}
}

// TestEviction: idle keys go once their bucket has refilled, a flooder keeps
// its state while it is short, and the number of buckets never passes MaxKeys.
func TestEviction(t *testing.T) {
	clk := newClock()
	k := ratelimit.New(ratelimit.Config{Every: 6 * time.Second, Burst: 10, MaxKeys: 100, Now: clk.Now})
	for i := range 1000 {
		ok, _ := k.Allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
		assert.True(t, ok, "a new key starts full, even past the bound")
		assert.LessOrEqual(t, k.Len(), 100)
	}
	for range 11 {
		k.Allow("10.9.9.9")
	}
	ok, retry := k.Allow("10.9.9.9")
	assert.False(t, ok)
	assert.Equal(t, 6*time.Second, retry)

	clk.Add(30 * time.Second) // a sweep runs; the flooder is still 5 tokens short
	k.Allow("10.1.1.1")
	for range 5 {
		ok, _ := k.Allow("10.9.9.9")
		assert.True(t, ok)
	}
	ok, _ = k.Allow("10.9.9.9")
	assert.False(t, ok, "the flooder's bucket was kept, not reset by the sweep")

	clk.Add(2 * time.Minute) // every bucket has refilled: a sweep empties the map
	k.Allow("10.1.1.2")
	assert.Equal(t, 1, k.Len())
}
