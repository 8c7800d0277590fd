package hq_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
	"github.com/ticketero/ticketero/shared/event"
)

// alertsOf evaluates the alerts at the store's clock and returns the open
// ones of branch by kind.
func alertsOf(t *testing.T, s *hq.Store, r cloud.AlertRules, branch string) map[string]cloud.HQAlert {
	t.Helper()
	ctx := context.Background()
	tiles, err := s.Overview(ctx, cloud.AllBranches, cloud.OverviewFilter{Branches: []string{branch}})
	require.NoError(t, err)
	_, err = s.EvaluateAlerts(ctx, tiles, r)
	require.NoError(t, err)
	open, err := s.OpenAlerts(ctx, cloud.Scope{Branches: []string{branch}})
	require.NoError(t, err)
	out := map[string]cloud.HQAlert{}
	for _, a := range open {
		out[a.Kind] = a
	}
	return out
}

// branch adds a branch known to the ingest with no status nor events yet,
// removed with everything of it when the test ends (the package's tests share
// one database).
func branch(t *testing.T, f hqtest.Fixture, id string) {
	t.Helper()
	f.Branch(id, id, "Z", true)
	ctx := context.Background()
	_, err := f.Pool.Exec(ctx, `UPDATE branch_sync SET status_at = NULL, status_since = NULL, last_ingest_at = NULL WHERE branch = $1`, id)
	require.NoError(t, err)
	t.Cleanup(func() {
		for _, tbl := range []string{"branches WHERE id", "branch_sync WHERE branch", "tickets WHERE branch", "events WHERE branch", "hq_alerts WHERE branch", "hq_backlog_samples WHERE branch"} {
			_, err := f.Pool.Exec(ctx, `DELETE FROM `+tbl+` = $1`, id)
			require.NoError(t, err)
		}
	})
}

