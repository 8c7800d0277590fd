package telegram

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testClock is a settable clock; Wait still sleeps in real time for what the
// clock says is left, so the tests keep those delays short.
type testClock struct{ t time.Time }

func (c *testClock) Now() time.Time { return c.t }

func newTestLimiter(perSecond float64) (*Limiter, *testClock) {
	clk := &testClock{t: time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC)}
	l := NewLimiter(perSecond)
	l.now = clk.Now
	return l, clk
}

func TestLimiterSpacesCalls(t *testing.T) {
	l, clk := newTestLimiter(10) // one call per 100 ms
	ctx := context.Background()
	require.NoError(t, l.Wait(ctx), "the first call goes at once")
	ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, l.Wait(ctx), context.DeadlineExceeded, "the next slot is 100 ms away")
	clk.t = clk.t.Add(100 * time.Millisecond)
	start := time.Now()
	require.NoError(t, l.Wait(context.Background()))
	assert.Less(t, time.Since(start), 50*time.Millisecond, "a slot that has come is taken at once")
}

func TestLimiterUndo(t *testing.T) {
	l, clk := newTestLimiter(10)
	require.NoError(t, l.Wait(context.Background()))
	clk.t = clk.t.Add(5 * time.Millisecond) // the caller found nothing to send
	l.Undo()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	assert.NoError(t, l.Wait(ctx), "the slot given back is free again")
}

func TestLimiterPause(t *testing.T) {
	l, clk := newTestLimiter(1000)
	l.PauseUntil(clk.t.Add(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, l.Wait(ctx), context.DeadlineExceeded, "no call while paused")
	l.PauseUntil(clk.t.Add(time.Minute))
	clk.t = clk.t.Add(time.Hour) // an earlier pause does not shorten a later one
	require.NoError(t, l.Wait(context.Background()), "the pause is over")
}
