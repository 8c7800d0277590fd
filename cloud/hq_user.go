package cloud

import (
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/ticketero/ticketero/shared/queue"
)

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

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 10

// MaxEmailLen is the longest e-mail address accepted (RFC 5321's path limit).
const MaxEmailLen = 254

// BootstrapEmail is the e-mail of the admin created on first run.
const BootstrapEmail = "admin@ticketero.local"

// User is an HQ account (never with its password hash).
type User struct {
	ID          int64
	Email       string
	Name        string
	Role        Role
	Regions     []string
	Branches    []string
	LockedUntil *time.Time
	Disabled    bool
	CreatedAt   time.Time
}

// NewUser is the input of CreateUser.
type NewUser struct {
	Email    string
	Name     string
	Password string
	Role     Role
	Regions  []string
	Branches []string
}

// Validate checks and normalises a new user (its e-mail lower-cased). Errors: invalid hq.user.email, hq.user.password,
// hq.role.invalid, hq.user.scope, branch.invalid.
func (u *NewUser) Validate() error {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email || len(u.Email) > MaxEmailLen {
		return queue.Errorf(queue.CodeInvalid, "hq.user.email", u.Email)
	}
	if len(u.Password) < MinPasswordLen {
		return queue.Errorf(queue.CodeInvalid, "hq.user.password", MinPasswordLen)
	}
	if _, err := ParseRole(string(u.Role)); err != nil {
		return err
	}
	for _, b := range u.Branches {
		if _, err := queue.ParseBranchID(b); err != nil {
			return err
		}
	}
	if u.Role == RoleSupervisor && len(u.Regions) == 0 && len(u.Branches) == 0 {
		return queue.Errorf(queue.CodeInvalid, "hq.user.scope")
	}
	return nil
}

// LoginRefused is the one answer to every refused sign-in, whatever the
// cause, so it tells no one whether the account exists or is locked: it
// unwraps to unauthorized hq.login.refused. Cause (hq.login.failed,
// hq.login.locked, hq.login.disabled or hq.login.unknown) is for the audit.
type LoginRefused struct {
	Cause string
	err   *queue.Error
}

// RefuseLogin is the *LoginRefused of a sign-in refused for cause.
func RefuseLogin(cause string) error {
	return &LoginRefused{Cause: cause, err: queue.Errorf(queue.CodeUnauthorized, "hq.login.refused")}
}

func (e *LoginRefused) Error() string { return e.err.Error() + " (" + e.Cause + ")" }

// Unwrap returns the application error shown to the person signing in.
func (e *LoginRefused) Unwrap() error { return e.err }

// SplitList parses a comma-separated list (flags and forms), trimming blanks.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// TokenPrefix starts every API token, so a leaked one is recognisable.
const TokenPrefix = "tkt_"

// APIToken is an integration's token (never its secret).
type APIToken struct {
	ID         int64
	Name       string
	Role       Role
	Regions    []string
	Branches   []string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	// ExpiresAt is when the token stops working (nil: never); CreatedBy who
	// made it (empty for tokens made before it was recorded, or by the CLI).
	ExpiresAt *time.Time
	CreatedBy string
}
