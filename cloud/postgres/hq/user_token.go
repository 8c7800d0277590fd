package hq

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// CreateToken makes an API token that never expires (CreateAPIToken).
func (s *Store) CreateToken(ctx context.Context, name string, role Role, regions, branches []string) (string, error) {
	return s.CreateAPIToken(ctx, NewToken{Name: name, Role: role, Regions: regions, Branches: branches})
}

// Tokens lists the API tokens by name.
func (s *Store) Tokens(ctx context.Context) ([]APIToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, role, regions, branches, created_at, last_used_at, revoked_at, expires_at, created_by
		FROM hq_api_tokens ORDER BY name`)
	if err != nil {
		return nil, wrap("tokens", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (APIToken, error) {
		var t APIToken
		return t, r.Scan(&t.ID, &t.Name, &t.Role, &t.Regions, &t.Branches, &t.CreatedAt, &t.LastUsedAt, &t.RevokedAt, &t.ExpiresAt, &t.CreatedBy)
	})
	return out, wrap("tokens", err)
}

// RevokeToken revokes a token for good. Errors: not_found hq.token.not_found.
func (s *Store) RevokeToken(ctx context.Context, id int64) (string, error) {
	var name string
	err := s.pool.QueryRow(ctx, `UPDATE hq_api_tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 RETURNING name`, id, s.now()).Scan(&name)
	return name, notFound(wrap("revoke token", err), "hq.token.not_found", id)
}
