package hq

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/cloud"
)

// ConfigBranch is a branch with its configuration versions (cloud.ConfigBranch).
type ConfigBranch = cloud.ConfigBranch

// ConfigBranches lists the branches within scope by ID with their published
// and running configuration versions, in one query.
func (s *Store) ConfigBranches(ctx context.Context, scope Scope) ([]ConfigBranch, error) {
	all, bs, rs := scopeArgs(scope)
	rows, err := s.pool.Query(ctx, `SELECT x.id, x.name, x.region, x.time_zone,
			coalesce((SELECT max(c.version) FROM hq_branch_configs c WHERE c.branch = x.id), 0),
			coalesce(bs.config_version, 0), r.reported_at
		FROM (`+branchListSQL+`) x(id, name, region, time_zone)
		LEFT JOIN branch_sync bs ON bs.branch = x.id
		LEFT JOIN branch_reported_config r ON r.branch = x.id
		WHERE ($1::bool OR x.id = ANY($2::text[]) OR x.region = ANY($3::text[])) ORDER BY x.id`, all, bs, rs)
	if err != nil {
		return nil, wrap("config branches", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ConfigBranch, error) {
		var b ConfigBranch
		return b, r.Scan(&b.ID, &b.Name, &b.Region, &b.TimeZone, &b.Published, &b.Running, &b.ReportedAt)
	})
	return out, wrap("config branches", err)
}
