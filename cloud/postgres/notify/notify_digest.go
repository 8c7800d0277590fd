package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ticketero/ticketero/shared/backoff"
)

// Digest runs fn for a supervisors' group under a transaction-scoped lock, so
// one replica at a time digests it: fn gets the last alert ID digested and
// returns the digest message and the new cursor (nil message: nothing new).
// The digest becomes a job (kind digest, call_no = digest number) in the same
// transaction that moves the cursor: no alert is digested twice or lost.
func (s *Store) Digest(ctx context.Context, chatID int64, fn func(afterID int64) (*Msg, int64, error)) error {
	return s.inTx(ctx, "digest", func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtext('telegram_digest'), $1::int)`,
			int32(chatID)).Scan(&ok); err != nil {
			return fmt.Errorf("notify: digest lock: %w", err)
		}
		if !ok {
			return nil
		}
		var after, n int64
		if err := tx.QueryRow(ctx, `INSERT INTO telegram_alert_cursor (chat_id) VALUES ($1)
			ON CONFLICT (chat_id) DO UPDATE SET chat_id = EXCLUDED.chat_id RETURNING alert_id, digests`, chatID).
			Scan(&after, &n); err != nil {
			return fmt.Errorf("notify: digest cursor: %w", err)
		}
		m, next, err := fn(after)
		if err != nil || m == nil {
			return err
		}
		raw, _ := json.Marshal(m)
		if _, err := tx.Exec(ctx, `WITH ins AS (INSERT INTO telegram_jobs (branch, ticket, kind, call_no, chat_id, params)
			VALUES ('', '', 'digest', $1, $2, $3::jsonb) ON CONFLICT DO NOTHING RETURNING 1)
			`+wakeWorkers, n+1, chatID, string(raw)); err != nil {
			return fmt.Errorf("notify: digest job: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE telegram_alert_cursor SET alert_id = $2, digests = digests + 1 WHERE chat_id = $1`,
			chatID, next); err != nil {
			return fmt.Errorf("notify: digest cursor: %w", err)
		}
		return nil
	})
}

// Listen calls wake each time jobs are committed (NOTIFY on JobsChannel), on
// one dedicated connection, until ctx ends; it reconnects after a failure
// (notifications lost meanwhile only delay jobs until the workers' poll).
func (s *Store) Listen(ctx context.Context, wake func()) error {
	bo := backoff.New(time.Second, 30*time.Second)
	for ctx.Err() == nil {
		began := time.Now()
		_ = s.listenOnce(ctx, wake) // lost notifications only delay jobs until the workers' poll
		if ctx.Err() != nil {
			return nil
		}
		wake() // jobs may have been written while disconnected
		if time.Since(began) > time.Minute {
			bo.Reset() // the connection held: this is a new failure, not the same one
		}
		_ = bo.Wait(ctx) // a cancelled ctx ends the loop
	}
	return nil
}

func (s *Store) listenOnce(ctx context.Context, wake func()) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+JobsChannel); err != nil {
		return err
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), "UNLISTEN "+JobsChannel) }()
	for {
		if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
			return err
		}
		wake()
	}
}

// EnsureChat stores a chat outside an update (the supervisors' group from
// config) and returns its row ID.
func (s *Store) EnsureChat(ctx context.Context, hash string, sealed []byte, kind, lang string) (int64, error) {
	var id int64
	err := s.inTx(ctx, "ensure chat", func(tx pgx.Tx) error {
		var err error
		id, err = s.UpsertChat(ctx, tx, hash, sealed, kind, lang)
		return err
	})
	return id, err
}
