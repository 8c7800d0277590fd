package notify

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/cloud/postgres/appt"
	"github.com/ticketero/ticketero/shared/event"
)

// RequestCancel records a ticket.cancel command for the chat's waiting ticket
// (at most one pending per ticket: a second /cancelar reuses the first). It
// returns the ticket and the command to publish. Errors: not_found
// telegram.no_ticket; a ticket no longer waiting returns ok false.
func (s *Store) RequestCancel(ctx context.Context, tx pgx.Tx, chatID int64, newID string) (TicketInfo, event.Command, bool, error) {
	t, err := s.ChatTicket(ctx, tx, chatID)
	if err != nil {
		return t, event.Command{}, false, err
	}
	if !t.Open() || t.Status != "waiting" {
		return t, event.Command{}, false, nil
	}
	cmd, err := s.requestCommand(ctx, tx, t, event.CommandCancelTicket, newID)
	return t, cmd, err == nil, err
}

// requestCommand records a command of typ for a ticket, at most one pending
// per ticket and type (a second request reuses the first), and returns it.
func (s *Store) requestCommand(ctx context.Context, tx pgx.Tx, t TicketInfo, typ, newID string) (event.Command, error) {
	cmd := event.Command{V: event.Version, Branch: t.Branch, Type: typ, Ticket: t.ID}
	err := tx.QueryRow(ctx, `WITH ins AS (
			INSERT INTO branch_commands (id, branch, type, ticket, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT DO NOTHING RETURNING id, created_at)
		SELECT id, created_at FROM ins
		UNION ALL
		SELECT id, created_at FROM branch_commands WHERE branch = $2 AND ticket = $4 AND type = $3 AND status = 'pending'
		LIMIT 1`, newID, t.Branch, typ, t.ID, s.Now()).Scan(&cmd.ID, &cmd.At)
	if err != nil {
		return cmd, fmt.Errorf("notify: request %s: %w", typ, err)
	}
	return cmd, nil
}

// MarkPublished records a publish of a command.
func (s *Store) MarkPublished(ctx context.Context, id string) error {
	return appt.NewCommandQueue(s.pool, s.Now, nil).MarkPublished(ctx, id)
}

// CommandStatus returns a command's status (pending, applied, expired).
func (s *Store) CommandStatus(ctx context.Context, id string) (string, error) {
	var st string
	if err := s.pool.QueryRow(ctx, `SELECT status FROM branch_commands WHERE id = $1`, id).Scan(&st); err != nil {
		return "", fmt.Errorf("notify: command %s: %w", id, err)
	}
	return st, nil
}