// TestOfflineAlert runs the agent's statuses through the real ingest
// (EventStore.RecordStatusAt) with one injected clock for ingest and HQ.
func TestOfflineAlert(t *testing.T) {
	s, f, c := newStore(t)
	ctx := context.Background()
	es := postgres.NewEventStore(f.Pool, nil)
	es.Now = c.Now
	rules := cloud.DefaultAlertRules()
	rules.OfflineAfter = time.Minute
	const b = "OFF-001"
	branch(t, f, b)
	connect := c.t.Add(-20 * time.Minute) // the session began 20 minutes ago
	online := event.Status{V: 1, Branch: b, Online: true, At: connect, Since: connect}
	require.NoError(t, es.RecordStatusAt(ctx, online, false))
	c.t = c.t.Add(-30 * time.Second)
	online.At = c.t
	require.NoError(t, es.RecordStatusAt(ctx, online, false)) // the last heartbeat
	c.t = c.t.Add(30 * time.Second)

	t.Run("killed", func(t *testing.T) {
		// The last will carries the session's start as its time: the
		// duration counts from its arrival, not from the connect.
		will := event.Status{V: 1, Branch: b, Online: false, At: connect, Since: connect}
		require.NoError(t, es.RecordStatusAt(ctx, will, false))
		offAt := c.t
		c.t = c.t.Add(200 * time.Millisecond)
		assert.NotContains(t, alertsOf(t, s, rules, b), cloud.AlertOffline, "0.2 s after the will: not past the 1 min threshold")
		c.t = offAt.Add(59 * time.Second)
		assert.NotContains(t, alertsOf(t, s, rules, b), cloud.AlertOffline)
		c.t = offAt.Add(75 * time.Second)
		a, ok := alertsOf(t, s, rules, b)[cloud.AlertOffline]
		require.True(t, ok, "raised once past the threshold")
		assert.Equal(t, int64(75), a.Value, "the time since it went offline, not since it connected")
		assert.Equal(t, "1:15", a.Shown())
		// The cloud restarts: the broker delivers the retained will again.
		c.t = offAt.Add(3 * time.Minute)
		require.NoError(t, es.RecordStatusAt(ctx, will, true))
		a = alertsOf(t, s, rules, b)[cloud.AlertOffline]
		assert.Equal(t, int64(180), a.Value, "a retained will delivered again changes nothing")
	})

	t.Run("back online", func(t *testing.T) {
		again := c.t.Add(-time.Second)
		require.NoError(t, es.RecordStatusAt(ctx, event.Status{V: 1, Branch: b, Online: true, At: again, Since: again}, false))
		assert.NotContains(t, alertsOf(t, s, rules, b), cloud.AlertOffline, "cleared")
	})

	t.Run("cloud restarts", func(t *testing.T) {
		// The cloud was down 10 minutes; the agent kept publishing its
		// status; at the cloud's start the broker delivers the last one,
		// retained, sent 20 s ago.
		c.t = c.t.Add(10 * time.Minute)
		sent := c.t.Add(-20 * time.Second)
		require.NoError(t, es.RecordStatusAt(ctx, event.Status{V: 1, Branch: b, Online: true, At: sent, Since: c.t.Add(-time.Second - 10*time.Minute)}, true))
		assert.NotContains(t, alertsOf(t, s, rules, b), cloud.AlertOffline, "alive 20 s ago by its retained status, not silent for 10 min")
	})

	t.Run("will seen only retained", func(t *testing.T) {
		// The cloud was down while the agent died: at its start it gets the
		// retained will. Offline since the last sign of life it had.
		last := c.t.Add(-19 * time.Second) // the retained status's time, corrected by the branch clock's 1 s lag
		c.t = c.t.Add(10 * time.Minute)
		since := c.t.Add(-21 * time.Minute)
		require.NoError(t, es.RecordStatusAt(ctx, event.Status{V: 1, Branch: b, Online: false, At: since, Since: c.t.Add(-time.Second - 20*time.Minute)}, true))
		tiles, err := s.Overview(ctx, cloud.AllBranches, cloud.OverviewFilter{Branches: []string{b}})
		require.NoError(t, err)
		require.Len(t, tiles, 1)
		require.NotNil(t, tiles[0].OfflineAt)
		assert.WithinDuration(t, last, *tiles[0].OfflineAt, time.Millisecond, "its last live status")
		a := alertsOf(t, s, rules, b)[cloud.AlertOffline]
		assert.Equal(t, int64(619), a.Value)
	})

	t.Run("will lost", func(t *testing.T) {
		const b2 = "OFF-002"
		branch(t, f, b2)
		at := c.t
		require.NoError(t, es.RecordStatusAt(ctx, event.Status{V: 1, Branch: b2, Online: true, At: at, Since: at}, false))
		c.t = at.Add(80 * time.Second)
		assert.NotContains(t, alertsOf(t, s, rules, b2), cloud.AlertOffline, "silent for less than SilentAfter")
		c.t = at.Add(100 * time.Second)
		a, ok := alertsOf(t, s, rules, b2)[cloud.AlertOffline]
		require.True(t, ok, "silent past SilentAfter and OfflineAfter: offline since its last status")
		assert.Equal(t, int64(100), a.Value)
		tiles, err := s.Overview(ctx, cloud.AllBranches, cloud.OverviewFilter{Branches: []string{b2}})
		require.NoError(t, err)
		require.NotNil(t, tiles[0].OfflineFrom, "its tile says offline too")
		assert.True(t, at.Equal(*tiles[0].OfflineFrom), "offline from its last status")
	})
}

