package hq

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// counterKPIs adds the outcome counts (over the report's tickets, base's CTE
// t) and the executives' days to r.
func (s *Store) counterKPIs(ctx context.Context, scope Scope, r *Report, base string, args []any) error {
	q := r.Query
	rows, err := s.pool.Query(ctx, base+`
SELECT c.code, coalesce(o.name, ''), count(*)
FROM t CROSS JOIN LATERAL unnest(string_to_array(NULLIF(t.outcome, ''), ',')) AS c(code)
LEFT JOIN hq_outcomes o ON o.code = c.code
WHERE t.status = 'done' GROUP BY c.code, o.name, o.position ORDER BY count(*) DESC, o.position NULLS LAST, c.code`, args...)
	if err != nil {
		return wrap("report outcomes", err)
	}
	r.Outcomes, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (OutcomeCount, error) {
		var o OutcomeCount
		return o, row.Scan(&o.Code, &o.Name, &o.Visits)
	})
	if err != nil {
		return wrap("report outcomes", err)
	}
	// Each state lasts until the executive's next change, the end of its
	// local day, or now, whichever comes first; offline time is not counted.
	all, bs, rs := scopeArgs(scope)
	rows, err = s.pool.Query(ctx, `WITH bl AS (
	SELECT * FROM (`+branchListSQL+`) x(id, name, region, time_zone)
	WHERE ($1::bool OR x.id = ANY($2::text[]) OR x.region = ANY($3::text[]))
	  AND ($4 = '' OR x.id = $4) AND ($5 = '' OR x.region = $5)
), a AS (
	SELECT ea.branch, ea.executive, ea.state, ea.reason, ea.at, bl.time_zone,
		lead(ea.at) OVER (PARTITION BY ea.branch, ea.executive ORDER BY ea.at, ea.seq) AS next_at,
		(ea.at AT TIME ZONE bl.time_zone)::date AS day
	FROM executive_activity ea JOIN bl ON bl.id = ea.branch
	WHERE ea.at >= ($6::date - 1)::timestamptz AND ea.at < ($7::date + 2)::timestamptz
	  AND ($8 = '' OR ea.executive = $8)
), d AS (
	SELECT branch, executive, day, state, reason,
		greatest(0, extract(epoch FROM least(coalesce(next_at, $9::timestamptz), $9::timestamptz,
			((day + 1)::timestamp AT TIME ZONE time_zone)) - at))::float8 AS secs
	FROM a WHERE day BETWEEN $6::date AND $7::date AND state <> 'offline'
)
SELECT d.branch, d.executive, coalesce(max(es.name), ''), d.day::text, d.state, d.reason, sum(d.secs)
FROM d LEFT JOIN executive_sessions es ON es.branch = d.branch AND es.executive = d.executive
GROUP BY d.branch, d.executive, d.day, d.state, d.reason
ORDER BY d.day, d.branch, d.executive`, all, bs, rs, q.Branch, q.Region, q.From, q.To, q.Executive, s.now())
	if err != nil {
		return wrap("report executives", err)
	}
	defer rows.Close()
	r.Executives = []ExecutiveDay{}
	for rows.Next() {
		var b, x, name, day, state, reason string
		var secs float64
		if err := rows.Scan(&b, &x, &name, &day, &state, &reason, &secs); err != nil {
			return wrap("report executives", err)
		}
		n := len(r.Executives)
		if n == 0 || r.Executives[n-1].Branch != b || r.Executives[n-1].Executive != x || r.Executives[n-1].Day != day {
			r.Executives = append(r.Executives, ExecutiveDay{Branch: b, Executive: x, Name: name, Day: day, Pauses: map[string]float64{}})
			n++
		}
		e := &r.Executives[n-1]
		switch state {
		case "serving":
			e.ServingS += secs
		case "idle":
			e.IdleS += secs
		case "paused":
			e.PausedS += secs
			e.Pauses[reason] += secs
		}
	}
	return wrap("report executives", rows.Err())
}
