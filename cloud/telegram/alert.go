package telegram

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/i18n"
)

// AlertSource lists alerts with ID greater than afterID, oldest first
// (notify.Store.AlertsAfter reads HQ's).
type AlertSource func(ctx context.Context, afterID int64, limit int) ([]cloud.Alert, error)

// DigestStore is what the digester needs of the notification storage
// (postgres/notify implements it).
type DigestStore interface {
	// Digest runs fn for a group under a lock, with the last alert ID
	// digested; the message fn returns becomes a job in the transaction
	// that moves the cursor to the ID fn returns (nil message: nothing new).
	Digest(ctx context.Context, chatID int64, fn func(afterID int64) (*cloud.Text, int64, error)) error
}

// Digester turns new alerts into digests for a supervisors' group: at most
// one digest per Every (≥ 3 s, so never more than 20 a minute, Telegram's
// group limit), each listing up to MaxLines alerts and a count of the rest.
// Digests are jobs, so they are paced (3.1 s per group), retried and
// dead-lettered like every message.
type Digester struct {
	Store    DigestStore
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
	return d.Store.Digest(ctx, d.ChatRow, func(after int64) (*cloud.Text, int64, error) {
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
			shown := a.Shown
			if shown == "" {
				shown = strconv.FormatInt(a.Value, 10)
			}
			lines = append(lines, "• "+i18n.T(d.Lang, key, a.Branch, shown))
		}
		m := cloud.Text{Key: "telegram.alert.digest", Args: []cloud.TextArg{
			cloud.Lit(now().Format("15:04")), cloud.Lit(strings.Join(lines, "\n"))}}
		return &m, alerts[len(alerts)-1].ID, nil
	})
}
