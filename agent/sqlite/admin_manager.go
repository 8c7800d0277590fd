package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// SetManager grants (on) or revokes the branch manager role of an active
// executive: with it he signs in on the branch page with his own PIN. Each
// change is an executive.admin event for HQ's audit.
//
// Errors: not_found executive.not_found; conflict manager.role_unchanged.
func (a *Admin) SetManager(ctx context.Context, id string, on bool) error {
	action, want := event.AdminManagerRevoked, 0
	if on {
		action, want = event.AdminManagerGranted, 1
	}
	var exists bool
	if err := a.db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM executives WHERE id = ? AND active = 1)", id).Scan(&exists); err != nil {
		return fmt.Errorf("sqlite: set manager: %w", err)
	}
	if !exists {
		return queue.Errorf(queue.CodeNotFound, "executive.not_found", id)
	}
	return a.change(ctx, event.Admin{Action: action, Executive: id}, func(tx *sql.Tx) (int64, error) {
		res, err := tx.ExecContext(ctx, "UPDATE executives SET manager = ? WHERE id = ? AND active = 1 AND manager <> ?", want, id, want)
		if err != nil {
			return 0, fmt.Errorf("sqlite: set manager: %w", err)
		}
		return res.RowsAffected()
	}, queue.Errorf(queue.CodeConflict, "manager.role_unchanged", id))
}
