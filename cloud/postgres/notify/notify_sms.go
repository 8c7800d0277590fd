package notify

// The SMS channel shares the notification pipeline: an SMS job is a row of
// telegram_jobs with channel 'sms' whose recipient (chat_id) is a
// telegram_chats row of kind 'sms' holding the customer's mobile number
// sealed under the data key (found by its keyed hash). Claims, pacing,
// retries, leases and dead letters are the same code for both channels.

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/shared/queue"

	"github.com/ticketero/ticketero/cloud"
)

// Channels of a job. They are stored: never rename one.
const (
	ChannelTelegram = cloud.ChannelTelegram
	ChannelSMS      = cloud.ChannelSMS
)

// smsKinds are the messages that go by SMS (the bank's three: issued, near,
// your turn): a customer without Telegram gets these, and a Telegram job of
// these kinds that dead-letters falls back to SMS when a number is known.
var smsKinds = map[string]bool{KindConfirm: true, KindPreNotice: true, KindCalled: true}

// SMSKind reports whether jobs of kind go by SMS.
func SMSKind(kind string) bool { return smsKinds[kind] }

// smsKindList is smsKinds for SQL.
var smsKindList = []string{KindConfirm, KindPreNotice, KindCalled}

// PhoneKeys open and seal the numbers of SMS recipients (cloud.PhoneKeys).
type PhoneKeys = cloud.PhoneKeys

// SMSMsg is m as an SMS says it (cloud.SMSText).
func SMSMsg(m Msg) Msg { return cloud.SMSText(m) }

type phoneIn struct {
	ticket string
	sealed string
}

// queuePhones queues, in the ingest's pipeline, the numbers of newly issued
// tickets as SMS recipients (when the store has PhoneKeys) and the removal of
// phone_sealed from the stored events in any case: the events table never
// keeps a number. Every key Go decoded as phone_sealed goes, whatever its
// spelling (any ASCII case, or the long s, U+017F, which Go folds to s):
// seqs are the events it was decoded from. A number that does not open or is
// not a Chilean mobile is dropped. It returns how many statements it queued.
func (s *Store) queuePhones(pb *pgx.Batch, branch string, seqs []int64, phones []phoneIn) int {
	pb.Queue(`UPDATE events SET data = data - ARRAY(SELECT k FROM jsonb_object_keys(data) AS k
			WHERE replace(lower(k), 'ſ', 's') = 'phone_sealed')
		WHERE branch = $1 AND seq = ANY($2)`, branch, seqs)
	if s.Phones == nil {
		return 1
	}
	var tickets, hashes []string
	var encs [][]byte
	for _, p := range phones {
		plain, err := s.Phones.OpenBranchSealed(p.sealed)
		if err != nil {
			continue
		}
		ph, err := queue.ParsePhone(plain)
		if err != nil || ph.String() != plain {
			continue
		}
		enc, err := s.Phones.SealPhone(ph.String())
		if err != nil {
			continue
		}
		tickets, hashes, encs = append(tickets, p.ticket), append(hashes, s.hash.Lookup("phone", ph.String())), append(encs, enc)
	}
	if len(tickets) == 0 {
		return 1
	}
	pb.Queue(`WITH u AS (
			SELECT * FROM unnest($2::text[], $3::text[], $4::bytea[]) AS u(ticket, hash, enc)
		), chats AS (
			INSERT INTO telegram_chats (chat_hash, chat_enc, kind, lang)
			SELECT DISTINCT ON (hash) hash, enc, 'sms', 'es' FROM u
			ON CONFLICT (chat_hash) DO UPDATE SET chat_enc = telegram_chats.chat_enc
			RETURNING id, chat_hash
		)
		INSERT INTO sms_ticket_phones (branch, ticket, chat_id)
		SELECT $1, u.ticket, chats.id FROM u JOIN chats ON chats.chat_hash = u.hash
		ON CONFLICT DO NOTHING`, branch, tickets, hashes, encs)
	return 2
}

// MarkOptedOut stops SMS to a recipient: the operator says the number opted
// out (replied STOP). Its pending jobs are dropped.
func (s *Store) MarkOptedOut(ctx context.Context, chatID int64) error {
	return s.inTx(ctx, "opt out", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE telegram_chats SET opted_out_at = $2 WHERE id = $1 AND kind = 'sms' AND opted_out_at IS NULL`,
			chatID, s.Now()); err != nil {
			return fmt.Errorf("notify: opt out: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE telegram_jobs SET status = 'dropped', last_error = 'opted out'
			WHERE chat_id = $1 AND status = 'pending'`, chatID); err != nil {
			return fmt.Errorf("notify: opt out: %w", err)
		}
		return nil
	})
}
