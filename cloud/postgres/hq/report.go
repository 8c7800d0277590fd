package hq

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Report dimensions.
var reportKeys = map[string]string{
	"branch":    "t.branch",
	"region":    "t.region",
	"service":   "t.service",
	"executive": "coalesce(t.executive, '')",
	"day":       "t.day::text",
}

// Report computes a report over branches within scope. Errors: see Normalize.
func (s *Store) Report(ctx context.Context, scope Scope, q ReportQuery) (Report, error) {
	if err := q.Normalize(s.now()); err != nil {
		return Report{}, err
	}
	all, bs, rs := scopeArgs(scope)
	args := []any{all, bs, rs, q.Branch, q.Region, q.From, q.To, q.Service, q.Executive, s.DefaultTargetWaitS, s.now()}
	base := `WITH bl AS (
	SELECT * FROM (` + branchListSQL + `) x(id, name, region, time_zone)
	WHERE ($1::bool OR x.id = ANY($2::text[]) OR x.region = ANY($3::text[]))
	  AND ($4 = '' OR x.id = $4) AND ($5 = '' OR x.region = $5)
), t AS (
	-- wait is the rule's (waitRuleSQL): until the call, the uncalled end, or
	-- now for tickets still waiting; cwait only for called tickets (quotes).
	SELECT tk.*, bl.region, bl.time_zone, w.target, w.called, w.wait,
		CASE WHEN w.called THEN w.wait END AS cwait,
		extract(epoch FROM tk.ended_at - tk.started_at)::float8 AS svc,
		extract(epoch FROM tk.started_at - tk.called_at)::float8 AS walk
	FROM tickets tk JOIN bl ON bl.id = tk.branch
	LEFT JOIN branch_sync sy ON sy.branch = tk.branch
	LEFT JOIN hq_services sv ON sv.branch = tk.branch AND sv.code = tk.service
	CROSS JOIN LATERAL (SELECT $11::timestamptz + coalesce(sy.clock_skew_ms, 0) * interval '1 millisecond' AS now) bn
	CROSS JOIN LATERAL (` + waitRuleSQL("$10") + `) w
	WHERE tk.day BETWEEN $6::date AND $7::date AND ($8 = '' OR tk.service = $8) AND ($9 = '' OR tk.executive = $9)
)`
	rows, err := s.pool.Query(ctx, base+`
SELECT `+reportKeys[q.GroupBy]+` AS k,
	count(*), count(*) FILTER (WHERE status = 'done'), count(*) FILTER (WHERE status = 'no_show'),
	count(*) FILTER (WHERE status = 'abandoned'), count(*) FILTER (WHERE called),
	count(*) FILTER (WHERE status = 'waiting'), count(*) FILTER (WHERE status = 'waiting' AND wait > target),
	coalesce(avg(wait), 0), coalesce(percentile_cont(0.9) WITHIN GROUP (ORDER BY wait), 0),
	coalesce(avg(svc) FILTER (WHERE status = 'done'), 0),
	count(*) FILTER (WHERE called AND wait <= target), count(*) FILTER (WHERE called OR wait > target),
	coalesce(avg(walk), 0),
	coalesce(avg(quoted_typical_s) FILTER (WHERE called AND quoted_typical_s > 0), 0)::float8,
	coalesce(avg(cwait) FILTER (WHERE quoted_typical_s > 0), 0),
	count(*) FILTER (WHERE quoted_upper_s > 0 AND cwait <= quoted_upper_s),
	count(*) FILTER (WHERE quoted_upper_s > 0 AND called),
	count(*) FILTER (WHERE priority = 'preferential' AND status = 'done'),
	coalesce(avg(wait) FILTER (WHERE priority = 'preferential'), 0),
	coalesce(percentile_cont(0.9) WITHIN GROUP (ORDER BY wait) FILTER (WHERE priority = 'preferential'), 0)
FROM t GROUP BY k ORDER BY k`, args...)
	if err != nil {
		return Report{}, wrap("report", err)
	}
	out := Report{Query: q}
	out.Rows, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ReportRow, error) {
		var x ReportRow
		var within, decided, withinQuoted, quoted int
		err := r.Scan(&x.Key, &x.Issued, &x.Served, &x.NoShow, &x.Abandoned, &x.Called, &x.Waiting, &x.WaitingOver,
			&x.MeanWaitS, &x.P90WaitS, &x.MeanServiceS, &within, &decided, &x.MeanWalkS, &x.MeanQuotedS, &x.MeanActualS,
			&withinQuoted, &quoted, &x.PrefServed, &x.PrefMeanWaitS, &x.PrefP90WaitS)
		x.NoShowPct = pct(x.NoShow, x.Issued)
		x.AbandonedPct = pct(x.Abandoned, x.Issued)
		x.SLAPct = pct(within, decided)
		x.WithinQuotedPct = pct(withinQuoted, quoted)
		return x, err
	})
	if err != nil {
		return Report{}, wrap("report", err)
	}
	rows, err = s.pool.Query(ctx, base+`
SELECT extract(isodow FROM queued_at AT TIME ZONE time_zone)::int, extract(hour FROM queued_at AT TIME ZONE time_zone)::int, count(*)
FROM t GROUP BY 1, 2`, args...)
	if err != nil {
		return Report{}, wrap("report heatmap", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d, h, n int
		if err := rows.Scan(&d, &h, &n); err != nil {
			return Report{}, wrap("report heatmap", err)
		}
		if d >= 1 && d <= 7 && h >= 0 && h < 24 {
			out.Heatmap[d-1][h] = n
			out.Max = max(out.Max, n)
		}
	}
	if err := rows.Err(); err != nil {
		return Report{}, wrap("report heatmap", err)
	}
	rows.Close()
	if err := s.counterKPIs(ctx, scope, &out, base, args); err != nil {
		return Report{}, err
	}
	return out, nil
}

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) * 100 / float64(of)
}
