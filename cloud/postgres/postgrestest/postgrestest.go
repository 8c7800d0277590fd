// Package postgrestest is test plumbing for the packages built on the
// cloud's PostgreSQL store: a pool on a migrated database of the test's own.
package postgrestest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

// MustPool opens a pool (postgres.Open) on a fresh database of tb's own
// (pgtest.New: dropped after, the test skipped when PostgreSQL is
// unreachable) and migrates it; the pool is closed at tb's end.
func MustPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	ctx := context.Background()
	pool, err := postgres.Open(ctx, pgtest.New(tb))
	require.NoError(tb, err)
	tb.Cleanup(pool.Close)
	require.NoError(tb, postgres.Migrate(ctx, pool))
	return pool
}
