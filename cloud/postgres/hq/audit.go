package hq

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/cloud"
)

// Lengths audit fields are cut to: the audit records who did what, it is no
// place for whatever a client sends (an 8 MB "e-mail" once made a 24 MB table).
const (
	auditActorMax  = 254
	auditTargetMax = 256
	auditDetailMax = 1024
	auditIPMax     = 64
)

// AuditEntry is one audit record (cloud.AuditEntry).
type AuditEntry = cloud.AuditEntry

func clipEntry(e *AuditEntry) {
	e.Actor = clip(e.Actor, auditActorMax)
	e.Target = clip(e.Target, auditTargetMax)
	e.Detail = clip(e.Detail, auditDetailMax)
	e.IP = clip(e.IP, auditIPMax)
}

// clip cuts s to at most n bytes (dropping a rune cut in two), marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n-3], "") + "..."
}

// Audit records an entry at the store's clock.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	clipEntry(&e)
	_, err := s.pool.Exec(ctx, `INSERT INTO hq_audit (at, actor, action, target, detail, ip) VALUES ($1, $2, $3, $4, $5, $6)`,
		e.At, e.Actor, e.Action, e.Target, e.Detail, e.IP)
	return wrap("audit", err)
}

// AuditCounted records an entry that anyone may cause repeatedly (a refused
// sign-in, a CSRF failure, a denied access): occurrences with the same
// action, actor, target, detail and IP within one minute share one row whose
// count goes up, so the audit stays bounded however fast they come.
func (s *Store) AuditCounted(ctx context.Context, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	clipEntry(&e)
	_, err := s.pool.Exec(ctx, `INSERT INTO hq_audit (at, actor, action, target, detail, ip, bucket) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (action, actor, target, detail, ip, bucket) WHERE bucket IS NOT NULL
		DO UPDATE SET count = hq_audit.count + 1`,
		e.At, e.Actor, e.Action, e.Target, e.Detail, e.IP, e.At.Truncate(time.Minute))
	return wrap("audit", err)
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
	rows, err := s.pool.Query(ctx, `SELECT id, at, actor, action, target, detail, ip, count FROM hq_audit
		WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::timestamptz IS NULL OR at < $2)
		  AND ($3 = '' OR actor = $3) AND ($4 = '' OR action = $4)
		ORDER BY at DESC, id DESC LIMIT $5`, from, to, f.Actor, f.Action, f.Limit)
	if err != nil {
		return nil, wrap("audit log", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := r.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.IP, &e.Count)
		return e, err
	})
	return out, wrap("audit log", err)
}

var _ cloud.Auditor = (*Store)(nil)
