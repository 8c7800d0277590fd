package hq

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

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
)

// AuditEntry is one audit record: who, what, when and from where.
type AuditEntry struct {
	ID     int64
	At     time.Time
	Actor  string
	Action string
	Target string
	Detail string
	IP     string
}

// Audit records an entry at the store's clock.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO hq_audit (at, actor, action, target, detail, ip) VALUES ($1, $2, $3, $4, $5, $6)`,
		e.At, e.Actor, e.Action, e.Target, e.Detail, e.IP)
	return wrap("audit", err)
}

// AuditFilter selects audit entries; zero fields match everything.
type AuditFilter struct {
	From, To time.Time
	Actor    string
	Action   string
	Limit    int
}

// AuditLog returns entries newest first.
func (s *Store) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 100000 {
		f.Limit = 500
	}
	var from, to *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	rows, err := s.pool.Query(ctx, `SELECT id, at, actor, action, target, detail, ip FROM hq_audit
		WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::timestamptz IS NULL OR at < $2)
		  AND ($3 = '' OR actor = $3) AND ($4 = '' OR action = $4)
		ORDER BY at DESC, id DESC LIMIT $5`, from, to, f.Actor, f.Action, f.Limit)
	if err != nil {
		return nil, wrap("audit log", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := r.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.IP)
		return e, err
	})
	return out, wrap("audit log", err)
}
