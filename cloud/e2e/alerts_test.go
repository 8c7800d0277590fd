package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// TestAlertsAndFiguresTrue runs the real agent and cloud: HQ's config gives
// Caja a 3 s target. One ticket is called at once, one after 3.5 s, one
// still waits: the branch page and HQ both say 33.3 % within target (1 of 3
// decided; HQ once applied a flat 10 min and said 100 %). Then nobody is
// called for the stalled threshold: HQ raises "branch stalled". Then the
// agent is killed: no offline alert before the threshold, and its value is
// the time since the will arrived, not since the agent connected.
//
// Not parallel: its thresholds are seconds long and its figures read the
// clock, so it runs before the package's parallel tests start.
func TestAlertsAndFiguresTrue(t *testing.T) {
	e := newEnv(t, "E2E-ALR")
	e.setenv("TICKETERO_ALERT_OFFLINE_AFTER", "3s", "TICKETERO_ALERT_STALLED_AFTER", "4s", "TICKETERO_ALERT_EVERY", "200ms")
	e.startCloud()
	e.startAgent()
	connected := time.Now()
	ctx := context.Background()

	hash, err := bcrypt.GenerateFromPassword([]byte("240681"), bcrypt.MinCost)
	require.NoError(t, err)
	services := queue.DefaultServices()
	services[0].TargetWaitS = 3 // Caja
	require.Equal(t, "C", services[0].Code)
	e.publishConfig(event.Config{V: event.Version, Branch: e.branch, Version: 1, TimeZone: "America/Santiago",
		Services: services, Counters: []queue.Counter{{Number: 1, Name: "Módulo 1"}},
		Executives: []event.ConfigExecutive{{Executive: queue.Executive{ID: "E01", Name: "Ana Pérez", Services: []string{"C", "P"}}, PINHash: string(hash)}},
		Rules:      event.DefaultRules(), PublishedAt: time.Now().UTC()})
	require.Eventually(t, func() bool {
		var out struct {
			Services []struct {
				Code        string `json:"code"`
				TargetWaitS int    `json:"target_wait_s"`
			} `json:"services"`
		}
		_, err := e.do("GET", "/api/v1/services", "", nil, &out)
		return err == nil && len(out.Services) > 0 && out.Services[0].Code == "C" && out.Services[0].TargetWaitS == 3
	}, 30*time.Second, 50*time.Millisecond, "config not applied: %s", e.agent.output())

	issue := func() {
		code, err := e.do("POST", "/api/v1/tickets", "", map[string]string{"service": "C"}, nil)
		require.NoError(t, err)
		require.Equal(t, 201, code)
	}
	call := func() string {
		var tk struct {
			ID string `json:"id"`
		}
		code, err := e.do("POST", "/api/v1/counters/1/call-next", e.token, nil, &tk)
		require.NoError(t, err)
		require.Equal(t, 200, code)
		return tk.ID
	}
	act := func(id, action string) {
		code, err := e.do("POST", "/api/v1/tickets/"+id+"/"+action, e.token, map[string]string{"outcome": "ok"}, nil)
		require.NoError(t, err)
		require.Equal(t, 200, code, action)
	}
	for range 3 {
		issue()
	}
	e.login()
	first := call() // within 3 s
	time.Sleep(3500 * time.Millisecond)
	act(first, "recall") // a recall past the target: its wait still ended at the call
	act(first, "start")
	act(first, "complete")
	act(call(), "start") // after 3.5 s: out; the third still waits past 3 s: out
	lastCall := time.Now()
	e.converge(20 * time.Second)

	t.Run("same figures at branch and HQ", func(t *testing.T) {
		var st struct {
			SLAPct      float64 `json:"sla_pct"`
			Decided     int     `json:"decided"`
			WaitingOver int     `json:"waiting_over"`
			Waiting     int     `json:"waiting"`
		}
		_, err := e.do("GET", "/api/v1/stats/today", "", nil, &st)
		require.NoError(t, err)
		assert.Equal(t, 33.3, st.SLAPct, "branch page: 1 within of 3 decided")
		assert.Equal(t, 3, st.Decided)
		assert.Equal(t, 1, st.WaitingOver)
		store := hq.New(e.db, time.Now)
		var tile cloud.Tile
		require.Eventually(t, func() bool {
			tiles, err := store.Overview(ctx, cloud.AllBranches, cloud.OverviewFilter{Branches: []string{e.branch}})
			if err != nil || len(tiles) != 1 {
				return false
			}
			tile = tiles[0]
			return tile.Called == 2
		}, 10*time.Second, 50*time.Millisecond)
		assert.Equal(t, st.SLAPct, tile.SLA(), "HQ: the same % with the branch's own 3 s target")
		assert.Equal(t, st.Decided, tile.Decided)
		assert.Equal(t, st.WaitingOver, tile.WaitingOver)
		require.NotNil(t, tile.ClockSkewMS, "clock skew measured from the live status")
		assert.Less(t, abs(*tile.ClockSkewMS), int64(1000), "same machine: under a second")
	})

	openAlert := func(kind string) *cloud.HQAlert {
		var a cloud.HQAlert
		err := e.db.QueryRow(ctx, `SELECT id, value, raised_at FROM hq_alerts WHERE branch = $1 AND kind = $2 AND cleared_at IS NULL`,
			e.branch, kind).Scan(&a.ID, &a.Value, &a.RaisedAt)
		if err != nil {
			return nil
		}
		a.Kind = kind
		return &a
	}

	t.Run("stalled", func(t *testing.T) {
		var a *cloud.HQAlert
		require.Eventually(t, func() bool { a = openAlert(cloud.AlertStalled); return a != nil }, 15*time.Second, 100*time.Millisecond,
			"nobody called with one waiting: branch stalled")
		assert.GreaterOrEqual(t, a.RaisedAt.Sub(lastCall), 4*time.Second-500*time.Millisecond, "not before the threshold")
		assert.GreaterOrEqual(t, a.Value, int64(4))
	})

	t.Run("offline", func(t *testing.T) {
		e.agent.kill()
		killed := time.Now()
		require.Eventually(t, func() bool {
			var online bool
			err := e.db.QueryRow(ctx, `SELECT online FROM branch_sync WHERE branch = $1`, e.branch).Scan(&online)
			return err == nil && !online
		}, 10*time.Second, 20*time.Millisecond, "the last will arrives")
		time.Sleep(time.Second)
		assert.Nil(t, openAlert(cloud.AlertOffline), "1 s after the kill: not past the 3 s threshold")
		var a *cloud.HQAlert
		require.Eventually(t, func() bool { a = openAlert(cloud.AlertOffline); return a != nil }, 15*time.Second, 100*time.Millisecond)
		assert.GreaterOrEqual(t, a.RaisedAt.Sub(killed), 3*time.Second-500*time.Millisecond, "raised past the threshold")
		since := time.Since(connected)
		assert.InDelta(t, 3.5, float64(a.Value), 1.5, "offline for ~3 s, not the %s since the agent connected", since.Round(time.Second))
		assert.NotContains(t, openAlertKinds(t, e), cloud.AlertStalled, "offline: HQ does not know its calls")
		assert.Equal(t, fmt.Sprintf("0:%02d", a.Value), a.Shown())
	})
}

func openAlertKinds(t *testing.T, e *env) []string {
	t.Helper()
	rows, err := e.db.Query(context.Background(), `SELECT kind FROM hq_alerts WHERE branch = $1 AND cleared_at IS NULL`, e.branch)
	require.NoError(t, err)
	var out []string
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		out = append(out, k)
	}
	return out
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
