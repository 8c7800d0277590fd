package hq

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/queue"
)

// EvaluateAlerts raises and clears the alerts of the given tiles' branches and
// reports whether any alert was raised or cleared. Replicas may run it
// concurrently: the partial unique index keeps one open alert per branch and kind.
func (s *Store) EvaluateAlerts(ctx context.Context, tiles []Tile, r AlertRules) (bool, error) {
	if len(tiles) == 0 {
		return false, nil
	}
	now := s.now()
	branches := make([]string, 0, len(tiles))
	backlogs := make([]int64, 0, len(tiles))
	for _, t := range tiles {
		branches = append(branches, t.Branch)
		backlogs = append(backlogs, t.Backlog)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, wrap("alerts", err)
	}
	defer tx.Rollback(ctx)
	// Backlog samples older than the window: compare, then roll forward
	// only those (and the branches without one). Each branch's sample moves
	// once a window, not every pass: an upsert locks every row it meets,
	// even one its WHERE then leaves alone.
	cutoff := now.Add(-r.BacklogWindow)
	prev := map[string]int64{}
	fresh := map[string]bool{}
	rows, err := tx.Query(ctx, `SELECT branch, backlog, at FROM hq_backlog_samples WHERE branch = ANY($1)`, branches)
	if err != nil {
		return false, wrap("backlog samples", err)
	}
	for rows.Next() {
		var b string
		var n int64
		var at time.Time
		if err := rows.Scan(&b, &n, &at); err != nil {
			rows.Close()
			return false, wrap("backlog samples", err)
		}
		if at.After(cutoff) {
			fresh[b] = true
		} else {
			prev[b] = n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, wrap("backlog samples", err)
	}
	var due []string
	var dueBacklogs []int64
	for i, b := range branches {
		if !fresh[b] {
			due, dueBacklogs = append(due, b), append(dueBacklogs, backlogs[i])
		}
	}
	if len(due) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO hq_backlog_samples (branch, backlog, at)
		SELECT b, n, $3 FROM unnest($1::text[], $2::bigint[]) AS u(b, n)
		ON CONFLICT (branch) DO UPDATE SET backlog = EXCLUDED.backlog, at = EXCLUDED.at
		WHERE hq_backlog_samples.at <= $4`, due, dueBacklogs, now, cutoff); err != nil {
			return false, wrap("backlog samples", err)
		}
	}
	conflicts := map[string]int64{}
	rows, err = tx.Query(ctx, `SELECT branch, count(*) FROM ingest_rejects
		WHERE branch = ANY($1) AND reason = 'seq_conflict' AND received_at > $2 GROUP BY branch`, branches, now.Add(-10*time.Minute))
	if err != nil {
		return false, wrap("seq conflicts", err)
	}
	for rows.Next() {
		var b string
		var n int64
		if err := rows.Scan(&b, &n); err != nil {
			rows.Close()
			return false, wrap("seq conflicts", err)
		}
		conflicts[b] = n
	}
	rows.Close()
	var kb, kk []string
	var kv []int64
	raise := func(b, k string, v int64) { kb, kk, kv = append(kb, b), append(kk, k), append(kv, v) }
	for b, n := range conflicts {
		raise(b, AlertSeqConflict, n)
	}
	quarantined, err := countByBranch(ctx, tx, `SELECT branch, count(*) FROM ingest_quarantine
		WHERE branch = ANY($1) AND received_at > $2 GROUP BY branch`, branches, now.Add(-QuarantineWindow))
	if err != nil {
		return false, wrap("quarantined events", err)
	}
	for b, n := range quarantined {
		raise(b, AlertQuarantine, n)
	}
	guessing, err := countByBranch(ctx, tx, `SELECT split_part(target, '/', 1), count(*) FROM hq_audit
		WHERE action = 'executive.locked' AND at > $2 AND split_part(target, '/', 1) = ANY($1) GROUP BY 1`,
		branches, now.Add(-PINGuessWindow))
	if err != nil {
		return false, wrap("sign-in waits", err)
	}
	for b, n := range guessing {
		raise(b, AlertPINGuessing, n)
	}
	low, err := lowScores(ctx, tx, branches, r.LowScore, now)
	if err != nil {
		return false, wrap("low scores", err)
	}
	for b, n := range low {
		raise(b, AlertLowScore, n)
	}
	for _, t := range tiles {
		if t.Waiting > r.QueueOver {
			raise(t.Branch, AlertQueueLong, int64(t.Waiting))
		}
		if t.Waiting > 0 && t.OverTargetS > 0 {
			raise(t.Branch, AlertWaitOver, int64(t.LongestWaitS))
		}
		off := t.OfflineFrom
		if off != nil && now.Sub(*off) >= r.OfflineAfter {
			raise(t.Branch, AlertOffline, int64(now.Sub(*off).Seconds()))
		}
		if d := t.StalledFor(now); off == nil && r.StalledAfter > 0 && d >= r.StalledAfter {
			raise(t.Branch, AlertStalled, int64(d.Seconds()))
		}
		// Growing: already pending a window ago and more now. A backlog
		// empty then is events in flight (a publication's reports, a burst
		// of tickets) drained within seconds: raised on it, the alert
		// cleared 5 s later, again and again on a quiet branch.
		if p, ok := prev[t.Branch]; ok && p > 0 && t.Backlog > p {
			raise(t.Branch, AlertBacklogUp, t.Backlog)
		}
	}
	changed, err := writeAlerts(ctx, tx, branches, kb, kk, kv, now)
	if err != nil {
		return false, err
	}
	if changed {
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, cloud.ChangesChannel, AlertsChanged); err != nil {
			return false, wrap("alerts notify", err)
		}
	}
	return changed, wrap("alerts commit", tx.Commit(ctx))
}

// writeAlerts makes the open alerts of branches exactly the raised ones
// (branch kb[i], kind kk[i], value kv[i]) and reports whether one was raised
// or cleared. The open alerts are read once and compared here: only new
// alerts are inserted, only values that moved are rewritten (by id), and only
// alerts no longer raised are cleared (by id). An upsert of every raised
// alert each pass rewrote thousands of rows through ON CONFLICT's
// speculative insertion; the clear compared every open alert's
// branch/kind against every raised one in SQL.
func writeAlerts(ctx context.Context, tx pgx.Tx, branches, kb, kk []string, kv []int64, now time.Time) (bool, error) {
	type open struct{ id, value int64 }
	rows, err := tx.Query(ctx, `SELECT id, branch, kind, value FROM hq_alerts WHERE cleared_at IS NULL AND branch = ANY($1)`, branches)
	if err != nil {
		return false, wrap("open alerts", err)
	}
	opened := map[[2]string]open{}
	for rows.Next() {
		var o open
		var b, k string
		if err := rows.Scan(&o.id, &b, &k, &o.value); err != nil {
			rows.Close()
			return false, wrap("open alerts", err)
		}
		opened[[2]string{b, k}] = o
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, wrap("open alerts", err)
	}
	var ids, vals []int64
	var nb, nk []string
	var nv []int64
	raised := map[[2]string]bool{}
	for i := range kb {
		key := [2]string{kb[i], kk[i]}
		raised[key] = true
		o, ok := opened[key]
		switch {
		case !ok:
			nb, nk, nv = append(nb, kb[i]), append(nk, kk[i]), append(nv, kv[i])
		case o.value != kv[i]:
			ids, vals = append(ids, o.id), append(vals, kv[i])
		}
	}
	if len(ids) > 0 {
		rows, err := tx.Query(ctx, `UPDATE hq_alerts a SET value = u.v, seen_at = $3
			FROM unnest($1::bigint[], $2::bigint[]) AS u(id, v)
			WHERE a.id = u.id AND a.cleared_at IS NULL RETURNING a.branch, a.kind`, ids, vals, now)
		if err != nil {
			return false, wrap("alert values", err)
		}
		updated := map[[2]string]bool{}
		for rows.Next() {
			var b, k string
			if err := rows.Scan(&b, &k); err != nil {
				rows.Close()
				return false, wrap("alert values", err)
			}
			updated[[2]string{b, k}] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return false, wrap("alert values", err)
		}
		// Cleared meanwhile by another replica: raised again below.
		for i := range kb {
			key := [2]string{kb[i], kk[i]}
			if o, ok := opened[key]; ok && o.value != kv[i] && !updated[key] {
				nb, nk, nv = append(nb, kb[i]), append(nk, kk[i]), append(nv, kv[i])
			}
		}
	}
	changed := false
	if len(nb) > 0 {
		rows, err := tx.Query(ctx, `INSERT INTO hq_alerts (branch, kind, value, raised_at, seen_at)
			SELECT b, k, v, $4, $4 FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(b, k, v)
			ON CONFLICT (branch, kind) WHERE cleared_at IS NULL DO UPDATE SET value = EXCLUDED.value, seen_at = EXCLUDED.seen_at
			RETURNING (xmax = 0)`, nb, nk, nv, now)
		if err != nil {
			return false, wrap("raise alerts", err)
		}
		inserted, err := pgx.CollectRows(rows, pgx.RowTo[bool])
		if err != nil {
			return false, wrap("raise alerts", err)
		}
		for _, ins := range inserted {
			changed = changed || ins
		}
	}
	var gone []int64
	for key, o := range opened {
		if !raised[key] {
			gone = append(gone, o.id)
		}
	}
	if len(gone) > 0 {
		tag, err := tx.Exec(ctx, `UPDATE hq_alerts SET cleared_at = $2 WHERE id = ANY($1) AND cleared_at IS NULL`, gone, now)
		if err != nil {
			return false, wrap("clear alerts", err)
		}
		changed = changed || tag.RowsAffected() > 0
	}
	return changed, nil
}

// OpenAlerts lists the open alerts of branches within scope, newest first.
func (s *Store) OpenAlerts(ctx context.Context, scope Scope) ([]Alert, error) {
	all, bs, rs := scopeArgs(scope)
	rows, err := s.pool.Query(ctx, `SELECT a.id, a.branch, a.kind, a.value, a.raised_at, a.acked_at, a.acked_by
		FROM hq_alerts a LEFT JOIN branches b ON b.id = a.branch
		WHERE a.cleared_at IS NULL AND ($1::bool OR a.branch = ANY($2::text[]) OR b.region = ANY($3::text[]))
		ORDER BY a.acked_at IS NOT NULL, a.raised_at DESC, a.id DESC LIMIT 500`, all, bs, rs)
	if err != nil {
		return nil, wrap("open alerts", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Alert, error) {
		var a Alert
		err := r.Scan(&a.ID, &a.Branch, &a.Kind, &a.Value, &a.RaisedAt, &a.AckedAt, &a.AckedBy)
		return a, err
	})
	return out, wrap("open alerts", err)
}

// AckAlert acknowledges an open alert of a branch within scope and returns its
// branch. Errors: not_found hq.alert.not_found (also outside scope).
func (s *Store) AckAlert(ctx context.Context, scope Scope, id int64, by string) (string, error) {
	all, bs, rs := scopeArgs(scope)
	var branch string
	err := s.pool.QueryRow(ctx, `UPDATE hq_alerts a SET acked_at = $5, acked_by = $6
		FROM (SELECT a2.id FROM hq_alerts a2 LEFT JOIN branches b ON b.id = a2.branch
		      WHERE a2.id = $4 AND a2.cleared_at IS NULL AND ($1::bool OR a2.branch = ANY($2::text[]) OR b.region = ANY($3::text[]))) x
		WHERE a.id = x.id RETURNING a.branch`, all, bs, rs, id, s.now(), by).Scan(&branch)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", queue.Errorf(queue.CodeNotFound, "hq.alert.not_found", fmt.Sprint(id))
	}
	return branch, wrap("ack alert", err)
}

// countByBranch reads (branch, count) rows.
func countByBranch(ctx context.Context, tx pgx.Tx, q string, args ...any) (map[string]int64, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for rows.Next() {
		var b string
		var n int64
		if err := rows.Scan(&b, &n); err != nil {
			rows.Close()
			return nil, err
		}
		out[b] = n
	}
	rows.Close()
	return out, rows.Err()
}
