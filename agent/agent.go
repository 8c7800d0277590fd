// Package agent is the branch side of Ticketero: the interfaces between the queue
// store (sqlite), the sync relay (mqtt) and the LAN API (http). Each subpackage
// adapts one dependency and talks to its siblings only through these types.
//
// # The calling rule
//
// The agent is the only place that orders a queue: positions, estimates and the
// pre-notice come from the same code that calls (Engine.CallNext uses pick;
// Engine.Position and the figures on the wire simulate pick). Within a service
// the waiting tickets go in this order:
//
//  1. Ratio: after PreferentialRatio priority-class calls (preferential or
//     premium) made while a normal ticket waited, the oldest normal ticket goes
//     (first-in-line, then overdue, then by arrival). This is the only way a
//     normal ticket goes before a waiting preferential one. Ratio 0 is strict
//     priority (normal tickets may then wait indefinitely).
//  2. Preferential (elderly, disabled, pregnant: a legal duty in Chile), first
//     the ones transferred "first in line", then by arrival. A normal or premium
//     ticket never overtakes them for being overdue.
//  3. The others transferred "first in line" (premium and normal, by arrival).
//  4. Overdue (waited past the service's target): premium and normal, by arrival.
//  5. Premium (a commercial segment, below the legal duty), by arrival.
//  6. Normal, by arrival.
//
// Arrival is queued_at (kept on a transfer unless it resets it). Across the
// services of an executive, each service offers its next ticket: a ratio-due
// normal ticket first (longest waiting), then preferential, then the rest; in a
// group first-in-line, then overdue (longest waiting), then service priority and
// the executive's order of services. A priority-class call counts toward the
// ratio of every service of the caller where a normal ticket waits, so no normal
// ticket starves behind another service's priority tickets either.
//
// # Targeted tickets
//
// A ticket transferred to a counter or to a named executive (Act.ToCounter,
// Act.ToExecutive) waits in its service but only that counter or executive
// calls it: it is out of the service's order above for everyone else (their
// positions and the ratio ignore it). For its target, call-next takes it
// first when it was sent "first in line"; otherwise a ratio-due normal ticket
// of his services goes first, then a preferential ticket before a
// non-preferential one, and between equals a "first in line" service ticket,
// else the earlier arrival ("keeping arrival" keeps the original queued_at).
// Its position is its place among the tickets for the same target
// ("first in line", preferential, then arrival). When the executive (or the
// counter's executive) signs out, the ticket returns to its service's queue
// (ticket.requeued), keeping its arrival and "first in line". Queue listings
// show it after its service's order, marked with its target, and count it;
// it gets no pre-notice (its transfer's place says where it stands), and a
// new ticket's estimate does not count it.
//
// # Parked visits and calls out of order
//
// A parked visit (the customer stepped away for a document) is in no queue:
// it stays with its executive, who calls it back (unpark: called again to
// his counter) or cancels it; he may serve others meanwhile but not sign
// out. Calling a specific waiting ticket (CallTicket, with a reason) and a
// walk-in served at once (WalkIn) bypass the rule and leave the ratio's
// streaks as they were: the ratio counts the rule's own calls.
//
// A ticket's position is its place in its service's order now (1 = next); it
// changes as others arrive, are transferred, are called or become overdue.
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
