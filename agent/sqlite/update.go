package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/release"
)

// RecordUpdate writes an agent.update event (a step of a remote agent update)
// to the outbox and returns its seq once committed: HQ learns each box's
// update state through the same exactly-once sync as every other event.
func (s *Store) RecordUpdate(ctx context.Context, r release.Report) (uint64, error) {
	err := s.do(ctx, func(_ *sql.Tx, now time.Time) (agent.Change, error) {
		var ch agent.Change
		ch.Events = append(ch.Events, agent.Emitted{Type: event.AgentUpdate, At: now.UTC(), Data: r})
		return ch, nil
	})
	if err != nil {
		return 0, err
	}
	st, err := s.SyncState(ctx)
	if err != nil {
		return 0, err
	}
	return st.LastSeq, nil
}
