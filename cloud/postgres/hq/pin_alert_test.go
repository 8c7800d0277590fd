package hq_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/ticketero/ticketero/cloud"
)

// A branch whose executive.locked events reach HQ's audit raises "PIN
// guessing" for an hour; failed sign-ins alone do not.
func TestPINGuessingAlert(t *testing.T) {
	s, f, c := newStore(t)
	ctx := context.Background()
	f.Branch("PG-001", "Puerto Montt", "LL", true)
	f.Branch("PG-002", "Osorno", "LL", true)
	f.Sync("PG-001", true, 0, c.t)
	f.Sync("PG-002", true, 0, c.t)
	open := func() map[string]int64 {
		tiles, err := s.Overview(ctx, cloud.AllBranches, cloud.OverviewFilter{})
		require.NoError(t, err)
		_, err = s.EvaluateAlerts(ctx, tiles, cloud.DefaultAlertRules())
		require.NoError(t, err)
		all, err := s.OpenAlerts(ctx, cloud.AllBranches)
		require.NoError(t, err)
		out := map[string]int64{}
		for _, a := range all {
			if a.Kind == cloud.AlertPINGuessing {
				out[a.Branch] = a.Value
			}
		}
		return out
	}
	audit := func(action, target string) {
		_, err := f.Pool.Exec(ctx, `INSERT INTO hq_audit (at, actor, action, target, detail, ip) VALUES ($1, 'x', $2, $3, '', '10.0.0.66')`,
			c.t.Add(-time.Minute), action, target)
		require.NoError(t, err)
	}
	audit("executive.login_failed", "PG-001/E01")
	audit("executive.login_failed", "PG-002/E01")
	assert.Empty(t, open(), "a wrong PIN is not an alert")
	audit("executive.locked", "PG-001/E01")
	audit("executive.locked", "PG-001/E02")
	assert.Equal(t, map[string]int64{"PG-001": 2}, open())
	c.t = c.t.Add(cloud.PINGuessWindow)
	assert.Empty(t, open(), "cleared an hour later")
}
