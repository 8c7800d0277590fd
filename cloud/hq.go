package cloud

import (
	"context"
	"time"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// The HQ web's data access (cloud/postgres/hq implements it; the HQ web,
// cloud/web, depends only on these interfaces and the types of hq_*.go). Every
// read that can return branch data takes a Scope and filters by it in the
// query layer. Errors are queue errors (invalid, not_found, conflict,
// unauthorized: shared/problem maps them) or internal ones.

// HQAuth signs people and integrations in: passwords, sessions and API
// tokens.
type HQAuth interface {
	// Authenticate checks an e-mail and password, counting the attempt
	// (lockout after repeated failures). Errors: *LoginRefused.
	Authenticate(ctx context.Context, email, password string) (Principal, error)
	// CreateSession starts a session of the user from ip and returns its
	// token and CSRF token.
	CreateSession(ctx context.Context, userID int64, ip string) (token, csrf string, err error)
	// Session resolves a live session token to its principal and CSRF token.
	// Errors: unauthorized.
	Session(ctx context.Context, token string) (Principal, string, error)
	// DeleteSession ends a session.
	DeleteSession(ctx context.Context, token string) error
	// SessionLifetime is how long a sign-in lasts.
	SessionLifetime() time.Duration
	// TokenPrincipal resolves an API token (its Bearer secret) to its
	// principal. Errors: unauthorized.
	TokenPrincipal(ctx context.Context, token string) (Principal, error)
}

// HQUsers manages HQ accounts and integrations' API tokens. The methods that
// change an account return its e-mail (for the audit).
type HQUsers interface {
	// CreateUser adds an account. Errors: invalid (NewUser.Validate),
	// conflict hq.user.exists.
	CreateUser(ctx context.Context, u NewUser) (User, error)
	// Users lists the accounts.
	Users(ctx context.Context) ([]User, error)
	// Unlock clears a user's lockout.
	Unlock(ctx context.Context, id int64) (string, error)
	// SetPassword sets a user's password (an admin's reset).
	SetPassword(ctx context.Context, id int64, password string) (string, error)
	// ChangePassword is a user's change of his own password, checked against
	// the current one; his other sessions end (keep is the session making the
	// change).
	ChangePassword(ctx context.Context, id int64, current, password, keep string) error
	// SetDisabled disables or re-enables a user.
	SetDisabled(ctx context.Context, id int64, disabled bool) (string, error)
	// CreateToken makes an API token and returns its secret, once.
	CreateToken(ctx context.Context, name string, role Role, regions, branches []string) (string, error)
	// Tokens lists the API tokens (never their secrets).
	Tokens(ctx context.Context) ([]APIToken, error)
	// RevokeToken revokes an API token for good.
	RevokeToken(ctx context.Context, id int64) (string, error)
}

// HQAudit records and reads the audit log.
type HQAudit interface {
	Auditor
	// AuditCounted records e folded into one row per minute with a count
	// (repeated refusals: sign-in failures, denials).
	AuditCounted(ctx context.Context, e AuditEntry) error
	// AuditLog returns the entries f selects, newest first.
	AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}

// HQOverview is the live national overview and its alerts.
type HQOverview interface {
	// Overview returns a tile per branch within scope.
	Overview(ctx context.Context, scope Scope, f OverviewFilter) ([]Tile, error)
	// Regions lists the regions of the branches within scope.
	Regions(ctx context.Context, scope Scope) ([]string, error)
	// OpenAlerts lists the open alerts of the branches within scope.
	OpenAlerts(ctx context.Context, scope Scope) ([]HQAlert, error)
	// AckAlert acknowledges an open alert of a branch within scope (by is
	// the actor) and returns its branch. Errors: not_found hq.alert.not_found.
	AckAlert(ctx context.Context, scope Scope, id int64, by string) (string, error)
}

// HQBranches reads branches: their identity, the branch view and the
// choices of its filters.
type HQBranches interface {
	// Branch returns a branch within scope. Errors: not_found
	// hq.branch.not_found.
	Branch(ctx context.Context, scope Scope, id string) (BranchInfo, error)
	// Branches lists the branches within scope.
	Branches(ctx context.Context, scope Scope) ([]BranchInfo, error)
	// BranchPage is the branch view with a page of its tickets of a day.
	// Errors: those of Branch and TicketFilter.Normalize.
	BranchPage(ctx context.Context, scope Scope, id string, f TicketFilter) (BranchDetail, error)
	// Choices lists the services and executives of the branches within
	// scope, narrowed to a branch and/or region when given.
	Choices(ctx context.Context, scope Scope, branch, region string) (FilterChoices, error)
}

// HQReports computes the reports over the branches within scope. Errors:
// those of ReportQuery.Normalize.
type HQReports interface {
	Report(ctx context.Context, scope Scope, q ReportQuery) (Report, error)
	FeedbackReport(ctx context.Context, scope Scope, q ReportQuery) (FeedbackReport, error)
	// FeedbackComments lists the newest comments (masked), at most limit.
	FeedbackComments(ctx context.Context, scope Scope, q ReportQuery, limit int) ([]FeedbackComment, error)
}

// HQConfig is the configuration HQ edits as a draft per branch and publishes
// to it: the branch, its services, counters, executives, rules and hours.
type HQConfig interface {
	// ConfigList lists a page of the branches (those only the ingest knows
	// too) that match the filter with the version each runs, the latest
	// published and its tags, by ID, and how many match: no ticket is read
	// (the configuration list). Errors: invalid hq.configlist.version_invalid.
	ConfigList(ctx context.Context, f ConfigListFilter) (ConfigListPage, error)
	PutBranch(ctx context.Context, in BranchInput) error
	// BranchConfig returns a branch's draft. Errors: not_found
	// hq.branch.not_found.
	BranchConfig(ctx context.Context, id string) (BranchConfig, error)
	PutService(ctx context.Context, branch string, v queue.Service) error
	DeleteService(ctx context.Context, branch, code string) error
	PutCounter(ctx context.Context, branch string, c queue.Counter) error
	DeleteCounter(ctx context.Context, branch string, number int) error
	// PutExecutive creates or updates an executive; a non-empty pin sets his
	// PIN.
	PutExecutive(ctx context.Context, branch string, e queue.Executive, pin string) error
	DeleteExecutive(ctx context.Context, branch, id string) error
	PutRules(ctx context.Context, branch string, r event.Rules) error
	BranchHours(ctx context.Context, branch string) (event.Hours, error)
	PutBranchHours(ctx context.Context, branch string, h event.Hours) error
	// PublishPreview compares a branch's draft with what it runs, described
	// in lang.
	PublishPreview(ctx context.Context, branch string, lang i18n.Lang) (BranchConfig, Preview, error)
	// Publish snapshots the draft as the branch's next version (by names the
	// publisher; rutSealKey, the cloud's RUT sealing public key, goes in it)
	// and returns the config to send. Errors: conflict when it would strand
	// waiting tickets; not_found hq.branch.not_found.
	Publish(ctx context.Context, branch, by, rutSealKey string) (event.Config, error)
}

// HQCalendar is the network's public holidays and visit outcome codes, which
// every branch's published configuration carries.
type HQCalendar interface {
	Holidays(ctx context.Context, year int) ([]event.Holiday, error)
	PutHoliday(ctx context.Context, h event.Holiday, by string) error
	DeleteHoliday(ctx context.Context, date string) error
	Outcomes(ctx context.Context) ([]queue.Outcome, error)
	PutOutcome(ctx context.Context, o queue.Outcome) error
	DeleteOutcome(ctx context.Context, code string) error
}

// HQStore is everything the HQ web reads and writes, with the store's clock.
type HQStore interface {
	// Now is the store's clock reading.
	Now() time.Time
	HQAuth
	HQUsers
	HQAudit
	HQOverview
	HQBranches
	HQReports
	HQConfig
	HQCalendar
	Templates
	HQConfigAPI
}
