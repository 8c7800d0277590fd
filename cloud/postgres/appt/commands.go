package appt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/commands"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/seal"
)

// The branch command queue (branch_commands): every command the cloud sends a
// branch (ticket.cancel and ticket.locate from Telegram, the appointment and
// remote-join commands from here) is published again until the branch's
// answer event marks it applied, or it expires. The republisher
// (cloud/commands) runs on these methods whether Telegram is on or not, on
// every replica; the Telegram store (postgres/notify) delegates to the same
// queue. A pass claims the rows it lists (ClaimCommands: published_at is
// stamped in the listing's own statement, FOR UPDATE SKIP LOCKED), so the
// replicas' passes of one period never list, hash or publish the same
// command; the stamp is the claim's expiry too (the row is due again one
// resend period later, published or not).

// The RUTCheck of an appointment.book or ticket.join is computed here, not
// when the customer books: with the cloud's RUT keys the book stores the
// order with its RUT sealed and the day to salt the check with
// (payload.CheckDay); CompleteCommand (called by the republisher for each
// claimed order, commands.Workers at a time) opens the sealed RUT, computes
// seal.CheckInHash (argon2id, ~20 ms) and stores the completed order on the
// row before it is published the first time, so the
// branch gets the same RUTCheck as if the booking had computed it, and
// republishing does not compute it again.

// CommandQueue is the branch_commands table as the republisher reads it.
type CommandQueue struct {
	pool *pgxpool.Pool
	now  func() time.Time
	keys *seal.RUTKeys
}

// NewCommandQueue is the queue over pool with clock now. keys are the
// cloud's RUT keys: without them an order still waiting for its RUTCheck is
// not listed (never published without it).
func NewCommandQueue(pool *pgxpool.Pool, now func() time.Time, keys *seal.RUTKeys) *CommandQueue {
	return &CommandQueue{pool: pool, now: now, keys: keys}
}

func (s *Store) queue() *CommandQueue { return NewCommandQueue(s.pool, s.Now, s.keys) }

// ClaimCommands: see CommandQueue.ClaimCommands.
func (s *Store) ClaimCommands(ctx context.Context, every time.Duration, limit int) ([]commands.Pending, error) {
	return s.queue().ClaimCommands(ctx, every, limit)
}

// CompleteCommand: see CommandQueue.CompleteCommand.
func (s *Store) CompleteCommand(ctx context.Context, p commands.Pending) (event.Command, error) {
	return s.queue().CompleteCommand(ctx, p)
}

// PendingCommands: see CommandQueue.PendingCommands.
func (s *Store) PendingCommands(ctx context.Context, every time.Duration, limit int) ([]event.Command, error) {
	return s.queue().PendingCommands(ctx, every, limit)
}

// MarkPublished: see CommandQueue.MarkPublished.
func (s *Store) MarkPublished(ctx context.Context, id string) error {
	return s.queue().MarkPublished(ctx, id)
}

// ExpireCommands: see CommandQueue.ExpireCommands.
func (s *Store) ExpireCommands(ctx context.Context, age time.Duration) error {
	return s.queue().ExpireCommands(ctx, age)
}

// ClaimCommands lists commands not yet applied whose last publish (or
// claim) is older than every, or that were never published, oldest first,
// with their payload, and claims them: it stamps their published_at now in
// the same statement, skipping the rows another replica is claiming at that
// moment (FOR UPDATE SKIP LOCKED), so no other pass lists them before every
// has passed; MarkPublished stamps it again when one goes out. An order
// still waiting for its RUTCheck carries its CheckDay; without the keys it
// is neither claimed nor listed (never published without its check).
func (q *CommandQueue) ClaimCommands(ctx context.Context, every time.Duration, limit int) ([]commands.Pending, error) {
	now := q.now()
	rows, err := q.pool.Query(ctx, `WITH claimed AS (
			UPDATE branch_commands c SET published_at = $1
			FROM (SELECT id FROM branch_commands
				WHERE status = 'pending' AND (published_at IS NULL OR published_at <= $2)
					AND ($4::boolean OR NOT coalesce(payload ? 'check_day', false))
				ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED) due
			WHERE c.id = due.id
			RETURNING c.id, c.branch, c.type, c.ticket, c.created_at, c.payload)
		SELECT id, branch, type, ticket, created_at, payload FROM claimed ORDER BY created_at, id`,
		now, now.Add(-every), limit, q.keys != nil)
	if err != nil {
		return nil, fmt.Errorf("appt: claim commands: %w", err)
	}
	return q.scan(rows)
}

// list is ClaimCommands without the claim: what would go out now.
func (q *CommandQueue) list(ctx context.Context, every time.Duration, limit int) ([]commands.Pending, error) {
	rows, err := q.pool.Query(ctx, `SELECT id, branch, type, ticket, created_at, payload FROM branch_commands
		WHERE status = 'pending' AND (published_at IS NULL OR published_at <= $1) ORDER BY created_at, id LIMIT $2`,
		q.now().Add(-every), limit)
	if err != nil {
		return nil, fmt.Errorf("appt: pending commands: %w", err)
	}
	return q.scan(rows)
}

