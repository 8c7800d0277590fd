package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ticketero/ticketero/cloud"
)

// Job is a claimed notification (cloud.NotificationJob).
type Job = cloud.NotificationJob

// Pacing is the minimum gap between two messages to one chat (cloud.Pacing).
type Pacing = cloud.Pacing

// Claim takes up to limit due jobs (none while the bot is paused by a 429), at most one per chat and only for chats
// whose pacing allows a message now, marks them sending (attempts + 1) and
// pushes each chat's next_send_at. Replicas claim concurrently: chat rows are
// locked with SKIP LOCKED, so no job is claimed twice.
func (s *Store) Claim(ctx context.Context, limit int, p Pacing) ([]Job, error) {
	return s.ClaimChannel(ctx, ChannelTelegram, limit, p)
}

// ClaimChannel is Claim for the jobs of one channel (telegram or sms): each
// channel's workers take only its jobs, under its own rate limit. The bot's
// 429 pause holds only Telegram. A recipient with a message still being sent
// (its lease alive) gets no other until that one ends: workers send in
// parallel, and a slow send (SNS's retries under throttling) would otherwise
// let "your turn" arrive before "a few ahead".
func (s *Store) ClaimChannel(ctx context.Context, channel string, limit int, p Pacing) ([]Job, error) {
	now := s.Now()
	rows, err := s.pool.Query(ctx, `WITH due AS (
			SELECT c.id FROM telegram_chats c
			WHERE c.id IN (SELECT chat_id FROM telegram_jobs WHERE status = 'pending' AND run_at <= $1 AND channel = $6)
				AND c.next_send_at <= $1
				AND ($6 <> 'telegram' OR (SELECT paused_until FROM telegram_bot_state WHERE id = 1) <= $1)
				AND NOT EXISTS (SELECT 1 FROM telegram_jobs s WHERE s.status = 'sending' AND s.chat_id = c.id AND s.lease_until > $1)
			ORDER BY c.next_send_at LIMIT $2
			FOR UPDATE SKIP LOCKED
		), pick AS (
			SELECT DISTINCT ON (j.chat_id) j.id FROM telegram_jobs j JOIN due ON due.id = j.chat_id
			WHERE j.status = 'pending' AND j.run_at <= $1 AND j.channel = $6 ORDER BY j.chat_id, j.id
		), chat AS (
			UPDATE telegram_chats c SET next_send_at = $1 + CASE WHEN c.kind = 'group' THEN $3::interval ELSE $4::interval END
			FROM due WHERE c.id = due.id RETURNING c.id, c.chat_enc, c.lang, c.kind
		)
		UPDATE telegram_jobs j SET status = 'sending', attempts = j.attempts + 1, lease_until = $1 + $5::interval
		FROM pick, chat WHERE j.id = pick.id AND chat.id = j.chat_id
		RETURNING j.id, j.branch, j.ticket, j.kind, j.params::text, j.attempts, chat.id, chat.chat_enc, chat.kind, chat.lang,
			j.created_at, j.channel`,
		now, limit, p.Group, p.Private, p.Lease, channel)
	if err != nil {
		return nil, fmt.Errorf("notify: claim: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		var j Job
		var params string
		if err := rows.Scan(&j.ID, &j.Branch, &j.Ticket, &j.Kind, &params, &j.Attempts, &j.ChatID, &j.ChatEnc,
			&j.ChatKind, &j.Lang, &j.CreatedAt, &j.Channel); err != nil {
			return nil, fmt.Errorf("notify: claim: %w", err)
		}
		if err := json.Unmarshal([]byte(params), &j.Msg); err != nil {
			j.Msg = Msg{Key: "telegram.unknown_command"}
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notify: claim: %w", err)
	}
	return out, nil
}

// MarkSent records a delivered job. Idempotent: only a sending job changes.
func (s *Store) MarkSent(ctx context.Context, id, messageID int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE telegram_jobs SET status = 'sent', sent_at = $2, message_id = $3, lease_until = NULL
		WHERE id = $1 AND status = 'sending'`, id, s.Now(), messageID)
	if err != nil {
		return fmt.Errorf("notify: mark sent %d: %w", id, err)
	}
	return nil
}

// Retry puts a sending job back to pending until at. A rate-limited attempt
// (HTTP 429) does not count against the job's retries (counted false).
func (s *Store) Retry(ctx context.Context, id int64, at time.Time, counted bool, reason string) error {
	_, err := s.pool.Exec(ctx, `UPDATE telegram_jobs SET status = 'pending', run_at = $2, lease_until = NULL,
			attempts = attempts - CASE WHEN $3 THEN 0 ELSE 1 END, last_error = $4
		WHERE id = $1 AND status = 'sending'`, id, at, counted, truncate(reason))
	if err != nil {
		return fmt.Errorf("notify: retry %d: %w", id, err)
	}
	return nil
}

// Bury dead-letters a job: retries exhausted or a permanent refusal. A
// Telegram job of a kind that goes by SMS falls back, in the same statement,
// to an SMS job to the ticket's number when one is known (and not opted
// out): the same (branch, ticket, kind, call_no), so it is written once.
func (s *Store) Bury(ctx context.Context, id int64, reason string) error {
	_, err := s.pool.Exec(ctx, `WITH dead AS (
			UPDATE telegram_jobs SET status = 'dead', lease_until = NULL, last_error = $2
			WHERE id = $1 AND status = 'sending'
			RETURNING branch, ticket, kind, call_no, params, channel
		), ins AS (
			INSERT INTO telegram_jobs (branch, ticket, kind, call_no, chat_id, params, channel)
			SELECT d.branch, d.ticket, d.kind, d.call_no, p.chat_id, d.params, 'sms'
			FROM dead d JOIN sms_ticket_phones p ON p.branch = d.branch AND p.ticket = d.ticket
			JOIN telegram_chats c ON c.id = p.chat_id AND c.opted_out_at IS NULL
			WHERE d.channel = 'telegram' AND d.kind = ANY($3)
			ON CONFLICT DO NOTHING RETURNING 1
		) `+wakeWorkers, id, truncate(reason), smsKindList)
	if err != nil {
		return fmt.Errorf("notify: bury %d: %w", id, err)
	}
	return nil
}

// PauseChat keeps every job of a chat waiting until at least until (after a
// 429's retry_after).
func (s *Store) PauseChat(ctx context.Context, chatID int64, until time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE telegram_chats SET next_send_at = GREATEST(next_send_at, $2) WHERE id = $1`,
		chatID, until)
	if err != nil {
		return fmt.Errorf("notify: pause chat: %w", err)
	}
	return nil
}

// PauseBot stops every replica's claims until until (a 429's retry_after
// applies to the bot, whichever replica was told).
func (s *Store) PauseBot(ctx context.Context, until time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE telegram_bot_state SET paused_until = GREATEST(paused_until, $1) WHERE id = 1`, until)
	if err != nil {
		return fmt.Errorf("notify: pause bot: %w", err)
	}
	return nil
}

// ReleaseExpired returns to pending the jobs whose sending lease ran out (a
// worker died mid-send). This is the at-least-once window: a worker that died
// after Telegram's 200 but before MarkSent has its message sent again.
func (s *Store) ReleaseExpired(ctx context.Context) (int, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE telegram_jobs SET status = 'pending', lease_until = NULL, run_at = $1
		WHERE status = 'sending' AND lease_until < $1`, s.Now())
	if err != nil {
		return 0, fmt.Errorf("notify: release expired: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// ChannelCounts counts jobs by channel and status ("sms/sent").
func (s *Store) ChannelCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT channel || '/' || status, count(*) FROM telegram_jobs GROUP BY 1`)
	if err != nil {
		return nil, fmt.Errorf("notify: channel counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("notify: channel counts: %w", err)
		}
		out[k] = n
	}
	return out, rows.Err()
}

// JobCounts counts jobs by status (the dashboard shows "dead").
func (s *Store) JobCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM telegram_jobs GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("notify: job counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("notify: job counts: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
}

// DeadJobs lists the newest dead-lettered jobs of the given branches (all when
// branches is nil), without any personal data.
func (s *Store) DeadJobs(ctx context.Context, branches []string, limit int) ([]cloud.DeadJob, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, branch, ticket, kind, attempts, last_error, created_at FROM telegram_jobs
		WHERE status = 'dead' AND ($1::text[] IS NULL OR branch = ANY($1)) ORDER BY created_at DESC LIMIT $2`, branches, limit)
	if err != nil {
		return nil, fmt.Errorf("notify: dead jobs: %w", err)
	}
	defer rows.Close()
	var out []cloud.DeadJob
	for rows.Next() {
		var d cloud.DeadJob
		if err := rows.Scan(&d.ID, &d.Branch, &d.Ticket, &d.Kind, &d.Attempts, &d.LastError, &d.CreatedAt); err != nil {
			return nil, fmt.Errorf("notify: dead jobs: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func truncate(s string) string {
	if len(s) > 300 {
		return s[:300]
	}
	return s
}

// SendError classifies a failed send for the worker (cloud.SendError).
type SendError = cloud.SendError
