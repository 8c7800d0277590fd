package hq

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/shared/queue"
)

// CreateSession opens a sign-in session for a user and returns the cookie
// token and the session's CSRF token. Only the token's SHA-256 is stored.
func (s *Store) CreateSession(ctx context.Context, userID int64, ip string) (token, csrf string, err error) {
	token, csrf = randomToken(32), randomToken(24)
	now := s.now()
	_, err = s.pool.Exec(ctx, `INSERT INTO hq_sessions (token_hash, user_id, csrf, ip, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		sha256Hex(token), userID, csrf, ip, now, now.Add(s.SessionTTL))
	if err != nil {
		return "", "", wrap("create session", err)
	}
	return token, csrf, nil
}

// Session resolves a session cookie to its principal and CSRF token. Errors:
// unauthorized hq.session.invalid (unknown, expired or disabled user).
func (s *Store) Session(ctx context.Context, token string) (Principal, string, error) {
	var (
		p    Principal
		csrf string
	)
	err := s.pool.QueryRow(ctx, `SELECT u.id, u.email, u.name, u.role, u.regions, u.branches, u.must_change_password, s.csrf
		FROM hq_sessions s JOIN hq_users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled`, sha256Hex(token), s.now()).
		Scan(&p.UserID, &p.Email, &p.Name, &p.Role, &p.Regions, &p.Branches, &p.MustChangePassword, &csrf)
	if errors.Is(err, pgx.ErrNoRows) {
		return Principal{}, "", queue.Errorf(queue.CodeUnauthorized, "hq.session.invalid")
	}
	return p, csrf, wrap("session", err)
}

// DeleteSession signs a session out (and sweeps expired ones).
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM hq_sessions WHERE token_hash = $1 OR expires_at < $2`, sha256Hex(token), s.now())
	return wrap("delete session", err)
}
