package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ticketero/ticketero/cloud"
)

// retentionLockKey is the advisory lock that lets one replica anonymise at a
// time.
const retentionLockKey int64 = 0x7469636b_72657465 // "tickrete"

// Anonymiser clears personal data past the retention in PostgreSQL.
type Anonymiser struct {
	Pool *pgxpool.Pool
}

var _ cloud.Anonymiser = (*Anonymiser)(nil)

// retentionStep is one batched statement: $1 the clock, $2 the retention in days,
// $3 the batch size (the link steps, which go by closed days, only check $2
// so every statement takes the same three parameters). Each statement picks its rows with SKIP LOCKED so it
// never waits on the ingest, and each commits on its own.
type retentionStep struct {
	name string
	sql  string
	n    func(*cloud.AnonymiseResult) *int64
}

var retentionSteps = append([]retentionStep{
	// Consents first: the links deleted below are part of the evidence of use.
	{"consents", `UPDATE telegram_chats c SET rut_lookup = NULL
		FROM (SELECT c2.id FROM telegram_chats c2
			WHERE c2.rut_lookup IS NOT NULL
			AND c2.created_at < $1::timestamptz - make_interval(days => $2::int)
			AND NOT EXISTS (SELECT 1 FROM telegram_ticket_chats l WHERE l.chat_id = c2.id
				AND l.created_at >= $1::timestamptz - make_interval(days => $2::int))
			AND NOT EXISTS (SELECT 1 FROM telegram_jobs j WHERE j.chat_id = c2.id
				AND j.created_at >= $1::timestamptz - make_interval(days => $2::int))
			LIMIT $3 FOR UPDATE OF c2 SKIP LOCKED) x
		WHERE c.id = x.id`, func(r *cloud.AnonymiseResult) *int64 { return &r.Consents }},
	{"tickets", `UPDATE tickets t SET rut_hash = NULL
		FROM (SELECT t2.branch, t2.id FROM tickets t2 LEFT JOIN branches b ON b.id = t2.branch
			WHERE t2.rut_hash IS NOT NULL
			AND t2.day < (($1::timestamptz AT TIME ZONE COALESCE(b.time_zone, 'America/Santiago'))::date - $2::int)
			LIMIT $3 FOR UPDATE OF t2 SKIP LOCKED) x
		WHERE t.branch = x.branch AND t.id = x.id`, func(r *cloud.AnonymiseResult) *int64 { return &r.Tickets }},
	{"events", `UPDATE events e SET data = e.data - 'rut_hash'
		FROM (SELECT branch, seq FROM events
			WHERE data ? 'rut_hash' AND at < $1::timestamptz - make_interval(days => $2::int)
			LIMIT $3 FOR UPDATE SKIP LOCKED) x
		WHERE e.branch = x.branch AND e.seq = x.seq`, func(r *cloud.AnonymiseResult) *int64 { return &r.Events }},
	{"ticket_chats", `DELETE FROM telegram_ticket_chats l USING (
			SELECT l2.ctid AS c FROM telegram_ticket_chats l2
			JOIN tickets t ON t.branch = l2.branch AND t.id = l2.ticket
			LEFT JOIN branches b ON b.id = t.branch
			WHERE t.day < ($1::timestamptz AT TIME ZONE COALESCE(b.time_zone, 'America/Santiago'))::date
			AND $2::int > 0
			LIMIT $3 FOR UPDATE OF l2 SKIP LOCKED) x
		WHERE l.ctid = x.c`, func(r *cloud.AnonymiseResult) *int64 { return &r.TicketChats }},
	{"token_links", `DELETE FROM telegram_token_links l USING (
			SELECT l2.ctid AS c FROM telegram_token_links l2
			JOIN tickets t ON t.token = l2.token
			LEFT JOIN branches b ON b.id = t.branch
			WHERE t.day < ($1::timestamptz AT TIME ZONE COALESCE(b.time_zone, 'America/Santiago'))::date
			AND $2::int > 0
			LIMIT $3 FOR UPDATE OF l2 SKIP LOCKED) x
		WHERE l.ctid = x.c`, func(r *cloud.AnonymiseResult) *int64 { return &r.TokenLinks }},
	{"quarantine", `DELETE FROM ingest_quarantine q USING (
			SELECT id FROM ingest_quarantine
			WHERE received_at < $1::timestamptz - make_interval(days => $2::int)
			LIMIT $3 FOR UPDATE SKIP LOCKED) x
		WHERE q.id = x.id`, func(r *cloud.AnonymiseResult) *int64 { return &r.Quarantined }},
}, appointmentRetentionSteps()...)

// Anonymise runs every step, batch by batch, holding the advisory lock (the
// others return Skipped). A second run finds nothing.
func (a *Anonymiser) Anonymise(ctx context.Context, now time.Time, days, batch int) (cloud.AnonymiseResult, error) {
	var res cloud.AnonymiseResult
	conn, err := a.Pool.Acquire(ctx)
	if err != nil {
		return res, fmt.Errorf("retention: acquire: %w", err)
	}
	defer conn.Release()
	var locked bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", retentionLockKey).Scan(&locked); err != nil {
		return res, fmt.Errorf("retention: lock: %w", err)
	}
	if !locked {
		res.Skipped = true
		return res, nil
	}
	defer func() {
		// A fresh context: the lock must go back even when ctx is done.
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", retentionLockKey); err != nil {
			conn.Conn().Close(uctx) // a closed session drops its locks
		}
	}()
	for _, s := range retentionSteps {
		for {
			tag, err := conn.Exec(ctx, s.sql, now, days, batch)
			if err != nil {
				return res, fmt.Errorf("retention: %s: %w", s.name, err)
			}
			*s.n(&res) += tag.RowsAffected()
			if tag.RowsAffected() < int64(batch) {
				break
			}
		}
	}
	return res, nil
}
