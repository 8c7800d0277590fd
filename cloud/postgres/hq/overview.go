package hq

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/shared/queue"
)

// Tile is one branch in the live national overview.
type Tile struct {
	Branch string `json:"branch"`
	Name   string `json:"name"`
	Region string `json:"region"`
	// Waiting counts today's waiting tickets; LongestWaitS is the oldest
	// one's wait and OldestQueuedAt its arrival (nil when nobody waits).
	Waiting        int        `json:"waiting"`
	LongestWaitS   int        `json:"longest_wait_s"`
	OldestQueuedAt *time.Time `json:"oldest_queued_at"`
	// OverTargetS is the worst (wait - target) among waiting tickets; > 0
	// means someone waits beyond his service's target.
	OverTargetS int `json:"over_target_s"`
	// Called counts today's tickets called in their current queue. Decided
	// counts those whose service level is known (queue.WaitRule): called, or
	// waiting (or gone uncalled) past target; WithinTarget those called within
	// target; WaitingOver those still waiting past target.
	// SLA % = WithinTarget / Decided.
	Called       int `json:"called"`
	Decided      int `json:"decided"`
	WithinTarget int `json:"within_target"`
	WaitingOver  int `json:"waiting_over"`
	// LastCalledAt is today's latest call (branch clock), nil before any.
	LastCalledAt *time.Time `json:"last_called_at"`
	Issued       int        `json:"issued"`
	Serving      int        `json:"serving"`
	Paused       int        `json:"paused"`
	// Sync state from the ingest.
	Known        bool       `json:"known"` // the branch has a branch_sync row
	Online       bool       `json:"online"`
	AppliedSeq   int64      `json:"applied_seq"`
	MaxSeq       int64      `json:"max_seq"`
	Backlog      int64      `json:"backlog"`
	LastEventAt  *time.Time `json:"last_event_at"`
	LastIngestAt *time.Time `json:"last_ingest_at"`
	StatusAt     *time.Time `json:"status_at"`
	// StatusReceivedAt is when the cloud last received a live online status;
	// OfflineAt when the agent went offline (nil while online), both by the
	// cloud's clock (see postgres.EventStore.RecordStatusAt).
	StatusReceivedAt *time.Time `json:"status_received_at"`
	OfflineAt        *time.Time `json:"offline_at"`
	// ClockSkewMS is the agent's clock minus the cloud's, from its last live
	// status (nil when unknown).
	ClockSkewMS *int64 `json:"clock_skew_ms"`
	// OfflineFrom is since when the branch is offline as HQ judges it (nil
	// while online): OfflineSince at the store's clock and SilentAfter.
	OfflineFrom   *time.Time `json:"offline_from"`
	ConfigVersion int64      `json:"config_version"`
	// PublishedVersion is the newest config HQ published for the branch.
	PublishedVersion int64 `json:"published_version"`
	// Queues are the services with people waiting now, by code, with the
	// names HQ configured for them.
	Queues []ServiceWaiting `json:"queues"`
}

// ServiceWaiting is how many wait in one service of a branch.
type ServiceWaiting struct {
	Service string `json:"service"`
	Name    string `json:"name"`
	Waiting int    `json:"waiting"`
}

// SLA returns the percentage of today's decided tickets called within target
// (one decimal, as the branch page rounds it), or -1 when none is decided yet.
func (t Tile) SLA() float64 {
	if t.Decided == 0 {
		return -1
	}
	return queue.Percent(t.WithinTarget, t.Decided)
}

// OfflineSince returns since when the branch is offline, by the cloud's
// clock, or nil when it is online. An agent that says it is online but has
// given no sign of life (a live status or events) for silentAfter went
// offline at its last sign of life: its last will was lost.
func (t Tile) OfflineSince(now time.Time, silentAfter time.Duration) *time.Time {
	if !t.Known {
		return nil
	}
	if !t.Online {
		for _, at := range []*time.Time{t.OfflineAt, t.StatusAt, t.LastIngestAt} {
			if at != nil {
				return at
			}
		}
		return &now
	}
	last := latest(t.StatusReceivedAt, t.LastIngestAt)
	if last == nil || silentAfter <= 0 || now.Sub(*last) < silentAfter {
		return nil
	}
	return last
}

func latest(ts ...*time.Time) *time.Time {
	var out *time.Time
	for _, t := range ts {
		if t != nil && (out == nil || t.After(*out)) {
			out = t
		}
	}
	return out
}