func TestClockSkewAndBranchTargets(t *testing.T) {
	s, f, c := newStore(t)
	ctx := context.Background()
	es := postgres.NewEventStore(f.Pool, nil)
	es.Now = c.Now
	const b = "SKW-001"
	branch(t, f, b)
	// The branch's clock is 3.2 s ahead; it runs Caja with a 5 min target.
	st := event.Status{V: 1, Branch: b, Online: true, At: c.t.Add(3200 * time.Millisecond), Targets: map[string]int{"C": 300}}
	st.Since = st.At
	require.NoError(t, es.RecordStatusAt(ctx, st, false))
	now := c.t
	at := func(m int) *time.Time { x := now.Add(time.Duration(m) * time.Minute); return &x }
	// Called after 6 min: within HQ's 10 min default, out of the branch's 5.
	f.Ticket(hqtest.Ticket{Branch: b, ID: "a", Service: "C", Number: 1, Status: "done", QueuedAt: *at(-20), CalledAt: at(-14), EndedAt: at(-10)})
	f.Ticket(hqtest.Ticket{Branch: b, ID: "b", Service: "C", Number: 2, Status: "done", QueuedAt: *at(-20), CalledAt: at(-17), EndedAt: at(-15)})
	// Waiting 4 min: not decided yet.
	f.Ticket(hqtest.Ticket{Branch: b, ID: "c", Service: "C", Number: 3, QueuedAt: *at(-4)})
	tiles, err := s.Overview(ctx, cloud.AllBranches, cloud.OverviewFilter{Branches: []string{b}})
	require.NoError(t, err)
	require.Len(t, tiles, 1)
	tl := tiles[0]
	require.NotNil(t, tl.ClockSkewMS)
	assert.Equal(t, int64(3200), *tl.ClockSkewMS)
	assert.Equal(t, 2, tl.Decided)
	assert.Equal(t, 50.0, tl.SLA(), "the branch's 5 min target, not HQ's flat 10 min")
	assert.Equal(t, 4*60+3, tl.LongestWaitS, "waits at the branch's clock")
	v, err := s.BranchView(ctx, cloud.AllBranches, b, "")
	require.NoError(t, err)
	require.Len(t, v.Queues, 1)
	assert.Equal(t, 300, v.Queues[0].TargetWaitS, "the branch view shows the branch's target too")

	// A retained status (delivered on the cloud's subscribe, maybe old)
	// measures no skew, and a status without targets keeps the known ones.
	old := event.Status{V: 1, Branch: b, Online: true, At: st.At.Add(time.Second), Since: st.Since}
	require.NoError(t, es.RecordStatusAt(ctx, old, true))
	tiles, err = s.Overview(ctx, cloud.AllBranches, cloud.OverviewFilter{Branches: []string{b}})
	require.NoError(t, err)
	assert.Equal(t, int64(3200), *tiles[0].ClockSkewMS)
	assert.Equal(t, 50.0, tiles[0].SLA())
}

func TestStalledAlert(t *testing.T) {
	s, f, c := newStore(t)
	rules := cloud.DefaultAlertRules()
	const b = "STL-001"
	branch(t, f, b)
	f.Sync(b, true, 0, c.t)
	now := c.t
	at := func(m int) *time.Time { x := now.Add(time.Duration(m) * time.Minute); return &x }
	f.Ticket(hqtest.Ticket{Branch: b, ID: "a", Service: "C", Number: 1, Status: "done", QueuedAt: *at(-30), CalledAt: at(-7), EndedAt: at(-6)})
	f.Ticket(hqtest.Ticket{Branch: b, ID: "b", Service: "C", Number: 2, QueuedAt: *at(-9)})
	f.Ticket(hqtest.Ticket{Branch: b, ID: "c", Service: "C", Number: 3, QueuedAt: *at(-1)})

	a, ok := alertsOf(t, s, rules, b)[cloud.AlertStalled]
	require.True(t, ok, "two waiting, nobody called for 7 min")
	assert.Equal(t, int64(7*60), a.Value)
	assert.Equal(t, "7:00", a.Shown())

	f.Ticket(hqtest.Ticket{Branch: b, ID: "b", Service: "C", Number: 2, Status: "called", QueuedAt: *at(-9), CalledAt: at(0)})
	assert.NotContains(t, alertsOf(t, s, rules, b), cloud.AlertStalled, "a call clears it")

	c.t = now.Add(5*time.Minute + time.Second)
	assert.Contains(t, alertsOf(t, s, rules, b), cloud.AlertStalled, "the one left waits with nobody called for 5 min")
	f.Sync(b, false, 0, c.t.Add(-10*time.Minute))
	got := alertsOf(t, s, rules, b)
	assert.NotContains(t, got, cloud.AlertStalled, "offline: HQ does not know its calls; the offline alert says it")
	assert.Contains(t, got, cloud.AlertOffline)

	const quiet = "STL-002"
	branch(t, f, quiet)
	f.Sync(quiet, true, 0, c.t)
	f.Ticket(hqtest.Ticket{Branch: quiet, ID: "q", Service: "C", Number: 1, QueuedAt: c.t.Add(-4 * time.Minute)})
	assert.NotContains(t, alertsOf(t, s, rules, quiet), cloud.AlertStalled, "waiting 4 min, no call yet: under 5 min")
}

func TestFormatAlertValue(t *testing.T) {
	for _, tc := range []struct {
		kind string
		v    int64
		want string
	}{
		{cloud.AlertOffline, 114, "1:54"},
		{cloud.AlertOffline, 979, "16:19"},
		{cloud.AlertWaitOver, 5, "0:05"},
		{cloud.AlertStalled, 3600 + 61, "1:01:01"},
		{cloud.AlertQueueLong, 960, "960"},
		{cloud.AlertBacklogUp, 25, "25"},
		{"future_kind", 3, "3"},
	} {
		assert.Equal(t, tc.want, cloud.FormatAlertValue(tc.kind, tc.v), "%s %d", tc.kind, tc.v)
	}
}

