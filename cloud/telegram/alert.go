package telegram

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/cloud/postgres/notify"
	"github.com/ticketero/ticketero/shared/i18n"
)

// Alert is a supervisor alert raised by the dashboard's rules.
type Alert struct {
	ID       int64
	Branch   string
	Kind     string // an hq.Alert* kind
	Value    int64
	RaisedAt time.Time
}

// AlertSource lists alerts with ID greater than afterID, oldest first.
type AlertSource func(ctx context.Context, afterID int64, limit int) ([]Alert, error)

// HQAlerts reads the dashboard's hq_alerts table (migration 00002).
func HQAlerts(pool *pgxpool.Pool) AlertSource {
	return func(ctx context.Context, afterID int64, limit int) ([]Alert, error) {
		rows, err := pool.Query(ctx, `SELECT id, branch, kind, value, raised_at FROM hq_alerts
			WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
		if err != nil {
			return nil, fmt.Errorf("telegram: alerts: %w", err)
		}
		defer rows.Close()
		var out []Alert
		for rows.Next() {
			var a Alert
			if err := rows.Scan(&a.ID, &a.Branch, &a.Kind, &a.Value, &a.RaisedAt); err != nil {
				return nil, fmt.Errorf("telegram: alerts: %w", err)
			}
			out = append(out, a)
		}
		return out, rows.Err()
	}
}

// Digester turns new alerts into digests for a supervisors' group: at most
// one digest per Every (≥ 3 s, so never more than 20 a minute, Telegram's
// group limit), each listing up to MaxLines alerts and a count of the rest.
// Digests are jobs, so they are paced (3.1 s per group), retried and
// dead-lettered like every message.
type Digester struct {
	Store    *notify.Store
	Source   AlertSource
	ChatRow  int64 // telegram_chats.id of the group
	Lang     i18n.Lang
	Every    time.Duration
	MaxLines int
	Log      *slog.Logger
	Now      func() time.Time
}

// MinDigestEvery keeps a group under 20 messages per minute.
const MinDigestEvery = 3 * time.Second

// Run digests until ctx ends.
func (d *Digester) Run(ctx context.Context) error {
	every := max(d.Every, MinDigestEvery)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := d.Once(ctx); err != nil && ctx.Err() == nil && d.Log != nil {
			d.Log.Warn("alert digest", "component", "telegram.digest", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Once writes one digest job if there are new alerts.
func (d *Digester) Once(ctx context.Context) error {
	maxLines := d.MaxLines
	if maxLines <= 0 {
		maxLines = 15
	}
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	return d.Store.Digest(ctx, d.ChatRow, func(after int64) (*notify.Msg, int64, error) {
		alerts, err := d.Source(ctx, after, 1000)
		if err != nil || len(alerts) == 0 {
			return nil, after, err
		}
		var lines []string
		for i, a := range alerts {
			if i == maxLines {
				lines = append(lines, i18n.T(d.Lang, "telegram.alert.more", strconv.Itoa(len(alerts)-maxLines)))
				break
			}
			key := "telegram.alert." + a.Kind
			if !i18n.Has(key) {
				lines = append(lines, "• "+i18n.T(d.Lang, "telegram.alert.other", a.Branch, a.Kind))
				continue
			}
			lines = append(lines, "• "+i18n.T(d.Lang, key, a.Branch, hq.FormatAlertValue(a.Kind, a.Value)))
		}
		m := notify.Msg{Key: "telegram.alert.digest", Args: []notify.Arg{
			notify.S(now().Format("15:04")), notify.S(strings.Join(lines, "\n"))}}
		return &m, alerts[len(alerts)-1].ID, nil
	})
}
