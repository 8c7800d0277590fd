package notify

import (
	"context"
	"fmt"

	"github.com/ticketero/ticketero/cloud"
)

// AlertsAfter lists HQ's raised alerts (hq_alerts) with ID greater than
// afterID, oldest first, for the supervisors' digests, each value shown as
// HQ shows it.
func (s *Store) AlertsAfter(ctx context.Context, afterID int64, limit int) ([]cloud.Alert, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, branch, kind, value, raised_at FROM hq_alerts
		WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("notify: alerts: %w", err)
	}
	defer rows.Close()
	var out []cloud.Alert
	for rows.Next() {
		var a cloud.Alert
		if err := rows.Scan(&a.ID, &a.Branch, &a.Kind, &a.Value, &a.RaisedAt); err != nil {
			return nil, fmt.Errorf("notify: alerts: %w", err)
		}
		a.Shown = cloud.FormatAlertValue(a.Kind, a.Value)
		out = append(out, a)
	}
	return out, rows.Err()
}
