package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

// The ticket update probes the primary key once per row, whatever the
// planner knows of the table (here: a table never analyzed, 2,000 tickets of
// the branch, where it would rather hash the rows and scan every ticket), and
// the planner settings it uses (plan mode included: a generic plan made while
// the table was small would be kept as it grows) do not outlive it.
func TestTicketUpdateProbesThePrimaryKey(t *testing.T) {
	if dbErr != nil {
		pgtest.Skip(t, dbErr)
	}
	ctx := context.Background()
	tx, err := testDB.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, `INSERT INTO tickets (branch, id, day, origin_service, number, service, priority, status,
			queued_at, created_at, last_seq)
		SELECT 'PLAN-001', 'T' || g, '2026-11-28', 'C', g, 'C', 'normal', 'waiting', now(), now(), g
		FROM generate_series(1, 2000) AS g`)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_generic_plan`) // as the job writer sets it
	require.NoError(t, err)
	var before [3]string
	require.NoError(t, tx.QueryRow(ctx, `SELECT current_setting('enable_hashjoin'), current_setting('enable_mergejoin'),
		current_setting('plan_cache_mode')`).Scan(&before[0], &before[1], &before[2]))
	_, err = tx.Exec(ctx, postgres.NoHashJoins)
	require.NoError(t, err)
	texts, ints, bools := []string{"PLAN-001"}, []int32{1}, []bool{false}
	var times []time.Time
	rows, err := tx.Query(ctx, `EXPLAIN `+postgres.UpdateTickets, texts, texts, texts, texts, bools, ints, bools, texts,
		times, times, times, times, texts, ints, ints, []int64{1}, ints, ints, ints, times)
	require.NoError(t, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	plan := strings.Join(lines, "\n")
	assert.Contains(t, plan, "Index Scan using tickets_pkey on tickets", plan)
	assert.NotContains(t, plan, "Seq Scan on tickets", plan)
	_, err = tx.Exec(ctx, postgres.JoinsBack)
	require.NoError(t, err)
	var after [3]string
	require.NoError(t, tx.QueryRow(ctx, `SELECT current_setting('enable_hashjoin'), current_setting('enable_mergejoin'),
		current_setting('plan_cache_mode')`).Scan(&after[0], &after[1], &after[2]))
	assert.Equal(t, before, after, "the settings are put back for the statements after")
}
