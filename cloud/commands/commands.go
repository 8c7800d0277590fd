// Package commands publishes the commands the cloud sends to branches
// (branch_commands: ticket.cancel and ticket.locate from Telegram,
// appointment.book/cancel and ticket.join/check_in from the book) and
// publishes them again until the branch's answer event marks them applied or
// they expire. It runs whether Telegram is on or not; the branch applies
// each command ID once, so a publish too many is harmless. The queue hands
// out complete orders only: with the cloud's RUT keys, the check-in hash
// (argon2id) of an appointment.book or ticket.join is computed by the queue
// when the command is listed for its first publish, not when the customer
// books (postgres/appt commands.go).
package commands

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
)

// Queue is the stored command queue (postgres/appt implements it).
type Queue interface {
	// ExpireCommands gives up pending commands past their expiry (age for
	// those without one).
	ExpireCommands(ctx context.Context, age time.Duration) error
	// PendingCommands lists up to limit commands not published within every,
	// with their payload.
	PendingCommands(ctx context.Context, every time.Duration, limit int) ([]event.Command, error)
	// MarkPublished records that a command went out to its branch.
	MarkPublished(ctx context.Context, id string) error
}

// DefaultResend is how often a pending command is published again.
const DefaultResend = 10 * time.Second

// MaxAge is how long a command without its own expiry is sent again.
const MaxAge = 24 * time.Hour

// batch is how many commands one pass lists.
const batch = 200

// Republish publishes every pending command not published within resend
// (after expiring the stale ones), up to one batch.
func Republish(ctx context.Context, q Queue, pub cloud.CommandPublisher, resend time.Duration) error {
	_, err := republish(ctx, q, pub, resend)
	return err
}

// republish is Republish reporting how many commands it published.
func republish(ctx context.Context, q Queue, pub cloud.CommandPublisher, resend time.Duration) (int, error) {
	if err := q.ExpireCommands(ctx, MaxAge); err != nil {
		return 0, err
	}
	cmds, err := q.PendingCommands(ctx, resend, batch)
	if err != nil {
		return 0, err
	}
	for i, c := range cmds {
		if err := pub.PublishCommand(ctx, c); err != nil {
			return i, fmt.Errorf("commands: publish %s: %w", c.ID, err)
		}
		if err := q.MarkPublished(ctx, c.ID); err != nil {
			return i, err
		}
	}
	return len(cmds), nil
}

// Run republishes every resend (DefaultResend when 0) until ctx ends; a
// pass that filled its batch (a burst of bookings) is followed by the next
// at once; a failure is logged and retried at the next tick.
func Run(ctx context.Context, q Queue, pub cloud.CommandPublisher, resend time.Duration, log *slog.Logger) {
	if resend <= 0 {
		resend = DefaultResend
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(resend)
	defer t.Stop()
	for {
		n, err := republish(ctx, q, pub, resend)
		if err != nil && ctx.Err() == nil {
			log.Warn("branch commands not published; retrying", "component", "commands", "err", err)
		}
		if err == nil && n == batch && ctx.Err() == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
