package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/cloud"
)

// Retention bounds how long personal data and its traces are kept
// (cloud.NotificationRetention).
type Retention = cloud.NotificationRetention

// DefaultRetention is 2 days of links, 30 days of history, 7 days of update IDs.
var DefaultRetention = cloud.DefaultNotificationRetention

// Purge deletes what the retention no longer allows and returns how many rows
// went. A chat that consented to RUT linking (/recordar) is kept until /stop.
func (s *Store) Purge(ctx context.Context, r Retention) (int64, error) {
	now := s.Now()
	var n int64
	err := s.inTx(ctx, "purge", func(tx pgx.Tx) error {
		for _, q := range []struct {
			sql string
			arg time.Time
		}{
			{`DELETE FROM telegram_token_links WHERE created_at < $1`, now.Add(-r.Links)},
			{`DELETE FROM telegram_ticket_chats WHERE created_at < $1`, now.Add(-r.Links)},
			// Mobile numbers live as long as the links: the ticket's day.
			{`DELETE FROM sms_ticket_phones WHERE created_at < $1`, now.Add(-r.Links)},
			// A survey keeps its scores for the reports; its link to the chat
			// goes with the other links, its comment (masked, free text) with
			// the history.
			{`UPDATE feedback SET chat_id = NULL WHERE chat_id IS NOT NULL AND expires_at < $1`, now.Add(-r.Links)},
			{`UPDATE feedback SET comment = '' WHERE comment <> '' AND created_at < $1`, now.Add(-r.Data)},
			{`DELETE FROM telegram_chats c WHERE c.kind = 'sms' AND c.created_at < $1
				AND NOT EXISTS (SELECT 1 FROM sms_ticket_phones l WHERE l.chat_id = c.id)`, now.Add(-r.Links)},
			{`DELETE FROM telegram_jobs WHERE status IN ('sent', 'dropped', 'dead') AND created_at < $1`, now.Add(-r.Data)},
			{`DELETE FROM branch_commands WHERE status <> 'pending' AND created_at < $1`, now.Add(-r.Data)},
			{`DELETE FROM telegram_updates WHERE received_at < $1
				AND update_id < (SELECT max(update_id) FROM telegram_updates)`, now.Add(-r.Updates)},
			{`DELETE FROM telegram_chats c WHERE c.kind = 'private' AND c.rut_lookup IS NULL AND c.created_at < $1
				AND NOT EXISTS (SELECT 1 FROM telegram_ticket_chats l WHERE l.chat_id = c.id)
				AND NOT EXISTS (SELECT 1 FROM telegram_token_links l WHERE l.chat_id = c.id)
				AND NOT EXISTS (SELECT 1 FROM telegram_jobs j WHERE j.chat_id = c.id AND j.status IN ('pending', 'sending'))`,
				now.Add(-r.Data)},
		} {
			tag, err := tx.Exec(ctx, q.sql, q.arg)
			if err != nil {
				return fmt.Errorf("notify: purge: %w", err)
			}
			n += tag.RowsAffected()
		}
		return nil
	})
	return n, err
}
