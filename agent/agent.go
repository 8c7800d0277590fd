// Package agent is the branch side of Ticketero: the interfaces between the queue
// store (sqlite), the sync relay (mqtt) and the LAN API (http). Each subpackage
// adapts one dependency and talks to its siblings only through these types.
package agent

import (
	"context"

	"github.com/ticketero/ticketero/shared/event"
)

// Outbox is the transactional outbox the sync relay drains. Events are written
// by the store in the same transaction as the change that causes them, with a
// gap-free per-branch seq starting at 1.
type Outbox interface {
	// Pending returns up to limit events with seq > after, in seq order.
	Pending(ctx context.Context, after uint64, limit int) ([]event.Event, error)
	// Ack records that the cloud stored every event up to seq and releases them.
	// An ack at or below the last one is a no-op; an ack beyond the last seq
	// written is a conflict.
	Ack(ctx context.Context, seq uint64) error
	// SyncState reports the last seq written and the last seq acked.
	SyncState(ctx context.Context) (SyncState, error)
	// Written returns a channel that receives (without blocking the writer) after
	// each commit that wrote events, so the relay need not poll.
	Written() <-chan struct{}
}

// SyncState is the outbox's position: Backlog = LastSeq - LastAck.
type SyncState struct {
	LastSeq uint64
	LastAck uint64
}

// Backlog is the number of events not yet acknowledged by the cloud.
func (s SyncState) Backlog() uint64 { return s.LastSeq - s.LastAck }

// ConfigStore applies HQ configuration snapshots received from the cloud.
type ConfigStore interface {
	// ApplyConfig applies c between operations, in one transaction, when its
	// version is newer than the running one; an older or equal version is ignored
	// (returns nil). Invalid snapshots return an invalid error and change nothing.
	ApplyConfig(ctx context.Context, c event.Config) error
	// ConfigVersion is the version running now (0 before any).
	ConfigVersion(ctx context.Context) (int64, error)
}

// CommandStore applies commands the cloud sends (a customer's Telegram cancel).
type CommandStore interface {
	// ApplyCommand applies cmd exactly once by its ID: a repeated ID is a no-op.
	// A command that cannot apply (ticket already served) is recorded with its
	// result and returns nil, so it is never retried forever.
	ApplyCommand(ctx context.Context, cmd event.Command) error
}
