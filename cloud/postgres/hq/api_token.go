package hq

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/queue"
)

// NewToken is the input of CreateAPIToken (cloud.NewToken).
type NewToken = cloud.NewToken

// MaxTokenLifetime bounds a token's expiry (cloud.MaxTokenLifetime).
const MaxTokenLifetime = cloud.MaxTokenLifetime

// CreateAPIToken makes an API token for an integration and returns it in
// clear text, once: "tkt_" and 32 random bytes; only its SHA-256 is stored.
// Errors: invalid (see NewToken); conflict hq.token.exists.
func (s *Store) CreateAPIToken(ctx context.Context, t NewToken) (string, error) {
	if err := t.Validate(s.now()); err != nil {
		return "", err
	}
	var expires *time.Time
	if !t.ExpiresAt.IsZero() {
		expires = &t.ExpiresAt
	}
	token := TokenPrefix + randomToken(32)
	_, err := s.pool.Exec(ctx, `INSERT INTO hq_api_tokens (name, token_hash, role, regions, branches, created_at, expires_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		t.Name, sha256Hex(token), string(t.Role), nonNil(t.Regions), nonNil(t.Branches), s.now(), expires, clip(t.CreatedBy, auditActorMax))
	if isUniqueViolation(err) {
		return "", queue.Errorf(queue.CodeConflict, "hq.token.exists", t.Name)
	}
	if err != nil {
		return "", wrap("create token", err)
	}
	return token, nil
}

// TokenPrincipal resolves a Bearer token and records its use. Errors:
// unauthorized hq.token.invalid (unknown or revoked), hq.token.expired.
func (s *Store) TokenPrincipal(ctx context.Context, token string) (Principal, error) {
	if !strings.HasPrefix(token, TokenPrefix) || len(token) > 128 {
		return Principal{}, queue.Errorf(queue.CodeUnauthorized, "hq.token.invalid")
	}
	hash, now := sha256Hex(token), s.now()
	var p Principal
	var stored string
	err := s.pool.QueryRow(ctx, `UPDATE hq_api_tokens SET last_used_at = $2
		WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
		RETURNING name, role, regions, branches, token_hash`, hash, now).
		Scan(&p.Token, &p.Role, &p.Regions, &p.Branches, &stored)
	if errors.Is(err, pgx.ErrNoRows) {
		// Why: an expired token says so (its holder knows the secret); an
		// unknown or revoked one is just invalid.
		var expired bool
		err := s.pool.QueryRow(ctx, `SELECT revoked_at IS NULL AND expires_at <= $2 FROM hq_api_tokens WHERE token_hash = $1`, hash, now).Scan(&expired)
		if err == nil && expired {
			return Principal{}, queue.Errorf(queue.CodeUnauthorized, "hq.token.expired")
		}
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return Principal{}, wrap("token principal", err)
		}
		return Principal{}, queue.Errorf(queue.CodeUnauthorized, "hq.token.invalid")
	}
	if err != nil {
		return Principal{}, wrap("token principal", err)
	}
	// The index found it by hash; compare again in constant time so nothing
	// of the comparison depends on where two hashes differ.
	if subtle.ConstantTimeCompare([]byte(stored), []byte(hash)) != 1 {
		return Principal{}, queue.Errorf(queue.CodeUnauthorized, "hq.token.invalid")
	}
	return p, nil
}
