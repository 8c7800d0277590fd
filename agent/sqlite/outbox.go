package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// Pending returns up to limit outbox events with seq > after, in seq order.
func (s *Store) Pending(ctx context.Context, after uint64, limit int) ([]event.Event, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, "SELECT seq, id, type, at, data FROM outbox WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
		int64(after), int64(s.committed.Load()), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: pending: %w", err)
	}
	defer rows.Close()
	var out []event.Event
	for rows.Next() {
		var e event.Event
		var seq int64
		var typ, at, data string
		if err := rows.Scan(&seq, &e.ID, &typ, &at, &data); err != nil {
			return nil, fmt.Errorf("sqlite: pending: %w", err)
		}
		e.Seq, e.Type, e.Data = uint64(seq), event.Type(typ), json.RawMessage(data)
		if e.At, err = time.Parse(timeLayout, at); err != nil {
			return nil, fmt.Errorf("sqlite: pending: event %d time: %w", seq, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Ack records the cloud's receipt of every event up to seq and deletes them.
//
// Errors: conflict outbox.ack_ahead when seq is beyond the last event written.
func (s *Store) Ack(ctx context.Context, seq uint64) error {
	err := s.do(ctx, func(tx *sql.Tx, now time.Time) (agent.Change, error) {
		if seq <= s.acked.Load() {
			return agent.Change{}, nil
		}
		if seq > s.lastSeq {
			return agent.Change{}, queue.Errorf(queue.CodeConflict, "outbox.ack_ahead", seq, s.lastSeq)
		}
		if _, err := tx.Exec("DELETE FROM outbox WHERE seq <= ?", int64(seq)); err != nil {
			return agent.Change{}, &writeError{fmt.Errorf("sqlite: ack: %w", err)}
		}
		if err := setMeta(context.Background(), tx, metaLastAck, strconv.FormatUint(seq, 10)); err != nil {
			return agent.Change{}, &writeError{err}
		}
		if err := setMeta(context.Background(), tx, "last_ack_at", ts(now)); err != nil {
			return agent.Change{}, &writeError{err}
		}
		s.acked.Store(seq)
		return agent.Change{}, nil
	})
	return err
}

// SyncState reports the last seq committed and the last acked.
func (s *Store) SyncState(ctx context.Context) (agent.SyncState, error) {
	return agent.SyncState{LastSeq: s.committed.Load(), LastAck: s.acked.Load()}, nil
}

// Written receives after each commit that wrote events.
func (s *Store) Written() <-chan struct{} { return s.written }