// scan reads listed commands; an order waiting for its RUTCheck is left out
// without the keys.
func (q *CommandQueue) scan(rows pgx.Rows) ([]commands.Pending, error) {
	defer rows.Close()
	var out []commands.Pending
	for rows.Next() {
		c := event.Command{V: event.Version}
		var p []byte
		if err := rows.Scan(&c.ID, &c.Branch, &c.Type, &c.Ticket, &c.At, &p); err != nil {
			return nil, fmt.Errorf("appt: pending commands: %w", err)
		}
		var pl payload
		if len(p) > 0 {
			if err := json.Unmarshal(p, &pl); err != nil {
				return nil, fmt.Errorf("appt: command %s payload: %w", c.ID, err)
			}
			c.Appointment, c.Join = pl.Appointment, pl.Join
			if pl.CheckDay != "" && q.keys == nil {
				continue // its RUTCheck needs the keys: never sent without it
			}
		}
		switch c.Type {
		case event.CommandBookAppointment, event.CommandCancelAppointment, event.CommandJoinQueue:
			c.Ticket = "" // the row's ticket column is the booking or join it is about
		}
		out = append(out, commands.Pending{Command: c, CheckDay: pl.CheckDay})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("appt: pending commands: %w", err)
	}
	return out, nil
}

// PendingCommands lists the commands a pass would claim now (without
// claiming them), each order completed (its RUTCheck computed, GOMAXPROCS at
// a time, and stored): the commands as they go out.
func (q *CommandQueue) PendingCommands(ctx context.Context, every time.Duration, limit int) ([]event.Command, error) {
	list, err := q.list(ctx, every, limit)
	if err != nil {
		return nil, err
	}
	out := make([]event.Command, len(list))
	errs := make([]error, len(list))
	var wg sync.WaitGroup
	for i, p := range list {
		out[i] = p.Command
		if p.CheckDay != "" {
			wg.Go(func() { out[i], errs[i] = q.CompleteCommand(ctx, p) })
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// CompleteCommand computes the RUTCheck of a listed order for its CheckDay
// and stores the completed order on its row (without the day: republishing
// does not compute it again). A sealed RUT that does not open (not sealed to
// these keys) leaves the order without a check: the customer checks in with
// his code.
func (q *CommandQueue) CompleteCommand(ctx context.Context, p commands.Pending) (event.Command, error) {
	c := p.Command
	if p.CheckDay == "" {
		return c, nil
	}
	check, err := OrderCheck(ctx, q.keys, c.Branch, p.CheckDay, sealedOf(c))
	if err != nil {
		return c, fmt.Errorf("appt: command %s check: %w", c.ID, err)
	}
	switch {
	case c.Appointment != nil:
		o := *c.Appointment
		o.RUTCheck = check
		c.Appointment = &o
	case c.Join != nil:
		o := *c.Join
		o.RUTCheck = check
		c.Join = &o
	}
	pl, err := json.Marshal(payload{Appointment: c.Appointment, Join: c.Join})
	if err != nil {
		return c, err
	}
	if _, err := q.pool.Exec(ctx, `UPDATE branch_commands SET payload = $2 WHERE id = $1`, c.ID, pl); err != nil {
		return c, fmt.Errorf("appt: command %s check: %w", c.ID, err)
	}
	return c, nil
}

// OrderCheck is the RUTCheck of an order whose RUT is sealed to keys, for
// branch and its business day: seal.CheckInHash of the opened RUT, bounded
// like every check-in hash. A sealed RUT that does not open (not sealed to
// these keys), or no keys, give "" (the customer checks in with his code).
// The replacement box's resume state (postgres.EnrollStore) completes the
// bookings still waiting for their check with it too.
func OrderCheck(ctx context.Context, keys *seal.RUTKeys, branch, day, sealed string) (string, error) {
	if keys == nil || sealed == "" {
		return "", nil
	}
	rut, err := keys.Open(sealed)
	if err != nil {
		return "", nil
	}
	return checkInHash(ctx, branch, day, rut)
}

// sealedOf is the sealed RUT of an order.
func sealedOf(c event.Command) string {
	switch {
	case c.Appointment != nil:
		return c.Appointment.RUTSealed
	case c.Join != nil:
		return c.Join.RUTSealed
	}
	return ""
}

// MarkPublished records a publish of a command.
func (q *CommandQueue) MarkPublished(ctx context.Context, id string) error {
	_, err := q.pool.Exec(ctx, `UPDATE branch_commands SET published_at = $2, publishes = publishes + 1 WHERE id = $1`,
		id, q.now())
	if err != nil {
		return fmt.Errorf("appt: command published: %w", err)
	}
	return nil
}

// ExpireCommands gives up on pending commands past their expiry (without
// one, older than age: the branch abandons a day's open tickets anyway). A
// remote join whose ticket.join expired unanswered is refused as
// unreachable.
func (q *CommandQueue) ExpireCommands(ctx context.Context, age time.Duration) error {
	now := q.now()
	_, err := q.pool.Exec(ctx, `WITH exp AS (
			UPDATE branch_commands SET status = 'expired'
			WHERE status = 'pending' AND COALESCE(expires_at, created_at + $2::interval) < $1
			RETURNING id, type)
		UPDATE appt_joins j SET status = 'refused', reason = $3, updated_at = $1
		FROM exp WHERE exp.type = 'ticket.join' AND j.id = exp.id AND j.status = 'pending'`,
		now, age, cloud.JoinUnreachable)
	if err != nil {
		return fmt.Errorf("appt: expire commands: %w", err)
	}
	return nil
}
