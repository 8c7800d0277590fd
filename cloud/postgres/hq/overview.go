package hq

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
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
	// Called and WithinTarget count today's called tickets and those called
	// within target: SLA % = WithinTarget / Called.
	Called       int `json:"called"`
	WithinTarget int `json:"within_target"`
	Issued       int `json:"issued"`
	Serving      int `json:"serving"`
	Paused       int `json:"paused"`
	// Sync state from the ingest.
	Known         bool       `json:"known"` // the branch has a branch_sync row
	Online        bool       `json:"online"`
	AppliedSeq    int64      `json:"applied_seq"`
	MaxSeq        int64      `json:"max_seq"`
	Backlog       int64      `json:"backlog"`
	LastEventAt   *time.Time `json:"last_event_at"`
	LastIngestAt  *time.Time `json:"last_ingest_at"`
	StatusAt      *time.Time `json:"status_at"`
	ConfigVersion int64      `json:"config_version"`
	// PublishedVersion is the newest config HQ published for the branch.
	PublishedVersion int64 `json:"published_version"`
}

// SLA returns the percentage of today's called tickets called within target,
// or -1 when none was called yet.
func (t Tile) SLA() int {
	if t.Called == 0 {
		return -1
	}
	return t.WithinTarget * 100 / t.Called
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
	order := "bl.id"
	switch f.Sort {
	case "waiting":
		order = "t.waiting DESC, bl.id"
	case "wait":
		order = "t.oldest NULLS LAST, bl.id"
	case "sla":
		order = "CASE WHEN t.called = 0 THEN 2 ELSE t.within::float8 / t.called END, bl.id"
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
)
SELECT bl.id, bl.name, bl.region,
	t.issued, t.waiting, t.oldest,
	coalesce(extract(epoch FROM $1::timestamptz - t.oldest), 0)::int,
	coalesce(extract(epoch FROM $1::timestamptz - t.due), 0)::int,
	t.called, t.within,
	coalesce(e.serving, 0), coalesce(e.paused, 0),
	sy.branch IS NOT NULL, coalesce(sy.online, false), coalesce(sy.applied_seq, 0), coalesce(sy.max_seq, 0), coalesce(sy.backlog, 0),
	sy.last_event_at, sy.last_ingest_at, sy.status_at, coalesce(sy.config_version, 0), coalesce(c.v, 0)
FROM bl
-- Per branch, today's tickets through the (branch, day, ...) prefix of the tickets unique key; "due"
-- is the earliest moment a waiting ticket passes its service's target.
CROSS JOIN LATERAL (
	SELECT count(*) AS issued,
		count(*) FILTER (WHERE tk.status = 'waiting') AS waiting,
		min(tk.queued_at) FILTER (WHERE tk.status = 'waiting') AS oldest,
		min(tk.queued_at + tg.iv) FILTER (WHERE tk.status = 'waiting') AS due,
		count(tk.called_at) AS called,
		count(*) FILTER (WHERE tk.called_at <= tk.queued_at + tg.iv) AS within
	FROM tickets tk
	LEFT JOIN hq_services sv ON sv.branch = tk.branch AND sv.code = tk.service
	CROSS JOIN LATERAL (SELECT coalesce(sv.target_wait_s, $7) * interval '1 second' AS iv) tg
	WHERE tk.branch = bl.id AND tk.day = ($1::timestamptz AT TIME ZONE bl.time_zone)::date
) t
LEFT JOIN e ON e.branch = bl.id
LEFT JOIN branch_sync sy ON sy.branch = bl.id
LEFT JOIN c ON c.branch = bl.id
ORDER BY `+order, s.now(), all, bs, rs, f.Region, only, s.DefaultTargetWaitS)
	if err != nil {
		return nil, wrap("overview", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Tile, error) {
		var t Tile
		err := r.Scan(&t.Branch, &t.Name, &t.Region, &t.Issued, &t.Waiting, &t.OldestQueuedAt, &t.LongestWaitS, &t.OverTargetS,
			&t.Called, &t.WithinTarget, &t.Serving, &t.Paused,
			&t.Known, &t.Online, &t.AppliedSeq, &t.MaxSeq, &t.Backlog, &t.LastEventAt, &t.LastIngestAt, &t.StatusAt,
			&t.ConfigVersion, &t.PublishedVersion)
		return t, err
	})
	return out, wrap("overview", err)
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
