package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

// TestPassesKeep: a replica that keeps a job (Passes.Keep, its own holder
// token) claims it again while its claim holds, and learns whether it ran
// the last pass; another replica takes the job only once the claim has
// ended, and the first, taking it back, is told it was not kept.
func TestPassesKeep(t *testing.T) {
	if dbErr != nil {
		pgtest.Skip(t, dbErr)
	}
	ctx := context.Background()
	p := postgres.Passes{Pool: testDB}
	job := "test.keep." + t.Name()
	claim := func(holder string) (func(context.Context, time.Duration) error, bool, bool) {
		t.Helper()
		end, ok, kept, err := p.Keep(ctx, job, holder, time.Minute)
		require.NoError(t, err)
		return end, ok, kept
	}
	end, ok, kept := claim("A")
	require.True(t, ok)
	assert.False(t, kept, "the job's first pass")
	require.NoError(t, end(ctx, time.Minute))
	_, ok, _ = claim("B")
	assert.False(t, ok, "A's claim holds")
	end, ok, kept = claim("A")
	require.True(t, ok, "A keeps its job while its claim holds")
	assert.True(t, kept)
	require.NoError(t, end(ctx, 0))
	end, ok, kept = claim("A")
	require.True(t, ok)
	assert.True(t, kept, "ended, but nobody ran a pass since: still A's")
	require.NoError(t, end(ctx, 0))
	end, ok, kept = claim("B")
	require.True(t, ok, "A's claim ended: B takes the job")
	assert.False(t, kept)
	require.NoError(t, end(ctx, 0))
	_, ok, kept = claim("A")
	require.True(t, ok)
	assert.False(t, kept, "B ran a pass since A's")
	_, ok, err := p.Claim(ctx, job, time.Second)
	require.NoError(t, err)
	assert.False(t, ok, "Claim's random holder never matches a kept claim")
}
