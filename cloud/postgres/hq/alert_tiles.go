package hq

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// AlertTiles returns a tile per branch with the fields EvaluateAlerts reads
// and nothing else: waiting (count, oldest, worst over target), today's last
// call and the sync state. Overview also judges every one of today's
// tickets against its target (the service level) and names the queues; at
// 5,000 branches and 300,000 tickets a day that is about a second of
// PostgreSQL's CPU, and the alert loop runs every 5 s. Here only waiting
// tickets are judged, and today's last call is looked up only where people
// wait.
//
// branches narrows the read to those branches (the alert loop re-reads the
// branches announced as changed); none reads every branch.
func (s *Store) AlertTiles(ctx context.Context, branches ...string) ([]Tile, error) {
	now := s.now()
	rows, err := s.pool.Query(ctx, `
WITH bl AS (
	SELECT * FROM (`+branchListSQL+`) x(id, name, region, time_zone)
	WHERE cardinality($3::text[]) = 0 OR x.id = ANY($3::text[])
)
SELECT bl.id, bl.region,
	t.waiting, t.oldest,
	coalesce(extract(epoch FROM bn.now - t.oldest), 0)::int,
	coalesce(extract(epoch FROM bn.now - t.due), 0)::int,
	-- Today's last call only matters while people wait (the stalled rule).
	CASE WHEN t.waiting > 0 THEN (SELECT max(tk.called_at) FROM tickets tk
		WHERE tk.branch = bl.id AND tk.day = ($1::timestamptz AT TIME ZONE bl.time_zone)::date) END,
	sy.branch IS NOT NULL, coalesce(sy.online, false), coalesce(sy.backlog, 0),
	sy.last_ingest_at, sy.status_at, sy.status_received_at, sy.offline_at, sy.clock_skew_ms
FROM bl
LEFT JOIN branch_sync sy ON sy.branch = bl.id
CROSS JOIN LATERAL (SELECT $1::timestamptz + coalesce(sy.clock_skew_ms, 0) * interval '1 millisecond' AS now) bn
CROSS JOIN LATERAL (
	SELECT count(*) AS waiting, min(tk.queued_at) AS oldest,
		min(tk.queued_at + w.target * interval '1 second') AS due
	FROM tickets tk
	LEFT JOIN hq_services sv ON sv.branch = tk.branch AND sv.code = tk.service
	CROSS JOIN LATERAL (`+waitRuleSQL("$2")+`) w
	WHERE tk.branch = bl.id AND tk.day = ($1::timestamptz AT TIME ZONE bl.time_zone)::date AND tk.status = 'waiting'
) t
ORDER BY bl.id`, now, s.DefaultTargetWaitS, nonNil(branches))
	if err != nil {
		return nil, wrap("alert tiles", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Tile, error) {
		var t Tile
		err := r.Scan(&t.Branch, &t.Region, &t.Waiting, &t.OldestQueuedAt, &t.LongestWaitS, &t.OverTargetS, &t.LastCalledAt,
			&t.Known, &t.Online, &t.Backlog, &t.LastIngestAt, &t.StatusAt, &t.StatusReceivedAt, &t.OfflineAt, &t.ClockSkewMS)
		t.OfflineFrom = t.OfflineSince(now, s.SilentAfter)
		return t, err
	})
	return out, wrap("alert tiles", err)
}
