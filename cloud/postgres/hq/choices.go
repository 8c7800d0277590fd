package hq

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Choices lists the services (by code, with the names HQ configured) and the
// executives (configured at HQ or seen signed in at a branch) of the
// branches within scope, narrowed to one branch and/or region when given.
// Scope is enforced here, as in every query returning branch data.
func (s *Store) Choices(ctx context.Context, scope Scope, branch, region string) (FilterChoices, error) {
	all, bs, rs := scopeArgs(scope)
	inScope := `SELECT x.id FROM (` + branchListSQL + `) x(id, name, region, time_zone)
		WHERE ($1::bool OR x.id = ANY($2::text[]) OR x.region = ANY($3::text[]))
		  AND ($4 = '' OR x.id = $4) AND ($5 = '' OR x.region = $5)`
	var out FilterChoices
	rows, err := s.pool.Query(ctx, `WITH b AS (`+inScope+`)
		SELECT code, coalesce(string_agg(DISTINCT name, ' / ' ORDER BY name) FILTER (WHERE name <> ''), '') FROM (
			SELECT sv.code, sv.name FROM hq_services sv JOIN b ON b.id = sv.branch
			UNION ALL
			SELECT DISTINCT t.service, '' FROM tickets t JOIN b ON b.id = t.branch WHERE t.day >= current_date - 1
		) u GROUP BY code ORDER BY code`, all, bs, rs, branch, region)
	if err != nil {
		return out, wrap("service choices", err)
	}
	out.Services, err = pgx.CollectRows(rows, scanChoice)
	if err != nil {
		return out, wrap("service choices", err)
	}
	rows, err = s.pool.Query(ctx, `WITH b AS (`+inScope+`)
		SELECT id, coalesce(string_agg(DISTINCT name, ' / ' ORDER BY name) FILTER (WHERE name <> ''), '') FROM (
			SELECT e.id, e.name FROM hq_executives e JOIN b ON b.id = e.branch
			UNION ALL
			SELECT es.executive, es.name FROM executive_sessions es JOIN b ON b.id = es.branch
		) u GROUP BY id ORDER BY id`, all, bs, rs, branch, region)
	if err != nil {
		return out, wrap("executive choices", err)
	}
	out.Executives, err = pgx.CollectRows(rows, scanChoice)
	return out, wrap("executive choices", err)
}

func scanChoice(r pgx.CollectableRow) (Choice, error) {
	var c Choice
	return c, r.Scan(&c.Value, &c.Label)
}
