package hq_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/ticketero/ticketero/cloud"
)

// A satisfaction answer at or under the threshold raises "low scores" at its
// branch for an hour; higher ones do not; threshold 0 turns it off.
func TestLowScoreAlert(t *testing.T) {
	s, f, c := newStore(t)
	ctx := context.Background()
	f.Branch("LS-001", "Talca", "ML", true)
	f.Branch("LS-002", "Curicó", "ML", true)
	f.Sync("LS-001", true, 0, c.t)
	f.Sync("LS-002", true, 0, c.t)
	open := func(rules cloud.AlertRules) map[string]int64 {
		tiles, err := s.Overview(ctx, cloud.AllBranches, cloud.OverviewFilter{})
		require.NoError(t, err)
		_, err = s.EvaluateAlerts(ctx, tiles, rules)
		require.NoError(t, err)
		all, err := s.OpenAlerts(ctx, cloud.AllBranches)
		require.NoError(t, err)
		out := map[string]int64{}
		for _, a := range all {
			if a.Kind == cloud.AlertLowScore {
				out[a.Branch] = a.Value
			}
		}
		return out
	}
	t.Cleanup(func() {
		_, _ = f.Pool.Exec(context.Background(), `DELETE FROM feedback WHERE branch LIKE 'LS-%'`)
		// The package's tests share one database: leave no branch behind.
		for _, tbl := range []string{"hq_alerts", "branch_sync", "hq_backlog_samples"} {
			_, _ = f.Pool.Exec(context.Background(), `DELETE FROM `+tbl+` WHERE branch LIKE 'LS-%'`)
		}
		_, _ = f.Pool.Exec(context.Background(), `DELETE FROM branches WHERE id LIKE 'LS-%'`)
	})
	answer := func(branch, ticket string, csat int) {
		_, err := f.Pool.Exec(ctx, `INSERT INTO feedback (branch, ticket, channel, day, csat, expires_at, answered_at)
			VALUES ($1, $2, 'telegram', $3::timestamptz::date, $4, $3::timestamptz + interval '1 day', $3)`, branch, ticket, c.t, csat)
		require.NoError(t, err)
	}
	answer("LS-001", "a", 3)
	answer("LS-002", "b", 5)
	assert.Empty(t, open(cloud.DefaultAlertRules()))
	answer("LS-001", "c", 1)
	answer("LS-001", "d", 2)
	assert.Equal(t, map[string]int64{"LS-001": 2}, open(cloud.DefaultAlertRules()))
	off := cloud.DefaultAlertRules()
	off.LowScore = 0
	assert.Empty(t, open(off), "threshold 0: off")
	c.t = c.t.Add(cloud.LowScoreWindow + 1)
	assert.Empty(t, open(cloud.DefaultAlertRules()), "cleared an hour later")
}
