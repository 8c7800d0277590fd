package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/ratelimit"
)

// newTestPacer is a pacer on a settable clock (ratelimit_test.go); Wait still
// sleeps in real time for what the clock says is left.
func newTestPacer(perSecond float64, burst int) (*ratelimit.Pacer, *clock) {
	clk := newClock()
	return ratelimit.NewPacer(perSecond, burst, clk.Now), clk
}

// waitsNow reports whether Wait returns before 20 ms of real time: a free
// slot returns at once, a slot 100 ms or more away on the test clock does not.
func waitsNow(p *ratelimit.Pacer) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	return p.Wait(ctx) == nil
}

func TestPacerSpacesCalls(t *testing.T) {
	p, clk := newTestPacer(10, 1) // one call per 100 ms
	require.True(t, waitsNow(p), "the first call goes at once")
	assert.False(t, waitsNow(p), "the next slot is 100 ms away")
	clk.Add(100 * time.Millisecond)
	assert.True(t, waitsNow(p), "a slot that has come is taken at once")
}

func TestPacerBurst(t *testing.T) {
	p, clk := newTestPacer(10, 3)
	for i := range 3 {
		require.True(t, waitsNow(p), "call %d of the burst goes at once", i+1)
	}
	assert.False(t, waitsNow(p), "the burst is spent")
	clk.Add(100 * time.Millisecond) // one token at 10/s
	assert.True(t, waitsNow(p))
	assert.False(t, waitsNow(p))
}

func TestPacerBelowOnePerSecond(t *testing.T) {
	p, clk := newTestPacer(0.5, 0) // a burst below 1 is 1: the first call still goes
	require.True(t, waitsNow(p))
	assert.False(t, waitsNow(p))
	clk.Add(2 * time.Second)
	assert.True(t, waitsNow(p))
}

func TestPacerUndo(t *testing.T) {
	p, clk := newTestPacer(10, 1)
	require.True(t, waitsNow(p))
	clk.Add(5 * time.Millisecond) // the caller found nothing to send
	p.Undo()
	assert.True(t, waitsNow(p), "the slot given back is free again")
	assert.False(t, waitsNow(p), "Undo gives back one slot, not more")
}

func TestPacerPause(t *testing.T) {
	p, clk := newTestPacer(1000, 1)
	p.PauseUntil(clk.Now().Add(time.Hour))
	assert.False(t, waitsNow(p), "no call while paused")
	p.PauseUntil(clk.Now().Add(time.Minute))
	clk.Add(time.Hour) // an earlier pause does not shorten a later one
	require.NoError(t, p.Wait(context.Background()), "the pause is over")
}