// TestAlertWritesWhatMoved evaluates tiles of one branch pass after pass: an
// open alert whose value stays is not rewritten, a moved value is, an alert
// cleared meanwhile by another replica is raised again, one no longer raised
// is cleared, and the backlog sample rolls forward once a window.
func TestAlertWritesWhatMoved(t *testing.T) {
	s, f, c := newStore(t)
	ctx := context.Background()
	rules := cloud.DefaultAlertRules()
	const b = "MOV-001"
	branch(t, f, b)
	tile := hq.Tile{Branch: b, Known: true, Online: true, Waiting: 20, LongestWaitS: 600, OverTargetS: 300, Backlog: 3}
	eval := func(tl hq.Tile) bool {
		t.Helper()
		tl.StatusAt, tl.StatusReceivedAt, tl.LastIngestAt = &c.t, &c.t, &c.t
		changed, err := s.EvaluateAlerts(ctx, []hq.Tile{tl}, rules)
		require.NoError(t, err)
		return changed
	}
	row := func(kind string) (value int64, xmin string) {
		t.Helper()
		require.NoError(t, f.Pool.QueryRow(ctx, `SELECT value, xmin::text FROM hq_alerts WHERE branch = $1 AND kind = $2 AND cleared_at IS NULL`, b, kind).Scan(&value, &xmin))
		return value, xmin
	}
	openOf := func(kind string) (n int) {
		t.Helper()
		require.NoError(t, f.Pool.QueryRow(ctx, `SELECT count(*) FROM hq_alerts WHERE branch = $1 AND kind = $2 AND cleared_at IS NULL`, b, kind).Scan(&n))
		return n
	}
	sample := func() (n int64, at time.Time) {
		t.Helper()
		require.NoError(t, f.Pool.QueryRow(ctx, `SELECT backlog, at FROM hq_backlog_samples WHERE branch = $1`, b).Scan(&n, &at))
		return n, at
	}
	require.True(t, eval(tile), "first pass raises")
	v, x0 := row(cloud.AlertQueueLong)
	assert.EqualValues(t, 20, v)
	t0 := c.t
	n, at := sample()
	assert.EqualValues(t, 3, n)
	assert.True(t, at.Equal(t0))

	c.t = c.t.Add(10 * time.Second)
	tile.Backlog = 9
	require.False(t, eval(tile), "same alerts: nothing raised or cleared")
	v, x1 := row(cloud.AlertQueueLong)
	assert.EqualValues(t, 20, v)
	assert.Equal(t, x0, x1, "an unchanged alert is not rewritten")
	n, at = sample()
	assert.EqualValues(t, 3, n, "the sample rolls once a window")
	assert.True(t, at.Equal(t0))
	assert.Zero(t, openOf(cloud.AlertBacklogUp), "grown since a sample not a window old: no alert")

	tile.Waiting, tile.LongestWaitS = 21, 610
	require.False(t, eval(tile), "a value moved: not a new alert")
	v, _ = row(cloud.AlertQueueLong)
	assert.EqualValues(t, 21, v)
	v, _ = row(cloud.AlertWaitOver)
	assert.EqualValues(t, 610, v)

	// Another replica cleared it (it saw the queue short): raised again.
	_, err := f.Pool.Exec(ctx, `UPDATE hq_alerts SET cleared_at = $2 WHERE branch = $1 AND kind = 'queue_long'`, b, c.t)
	require.NoError(t, err)
	tile.Waiting = 22
	require.True(t, eval(tile))
	v, _ = row(cloud.AlertQueueLong)
	assert.EqualValues(t, 22, v)

	c.t = t0.Add(61 * time.Second)
	tile.Waiting = 5
	require.True(t, eval(tile), "queue short again: cleared")
	assert.Zero(t, openOf(cloud.AlertQueueLong))
	v, _ = row(cloud.AlertBacklogUp)
	assert.EqualValues(t, 9, v, "backlog grew since the sample a window ago")
	n, at = sample()
	assert.EqualValues(t, 9, n)
	assert.True(t, at.Equal(c.t))
}
