// Package notify is the PostgreSQL storage of Telegram notifications: chats
// (chat IDs sealed, found by keyed hash), their links to tickets, notification
// jobs written in the ingest's own transaction, the updates already handled,
// alert digest cursors and the commands sent to branches (/cancelar).
//
// It lives apart from package postgres (the ingest) so the two never collide;
// the ingest is given the Store as its postgres.JobWriter and writes jobs
// inside its transaction.
package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ticketero/ticketero/shared/event"

	"github.com/ticketero/ticketero/cloud"
)

// Job kinds. They are stored: never rename one. The kinds of the notices
// events cause are the event package's Notice* (one table per event fact).
const (
	KindConfirm     = string(event.NoticeConfirm)
	KindPlaced      = string(event.NoticePlaced)
	KindPreNotice   = string(event.NoticePreNotice)
	KindCalled      = string(event.NoticeCalled)
	KindRecalled    = string(event.NoticeRecalled)
	KindTransferred = string(event.NoticeTransferred)
	KindNoShow      = string(event.NoticeNoShow)
	KindCancelled   = string(event.NoticeCancelled)
	KindDayClosed   = string(event.NoticeDayClosed)
	KindReply       = "reply"
	KindDigest      = "digest"
	KindSurvey      = "survey"
)

// Job statuses.
const (
	StatusPending = "pending"
	StatusSending = "sending"
	StatusSent    = "sent"
	StatusDead    = "dead"
	StatusDropped = "dropped"
)

// Hasher computes keyed hashes for lookups of personal data (the chat ID, the
// customer's rut_hash), so the database never holds them in the clear.
type Hasher interface {
	Lookup(kind, value string) string
}

// Msg and Arg are the cloud's notification Text (aliases kept for the
// package's callers).
type (
	Msg = cloud.Text
	Arg = cloud.TextArg
)

// S is a literal argument.
func S(s string) Arg { return cloud.Lit(s) }

// Store is the notification storage over a pool.
type Store struct {
	pool *pgxpool.Pool
	hash Hasher
	// Phones, when set, turns the numbers branches send into SMS recipients;
	// without it the SMS channel is off (numbers are dropped).
	Phones cloud.PhoneKeys
	// SurveyTTL is how long a survey may be answered (a day).
	SurveyTTL time.Duration
	// Now is the clock (injected in tests).
	Now func() time.Time
}

// New wraps pool; hash keys the lookups of personal data.
func New(pool *pgxpool.Pool, hash Hasher) *Store {
	return &Store{pool: pool, hash: hash, Now: time.Now}
}

// Pool returns the store's pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

func (s *Store) inTx(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("notify: %s: begin: %w", op, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("notify: %s: commit: %w", op, err)
	}
	return nil
}