// BranchNow is the branch's clock at the cloud's now: business times in
// events (queued, called) compare with it, not with the cloud's clock.
func (t Tile) BranchNow(now time.Time) time.Time {
	if t.ClockSkewMS == nil {
		return now
	}
	return now.Add(time.Duration(*t.ClockSkewMS) * time.Millisecond)
}

// StalledFor is how long people have been waiting with nobody called at the
// branch: since today's last call or the oldest waiting arrival, whichever
// is later, at the branch's clock (0 when nobody waits).
func (t Tile) StalledFor(now time.Time) time.Duration {
	if t.Waiting == 0 || t.OldestQueuedAt == nil {
		return 0
	}
	since := *latest(t.OldestQueuedAt, t.LastCalledAt)
	return max(t.BranchNow(now).Sub(since), 0)
}

// LagS is how far the cloud's copy trails the branch: the seconds between the
// newest applied event's branch time and its ingest (0 when unknown).
func (t Tile) LagS() int {
	if t.LastEventAt == nil || t.LastIngestAt == nil || t.LastIngestAt.Before(*t.LastEventAt) {
		return 0
	}
	return int(t.LastIngestAt.Sub(*t.LastEventAt).Seconds())
}

// Gap is how many events the cloud has seen beyond a missing one.
func (t Tile) Gap() int64 { return t.MaxSeq - t.AppliedSeq }

// OverviewFilter narrows and orders the overview.
type OverviewFilter struct {
	Region   string
	Branches []string // only these (used by the live push); empty means all
	Sort     string   // "name" (default), "waiting", "wait", "sla"
}

// branchListSQL lists every branch known to HQ or to the ingest with its
// region and time zone, restricted by the scope predicate on $2..$4.
const branchListSQL = `
	SELECT b.id, b.name, b.region, b.time_zone FROM branches b
	UNION ALL
	SELECT s.branch, '', '', 'America/Santiago' FROM branch_sync s
	WHERE NOT EXISTS (SELECT 1 FROM branches b2 WHERE b2.id = s.branch)`

