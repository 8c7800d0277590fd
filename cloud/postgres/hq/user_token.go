package hq

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/shared/queue"
)

// TokenPrefix starts every API token, so a leaked one is recognisable.
const TokenPrefix = "tkt_"

// CreateToken makes an API token for an integration and returns it in clear
// text, once; only its SHA-256 is stored. Errors: invalid hq.token.name,
// hq.role.invalid, hq.user.scope; conflict hq.token.exists.
func (s *Store) CreateToken(ctx context.Context, name string, role Role, regions, branches []string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 {
		return "", queue.Errorf(queue.CodeInvalid, "hq.token.name", name)
	}
	if _, err := ParseRole(string(role)); err != nil {
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
