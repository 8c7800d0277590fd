package sqlite

import (
	"context"

	"github.com/ticketero/ticketero/shared/queue"
)

// Branch returns the branch the database belongs to, as the agent recorded it
// at its first start (for tools such as doctor run without --branch).
//
// Errors: not_found branch.unknown when the agent never started on it.
func (a *Admin) Branch(ctx context.Context) (string, error) {
	b, ok, err := getMeta(ctx, a.db, metaBranch)
	if err != nil {
		return "", err
	}
	if !ok || b == "" {
		return "", queue.Errorf(queue.CodeNotFound, "branch.unknown")
	}
	return b, nil
}
