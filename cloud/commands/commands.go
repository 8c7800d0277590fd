// Package commands publishes the commands the cloud sends to branches
// (branch_commands: ticket.cancel and ticket.locate from Telegram,
// appointment.book/cancel and ticket.join/check_in from the book) and
// publishes them again until the branch's answer event marks them applied or
// they expire. It runs whether Telegram is on or not, on every replica: a
// pass claims the commands it lists (ClaimCommands), so the replicas share
// the work and two never hash or publish one command in the same period.
// The branch applies each command ID once, so a publish too many (a claim
// that outlived its period) is harmless. The queue hands out complete orders
// only: with the cloud's RUT keys, the check-in hash (argon2id) of an
// appointment.book or ticket.join is computed by the queue before the
// command's first publish, not when the customer books (postgres/appt
// commands.go). A pass publishes the commands that need no hash first and
// then each order as soon as its hash is done (Workers at a time), so a
// Telegram cancel is never held behind a burst of bookings.
package commands

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
)

// Queue is the stored command queue (postgres/appt implements it).
type Queue interface {
	// ExpireCommands gives up pending commands past their expiry (age for
	// those without one).
	ExpireCommands(ctx context.Context, age time.Duration) error
	// ClaimCommands lists up to limit pending commands not published nor
	// claimed within every, oldest first, with their payload, without
	// computing any check-in hash, and claims them for every: another
	// replica's pass skips them until then (rows another pass is claiming
	// at the same moment are skipped, not waited for), and a replica that
	// stops before publishing them holds them no longer.
	ClaimCommands(ctx context.Context, every time.Duration, limit int) ([]Pending, error)
	// CompleteCommand computes the RUTCheck of a listed order whose CheckDay
	// is set, stores the completed order and returns it.
	CompleteCommand(ctx context.Context, p Pending) (event.Command, error)
	// MarkPublished records that a command went out to its branch.
	MarkPublished(ctx context.Context, id string) error
}

// Pending is a listed command. CheckDay, when set, is the business day its
// order's RUTCheck is still to be computed for (CompleteCommand); such a
// command is never published before.
type Pending struct {
	Command  event.Command
	CheckDay string
}

// Workers is how many orders' check-in hashes a pass computes at once.
var Workers = runtime.GOMAXPROCS(0)

// DefaultResend is how often a pending command is published again.
const DefaultResend = 10 * time.Second

// MaxAge is how long a command without its own expiry is sent again.
const MaxAge = 24 * time.Hour

// batch is how many commands one pass claims.
const batch = 200

// Republish claims and publishes the pending commands not published (nor
// claimed by another replica) within resend, after expiring the stale ones,
// up to one batch.
func Republish(ctx context.Context, q Queue, pub cloud.CommandPublisher, resend time.Duration) error {
	_, err := republish(ctx, q, pub, resend)
	return err
}

// republish is Republish reporting how many commands it published. The
// commands that need no hash go out first, in order; then each order is
// published as soon as its hash is done, Workers hashing at a time. The
// first failure stops the pass (the orders being hashed finish,
// unpublished; their claims lapse after resend) and is returned.
func republish(ctx context.Context, q Queue, pub cloud.CommandPublisher, resend time.Duration) (int, error) {
	if err := q.ExpireCommands(ctx, MaxAge); err != nil {
		return 0, err
	}
	list, err := q.ClaimCommands(ctx, resend, batch)
	if err != nil {
		return 0, err
	}
	var n atomic.Int64
	var orders []Pending
	for _, p := range list {
		if p.CheckDay != "" {
			orders = append(orders, p)
			continue
		}
		if err := publish(ctx, q, pub, p.Command); err != nil {
			return int(n.Load()), err
		}
		n.Add(1)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(Workers, 1))
	for _, p := range orders {
		if gctx.Err() != nil {
			break // a failure stopped the pass
		}
		g.Go(func() error {
			c, err := q.CompleteCommand(gctx, p)
			if err != nil {
				return err
			}
			if err := gctx.Err(); err != nil {
				return err // another order failed: this one stays unpublished
			}
			if err := publish(gctx, q, pub, c); err != nil {
				return err
			}
			n.Add(1)
			return nil
		})
	}
	err = g.Wait()
	return int(n.Load()), err
}

// publish sends one command and records it.
func publish(ctx context.Context, q Queue, pub cloud.CommandPublisher, c event.Command) error {
	if err := pub.PublishCommand(ctx, c); err != nil {
		return fmt.Errorf("commands: publish %s: %w", c.ID, err)
	}
	return q.MarkPublished(ctx, c.ID)
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
