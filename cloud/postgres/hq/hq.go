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
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

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

// Role is what a user may do.
type Role string

// Roles. Admin manages everything; supervisor watches his regions or branches,
// acknowledges alerts and exports; viewer only reads.
const (
	RoleAdmin      Role = "admin"
	RoleSupervisor Role = "supervisor"
	RoleViewer     Role = "viewer"
)

// ParseRole validates a role name. Errors: invalid hq.role.invalid.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleAdmin, RoleSupervisor, RoleViewer:
		return r, nil
	}
	return "", queue.Errorf(queue.CodeInvalid, "hq.role.invalid", s)
}

// Scope is the set of branches a principal may see: all of them, or those
// listed by ID or by region.
type Scope struct {
	All      bool
	Regions  []string
	Branches []string
}

// AllBranches is the scope of an admin.
var AllBranches = Scope{All: true}

// Allows reports whether a branch of region is within the scope.
func (s Scope) Allows(branch, region string) bool {
	return s.All || slices.Contains(s.Branches, branch) || (region != "" && slices.Contains(s.Regions, region))
}

// sqlArgs returns the three arguments of the scope predicate
// ($n::bool OR b.id = ANY($n+1) OR b.region = ANY($n+2)).
func (s Scope) sqlArgs() (bool, []string, []string) {
	b, r := s.Branches, s.Regions
	if b == nil {
		b = []string{}
	}
	if r == nil {
		r = []string{}
	}
	return s.All, b, r
}

// Principal is who makes a request: a signed-in user or an API token.
type Principal struct {
	UserID   int64
	Email    string
	Name     string
	Token    string // API token name, when authenticated by Bearer token
	Role     Role
	Regions  []string
	Branches []string
	// MustChangePassword is set for a user who must choose a new password
	// before anything else (the first admin, whose password was generated).
	MustChangePassword bool
}

// Actor names the principal in the audit log.
func (p Principal) Actor() string {
	if p.Token != "" {
		return "token:" + p.Token
	}
	return p.Email
}

// Scope returns the branches the principal may see. Admins and unscoped
// viewers see every branch; a supervisor sees only his regions and branches.
func (p Principal) Scope() Scope {
	switch {
	case p.Role == RoleAdmin:
		return AllBranches
	case p.Role == RoleViewer && len(p.Regions) == 0 && len(p.Branches) == 0:
		return AllBranches
	}
	return Scope{Regions: p.Regions, Branches: p.Branches}
}

// CanAck reports whether the principal may acknowledge alerts.
func (p Principal) CanAck() bool { return p.Role == RoleAdmin || p.Role == RoleSupervisor }

// IsAdmin reports whether the principal is an admin.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

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