// Overview returns a tile per branch within scope, at the store's clock.
func (s *Store) Overview(ctx context.Context, scope Scope, f OverviewFilter) ([]Tile, error) {
	all, bs, rs := scope.sqlArgs()
	only := nonNil(f.Branches)
	now := s.now()
	order := "bl.id"
	switch f.Sort {
	case "waiting":
		order = "t.waiting DESC, bl.id"
	case "wait":
		order = "t.oldest NULLS LAST, bl.id"
	case "sla":
		order = "CASE WHEN t.decided = 0 THEN 2 ELSE t.within::float8 / t.decided END, bl.id"
	}
	rows, err := s.pool.Query(ctx, `
WITH bl AS (
	SELECT * FROM (`+branchListSQL+`) x(id, name, region, time_zone)
	WHERE ($2::bool OR x.id = ANY($3::text[]) OR x.region = ANY($4::text[]))
	  AND ($5 = '' OR x.region = $5)
	  AND (cardinality($6::text[]) = 0 OR x.id = ANY($6::text[]))
), e AS (
	SELECT es.branch,
		count(*) FILTER (WHERE es.state NOT IN ('paused', 'logged_out')) AS serving,
		count(*) FILTER (WHERE es.state = 'paused') AS paused
	FROM executive_sessions es JOIN bl ON bl.id = es.branch
	GROUP BY es.branch
), c AS (
	SELECT branch, max(version) AS v FROM hq_branch_configs GROUP BY branch
), sq AS (
	-- The services people wait in, by name: one grouped pass over every
	-- branch's waiting tickets (not one subquery per branch).
	SELECT q.branch, jsonb_agg(jsonb_build_object('service', q.service, 'name', coalesce(sv.name, ''), 'waiting', q.n)
		ORDER BY q.service) AS queues
	FROM (SELECT tk.branch, tk.service, count(*) AS n
		FROM tickets tk JOIN bl ON bl.id = tk.branch
		WHERE tk.day = ($1::timestamptz AT TIME ZONE bl.time_zone)::date AND tk.status = 'waiting'
		GROUP BY tk.branch, tk.service) q
	LEFT JOIN hq_services sv ON sv.branch = q.branch AND sv.code = q.service
	GROUP BY q.branch
)
SELECT bl.id, bl.name, bl.region,
	t.issued, t.waiting, t.oldest,
	coalesce(extract(epoch FROM bn.now - t.oldest), 0)::int,
	coalesce(extract(epoch FROM bn.now - t.due), 0)::int,
	t.called, t.decided, t.within, t.waiting_over, t.last_called,
	coalesce(e.serving, 0), coalesce(e.paused, 0),
	sy.branch IS NOT NULL, coalesce(sy.online, false), coalesce(sy.applied_seq, 0), coalesce(sy.max_seq, 0), coalesce(sy.backlog, 0),
	sy.last_event_at, sy.last_ingest_at, sy.status_at, sy.status_received_at, sy.offline_at, sy.clock_skew_ms,
	coalesce(sy.config_version, 0), coalesce(c.v, 0), coalesce(sq.queues, '[]'::jsonb)
FROM bl
LEFT JOIN branch_sync sy ON sy.branch = bl.id
-- The branch's clock now: ticket times are the branch's.
CROSS JOIN LATERAL (SELECT $1::timestamptz + coalesce(sy.clock_skew_ms, 0) * interval '1 millisecond' AS now) bn
-- Per branch, today's tickets through the (branch, day, ...) prefix of the tickets unique key; "due"
-- is the earliest moment a waiting ticket passes its service's target. Targets
-- and the service-level rule: see waitRuleSQL.
CROSS JOIN LATERAL (
	SELECT count(*) AS issued,
		count(*) FILTER (WHERE tk.status = 'waiting') AS waiting,
		min(tk.queued_at) FILTER (WHERE tk.status = 'waiting') AS oldest,
		min(tk.queued_at + w.target * interval '1 second') FILTER (WHERE tk.status = 'waiting') AS due,
		count(*) FILTER (WHERE w.called) AS called,
		count(*) FILTER (WHERE w.called OR w.wait > w.target) AS decided,
		count(*) FILTER (WHERE w.called AND w.wait <= w.target) AS within,
		count(*) FILTER (WHERE tk.status = 'waiting' AND w.wait > w.target) AS waiting_over,
		max(tk.called_at) AS last_called
	FROM tickets tk
	LEFT JOIN hq_services sv ON sv.branch = tk.branch AND sv.code = tk.service
	CROSS JOIN LATERAL (`+waitRuleSQL("$7")+`) w
	WHERE tk.branch = bl.id AND tk.day = ($1::timestamptz AT TIME ZONE bl.time_zone)::date
) t
LEFT JOIN e ON e.branch = bl.id
LEFT JOIN c ON c.branch = bl.id
LEFT JOIN sq ON sq.branch = bl.id
ORDER BY `+order, now, all, bs, rs, f.Region, only, s.DefaultTargetWaitS)
	if err != nil {
		return nil, wrap("overview", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Tile, error) {
		var t Tile
		err := r.Scan(&t.Branch, &t.Name, &t.Region, &t.Issued, &t.Waiting, &t.OldestQueuedAt, &t.LongestWaitS, &t.OverTargetS,
			&t.Called, &t.Decided, &t.WithinTarget, &t.WaitingOver, &t.LastCalledAt, &t.Serving, &t.Paused,
			&t.Known, &t.Online, &t.AppliedSeq, &t.MaxSeq, &t.Backlog, &t.LastEventAt, &t.LastIngestAt, &t.StatusAt,
			&t.StatusReceivedAt, &t.OfflineAt, &t.ClockSkewMS, &t.ConfigVersion, &t.PublishedVersion, &t.Queues)
		t.OfflineFrom = t.OfflineSince(now, s.SilentAfter)
		return t, err
	})
	return out, wrap("overview", err)
}

// waitRuleSQL is queue.Judge in SQL, one row per ticket tk (with its
// branch_sync row sy, its hq_services row sv and the branch's clock bn.now):
// target is the service's target wait in seconds, the branch's own (from its
// status) first, then HQ's, then the default ($7); called says the ticket was
// called in its current queue; wait is its wait in seconds until that call,
// until it ended uncalled, or until now while it waits.
func waitRuleSQL(defaultTarget string) string {
	return `SELECT coalesce((sy.service_targets->>tk.service)::int, sv.target_wait_s, ` + defaultTarget + `) AS target,
		tk.called_at IS NOT NULL AND tk.called_at >= tk.queued_at AS called,
		extract(epoch FROM CASE WHEN tk.called_at >= tk.queued_at THEN tk.called_at
			ELSE coalesce(tk.ended_at, bn.now) END - tk.queued_at)::float8 AS wait`
}

// Regions lists the regions of the branches within scope.
func (s *Store) Regions(ctx context.Context, scope Scope) ([]string, error) {
	all, bs, rs := scope.sqlArgs()
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT region FROM branches
		WHERE region <> '' AND ($1::bool OR id = ANY($2::text[]) OR region = ANY($3::text[])) ORDER BY region`, all, bs, rs)
	if err != nil {
		return nil, wrap("regions", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, wrap("regions", err)
}
