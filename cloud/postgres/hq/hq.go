// Package hq is the PostgreSQL data access of the HQ web: users, sessions, API
// tokens, audit, the live overview, alerts, branch view, reports and the
// configuration HQ publishes to branches. It reads the ingest's projection
// (tables events, tickets, executive_sessions, branch_sync of
// migrations/postgres/00001) and owns the hq_* tables of 00002.
//
// It lives in its own package beside cloud/postgres (the sync ingest) so the two
// never collide on names or on a package TestMain.
//
// Access scope is enforced here, in the query layer: every read that can return
// branch data takes a Scope and filters in SQL.
package hq

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/queue"
)

// Store is the HQ data access over a pgx pool.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
	// BcryptCost is the cost of password and PIN hashes (bcrypt.DefaultCost+2
	// by default; tests lower it).
	BcryptCost int
	// SessionTTL is how long a sign-in lasts.
	SessionTTL time.Duration
	// MaxFailedLogins consecutive failures lock an account for LockoutFor.
	MaxFailedLogins int
	LockoutFor      time.Duration
	// DefaultTargetWaitS is the target of a service HQ has not configured.
	DefaultTargetWaitS int
	// SilentAfter: an agent that says it is online but gave no sign of life
	// (a live status, events) for this long is offline since its last one
	// (its last will was lost). Three status intervals (30 s each) by
	// default; zero turns it off.
	SilentAfter time.Duration

	dummyMu   sync.Mutex
	dummy     []byte
	dummyCost int
}

// New returns a Store. now is the clock (time.Now in production).
func New(pool *pgxpool.Pool, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{
		pool: pool, now: now,
		BcryptCost:         bcrypt.DefaultCost + 2,
		SessionTTL:         12 * time.Hour,
		MaxFailedLogins:    5,
		LockoutFor:         15 * time.Minute,
		DefaultTargetWaitS: 600,
		SilentAfter:        90 * time.Second,
	}
}

// Pool returns the store's pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Now returns the store's clock reading.
func (s *Store) Now() time.Time { return s.now() }

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("hq: crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// sha256Hex hashes a high-entropy secret (session or API token) for storage.
func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// isUniqueViolation reports a unique constraint violation.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// notFound wraps pgx.ErrNoRows as an application not_found error.
func notFound(err error, reason string, args ...any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return queue.Errorf(queue.CodeNotFound, reason, args...)
	}
	return err
}

// scopeArgs returns the three arguments of the scope predicate
// ($n::bool OR b.id = ANY($n+1) OR b.region = ANY($n+2)).
func scopeArgs(s Scope) (bool, []string, []string) {
	b, r := s.Branches, s.Regions
	if b == nil {
		b = []string{}
	}
	if r == nil {
		r = []string{}
	}
	return s.All, b, r
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var qe *queue.Error
	if errors.As(err, &qe) {
		return err
	}
	return fmt.Errorf("hq: %s: %w", op, err)
}

// SessionLifetime returns SessionTTL (cloud.HQAuth).
func (s *Store) SessionLifetime() time.Duration { return s.SessionTTL }

var _ cloud.HQStore = (*Store)(nil)
