package hq

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// branchListSQL lists every branch known to HQ or to the ingest with its
// region and time zone, restricted by the scope predicate on $2..$4.
const branchListSQL = `
	SELECT b.id, b.name, b.region, b.time_zone FROM branches b
	UNION ALL
	SELECT s.branch, '', '', 'America/Santiago' FROM branch_sync s
	WHERE NOT EXISTS (SELECT 1 FROM branches b2 WHERE b2.id = s.branch)`

// Overview returns a tile per branch within scope, at the store's clock.
func (s *Store) Overview(ctx context.Context, scope Scope, f OverviewFilter) ([]Tile, error) {
	all, bs, rs := scopeArgs(scope)
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
	all, bs, rs := scopeArgs(scope)
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT region FROM branches
		WHERE region <> '' AND ($1::bool OR id = ANY($2::text[]) OR region = ANY($3::text[])) ORDER BY region`, all, bs, rs)
	if err != nil {
		return nil, wrap("regions", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, wrap("regions", err)
}
