package cloud

import "time"

// Audit actions. They are stored and exported: never rename one.
const (
	AuditLogin         = "auth.login"
	AuditLoginFailed   = "auth.login_failed"
	AuditLogout        = "auth.logout"
	AuditPersonalView  = "personal.view"
	AuditConfigChange  = "config.change"
	AuditConfigPublish = "config.publish"
	AuditExport        = "export"
	AuditUserCreate    = "user.create"
	AuditTokenCreate   = "token.create"
	AuditTokenRevoke   = "token.revoke"
	AuditUserChange    = "user.change"
	AuditAlertAck      = "alert.ack"
	AuditDenied        = "access.denied"
	AuditCSRF          = "access.csrf"
	// AuditConfigImport is the import of a branch's own setup into HQ's draft
	// on first contact, written by the ingest (cloud/postgres) as the branch.
	AuditConfigImport = "config.import"
)

// AuditFilter selects audit entries; zero fields match everything.
type AuditFilter struct {
	From, To time.Time
	Actor    string
	Action   string
	Limit    int
}
