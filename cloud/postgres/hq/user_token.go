package hq

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/queue"
)

// CreateToken makes an API token for an integration and returns it in clear
// text, once; only its SHA-256 is stored. Errors: invalid hq.token.name,
// hq.role.invalid, hq.user.scope; conflict hq.token.exists.
func (s *Store) CreateToken(ctx context.Context, name string, role Role, regions, branches []string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 {
		return "", queue.Errorf(queue.CodeInvalid, "hq.token.name", name)
	}
	if _, err := cloud.ParseRole(string(role)); err != nil {
		return "", err
	}
	if role == RoleSupervisor && len(regions) == 0 && len(branches) == 0 {
		return "", queue.Errorf(queue.CodeInvalid, "hq.user.scope")
	}
	token := TokenPrefix + randomToken(32)
	_, err := s.pool.Exec(ctx, `INSERT INTO hq_api_tokens (name, token_hash, role, regions, branches, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		name, sha256Hex(token), string(role), nonNil(regions), nonNil(branches), s.now())
	if isUniqueViolation(err) {
		return "", queue.Errorf(queue.CodeConflict, "hq.token.exists", name)
	}
	if err != nil {
		return "", wrap("create token", err)
	}
	return token, nil
}

// TokenPrincipal resolves a Bearer token. Errors: unauthorized hq.token.invalid.
func (s *Store) TokenPrincipal(ctx context.Context, token string) (Principal, error) {
	if !strings.HasPrefix(token, TokenPrefix) {
		return Principal{}, queue.Errorf(queue.CodeUnauthorized, "hq.token.invalid")
	}
	var p Principal
	err := s.pool.QueryRow(ctx, `UPDATE hq_api_tokens SET last_used_at = $2
		WHERE token_hash = $1 AND revoked_at IS NULL RETURNING name, role, regions, branches`,
		sha256Hex(token), s.now()).Scan(&p.Token, &p.Role, &p.Regions, &p.Branches)
	if errors.Is(err, pgx.ErrNoRows) {
		return Principal{}, queue.Errorf(queue.CodeUnauthorized, "hq.token.invalid")
	}
	return p, wrap("token principal", err)
}

// Tokens lists the API tokens by name.
func (s *Store) Tokens(ctx context.Context) ([]APIToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, role, regions, branches, created_at, last_used_at, revoked_at FROM hq_api_tokens ORDER BY name`)
	if err != nil {
		return nil, wrap("tokens", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (APIToken, error) {
		var t APIToken
		return t, r.Scan(&t.ID, &t.Name, &t.Role, &t.Regions, &t.Branches, &t.CreatedAt, &t.LastUsedAt, &t.RevokedAt)
	})
	return out, wrap("tokens", err)
}

// RevokeToken revokes a token for good. Errors: not_found hq.token.not_found.
func (s *Store) RevokeToken(ctx context.Context, id int64) (string, error) {
	var name string
	err := s.pool.QueryRow(ctx, `UPDATE hq_api_tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 RETURNING name`, id, s.now()).Scan(&name)
	return name, notFound(wrap("revoke token", err), "hq.token.not_found", id)
}
