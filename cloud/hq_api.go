package cloud

import (
	"context"
	"strings"
	"time"

	"github.com/ticketero/ticketero/shared/queue"
)

// The HQ JSON configuration API's contract with the store (issue 18; the API
// itself is cloud/web/api.go): API tokens with an expiry, and the list of
// branches with their configuration versions.

// MaxTokenLifetime bounds an API token's expiry: a tool's secret is rotated
// at least this often (a token without expiry is still possible).
const MaxTokenLifetime = 2 * 366 * 24 * time.Hour

// NewToken is the input of CreateAPIToken. Its role scopes it like a user's:
// an admin token may change the configuration, a supervisor or viewer token
// only reads, within its regions and branches (a supervisor needs some).
type NewToken struct {
	Name     string
	Role     Role
	Regions  []string
	Branches []string
	// ExpiresAt is when it stops working (zero: never).
	ExpiresAt time.Time
	// CreatedBy is the actor who made it (as in the audit: an e-mail).
	CreatedBy string
}

// Validate checks and normalises a new token at now. Errors: invalid
// hq.token.name, hq.role.invalid, hq.user.scope, branch.invalid,
// hq.token.expiry.
func (t *NewToken) Validate(now time.Time) error {
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" || len(t.Name) > 64 || !queue.ValidText(t.Name, 64) {
		return queue.Errorf(queue.CodeInvalid, "hq.token.name", t.Name)
	}
	if _, err := ParseRole(string(t.Role)); err != nil {
		return err
	}
	for _, b := range t.Branches {
		if _, err := queue.ParseBranchID(b); err != nil {
			return err
		}
	}
	if t.Role == RoleSupervisor && len(t.Regions) == 0 && len(t.Branches) == 0 {
		return queue.Errorf(queue.CodeInvalid, "hq.user.scope")
	}
	if !t.ExpiresAt.IsZero() && (!t.ExpiresAt.After(now) || t.ExpiresAt.Sub(now) > MaxTokenLifetime) {
		return queue.Errorf(queue.CodeInvalid, "hq.token.expiry")
	}
	return nil
}

// TokenLastDay reads a token's last day (YYYY-MM-DD, as the users page and
// `token create --expires` take it): the token stops working at the
// following midnight in Santiago. Empty is never (zero time). Errors:
// invalid hq.token.expiry.
func TokenLastDay(day string) (time.Time, error) {
	day = strings.TrimSpace(day)
	if day == "" {
		return time.Time{}, nil
	}
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		loc = time.UTC
	}
	d, err := time.ParseInLocation(time.DateOnly, day, loc)
	if err != nil {
		return time.Time{}, queue.Errorf(queue.CodeInvalid, "hq.token.expiry")
	}
	return d.AddDate(0, 0, 1), nil
}

// ConfigBranch is a branch as the configuration API lists it: its identity,
// the newest version HQ published and the one the branch reports running.
type ConfigBranch struct {
	BranchInfo
	// Published is the newest version HQ published (0: none); Running the
	// version the branch reports running (0: none, or never heard from).
	Published int64
	Running   int64
	// ReportedAt is when the branch last reported its own setup (nil: never).
	ReportedAt *time.Time
}

// HQConfigAPI is what the configuration API needs beyond the pages' store.
type HQConfigAPI interface {
	// CreateAPIToken makes an API token and returns its secret, once.
	// Errors: invalid (NewToken.Validate), conflict hq.token.exists.
	CreateAPIToken(ctx context.Context, t NewToken) (string, error)
	// ConfigBranches lists the branches within scope with their published
	// and running configuration versions.
	ConfigBranches(ctx context.Context, scope Scope) ([]ConfigBranch, error)
}
