package backoff_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/backoff"
)

// delays is the next n delays of b.
func delays(b *backoff.Backoff, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = b.Next()
	}
	return out
}

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	b := backoff.New(time.Second, 5*time.Second)
	b.Rand = func() float64 { return 0 }
	s := time.Second
	assert.Equal(t, []time.Duration{1 * s, 2 * s, 4 * s, 5 * s, 5 * s}, delays(b, 5))

	b.Reset()
	assert.Equal(t, []time.Duration{1 * s, 2 * s}, delays(b, 2), "a success starts again from the minimum")
}

func TestBackoffJitter(t *testing.T) {
	b := backoff.New(time.Second, 4*time.Second)
	b.Rand = func() float64 { return 0.999999 }
	for i, d := range delays(b, 4) {
		base := min(time.Second<<i, 4*time.Second)
		assert.Greater(t, d, base*149/100, "delay %d: up to half again", i)
		assert.LessOrEqual(t, d, base*3/2, "delay %d", i)
	}

	// The default source spreads delays between d and 1.5 d.
	b = backoff.New(time.Second, time.Second)
	seen := map[time.Duration]bool{}
	for _, d := range delays(b, 50) {
		require.GreaterOrEqual(t, d, time.Second)
		require.Less(t, d, 1500*time.Millisecond)
		seen[d] = true
	}
	assert.Greater(t, len(seen), 1, "jittered delays differ")

	b = &backoff.Backoff{Min: time.Second, Max: time.Second}
	assert.Equal(t, time.Second, b.Next(), "no jitter unless asked")
}

func TestBackoffMaxBelowMin(t *testing.T) {
	b := &backoff.Backoff{Min: 2 * time.Second, Max: time.Second}
	assert.Equal(t, []time.Duration{2 * time.Second, 2 * time.Second}, delays(b, 2))
}

func TestBackoffWaitEndsWithContext(t *testing.T) {
	b := backoff.New(time.Hour, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, b.Wait(ctx), context.Canceled, "a cancelled context never waits the hour")

	assert.NoError(t, backoff.Sleep(context.Background(), time.Millisecond))
}
