package postgres

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/backoff"
)

// Listener LISTENs on one NOTIFY channel over a dedicated connection (a
// pooled connection cannot wait for notifications), reconnecting with
// backoff. A payload of several entries (cloud.ChangesSeparator) is
// delivered one entry per notify call.
type Listener struct {
	Pool    *pgxpool.Pool
	Channel string
	Log     *slog.Logger
}

var _ cloud.ChangeListener = (*Listener)(nil)

// Listen implements cloud.ChangeListener.
func (l *Listener) Listen(ctx context.Context, connected func(up bool), notify func(payload string)) {
	log := l.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "listen")
	bo := backoff.New(100*time.Millisecond, 5*time.Second)
	for ctx.Err() == nil {
		cfg := l.Pool.Config().ConnConfig.Copy()
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			_, err = conn.Exec(ctx, "LISTEN "+l.Channel)
		}
		if err != nil {
			if conn != nil {
				_ = conn.Close(context.Background())
			}
			wait := bo.Next()
			if ctx.Err() == nil {
				log.Warn("listen connection failed", "err", err, "retry_in", wait)
			}
			_ = backoff.Sleep(ctx, wait) // a cancelled ctx ends the loop
			continue
		}
		bo.Reset()
		connected(true)
		for {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("listen connection lost", "err", err)
				}
				break
			}
			for entry := range strings.SplitSeq(n.Payload, cloud.ChangesSeparator) {
				notify(entry)
			}
		}
		connected(false)
		_ = conn.Close(context.Background())
	}
}
