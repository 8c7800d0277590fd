// Package commands publishes the commands the cloud sends to branches
// (branch_commands: ticket.cancel and ticket.locate from Telegram,
// appointment.book/cancel and ticket.join/check_in from the book) and
// publishes them again until the branch's answer event marks them applied or
// they expire. It runs whether Telegram is on or not; the branch applies
// each command ID once, so a publish too many is harmless. The queue hands
// out complete orders only: with the cloud's RUT keys, the check-in hash
// (argon2id) of an appointment.book or ticket.join is computed by the queue
// before the command's first publish, not when the customer books
// (postgres/appt commands.go). A pass publishes the commands that need no
// hash first and then each order as soon as its hash is done (Workers at a
// time), so a Telegram cancel is never held behind a burst of bookings.
package commands

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
)

// Queue is the stored command queue (postgres/appt implements it).
type Queue interface {
	// ExpireCommands gives up pending commands past their expiry (age for
	// those without one).
	ExpireCommands(ctx context.Context, age time.Duration) error
	// ListCommands lists up to limit commands not published within every,
	// oldest first, with their payload, without computing any check-in hash.
	ListCommands(ctx context.Context, every time.Duration, limit int) ([]Pending, error)
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

// batch is how many commands one pass lists.
const batch = 200

// Republish publishes every pending command not published within resend
// (after expiring the stale ones), up to one batch.
func Republish(ctx context.Context, q Queue, pub cloud.CommandPublisher, resend time.Duration) error {
	_, err := republish(ctx, q, pub, resend)
	return err
}

// republish is Republish reporting how many commands it published. The
// commands that need no hash go out first, in order; then each order is
// published as soon as its hash is done. The first failure stops the pass
// (the orders being hashed finish, unpublished) and is returned.
func republish(ctx context.Context, q Queue, pub cloud.CommandPublisher, resend time.Duration) (int, error) {
	if err := q.ExpireCommands(ctx, MaxAge); err != nil {
		return 0, err
	}
	list, err := q.ListCommands(ctx, resend, batch)
	if err != nil {
		return 0, err
	}
	n := 0
	var orders []Pending
	for _, p := range list {
		if p.CheckDay != "" {
			orders = append(orders, p)
			continue
		}
		if err := publish(ctx, q, pub, p.Command); err != nil {
			return n, err
		}
		n++
	}
	if len(orders) == 0 {
		return n, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan Pending)
	type hashed struct {
		c   event.Command
		err error
	}
	done := make(chan hashed)
	var wg sync.WaitGroup
	for range min(max(Workers, 1), len(orders)) {
		wg.Go(func() {
			for p := range jobs {
				c, err := q.CompleteCommand(ctx, p)
				done <- hashed{c, err}
			}
		})
	}
	go func() {
		defer close(jobs)
		for _, p := range orders {
			select {
			case jobs <- p:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(done) }()
	var first error
	for h := range done {
		if first != nil {
			continue // draining after a failure
		}
		if h.err == nil {
			h.err = publish(ctx, q, pub, h.c)
		}
		if h.err != nil {
			first = h.err
			cancel()
			continue
		}
		n++
	}
	return n, first
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
