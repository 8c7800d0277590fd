package postgres

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ticketero/ticketero/cloud"
)

// DefaultChangeFlush is how long a replica gathers changed branches before it
// announces them in one NOTIFY.
const DefaultChangeFlush = 100 * time.Millisecond

// maxNotifyPayload bounds one NOTIFY's payload (PostgreSQL refuses 8000 bytes
// or more).
const maxNotifyPayload = 7999

// ChangeFlusher coalesces a replica's change notifications: the ingest records
// each committed branch with Changed, and one NOTIFY per interval carries the
// set of changed branches (cloud.ChangesSeparator between IDs; split over
// several NOTIFYs when longer than a payload may be). A NOTIFY takes a
// cluster-wide lock at commit, so one per ingest transaction serialises the
// commits; one per interval does not. No goroutine runs while nothing is
// pending: the first change arms a timer.
type ChangeFlusher struct {
	pool    *pgxpool.Pool
	channel string
	every   time.Duration
	log     *slog.Logger

	mu      sync.Mutex
	pending map[string]struct{}
	timer   *time.Timer
	closed  bool

	sendMu sync.Mutex // one flush sends at a time; Close waits for it
}

// NewChangeFlusher announces changes on channel every interval (<= 0:
// DefaultChangeFlush).
func NewChangeFlusher(pool *pgxpool.Pool, channel string, every time.Duration, log *slog.Logger) *ChangeFlusher {
	if every <= 0 {
		every = DefaultChangeFlush
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ChangeFlusher{pool: pool, channel: channel, every: every, log: log.With("component", "changes"),
		pending: map[string]struct{}{}}
}

// Changed records that branch changed (after the change committed). It is
// announced at the end of the current interval; after Close, at once.
func (f *ChangeFlusher) Changed(branch string) {
	f.mu.Lock()
	f.pending[branch] = struct{}{}
	closed := f.closed
	if !closed && f.timer == nil {
		f.timer = time.AfterFunc(f.every, f.flushTimer)
	}
	f.mu.Unlock()
	if closed {
		f.Flush(context.Background())
	}
}

func (f *ChangeFlusher) flushTimer() {
	f.mu.Lock()
	f.timer = nil
	f.mu.Unlock()
	f.Flush(context.Background())
}

// Flush announces what is pending now. A failed NOTIFY is logged: listeners
// re-read everything on their periodic refresh.
func (f *ChangeFlusher) Flush(ctx context.Context) {
	f.sendMu.Lock()
	defer f.sendMu.Unlock()
	f.mu.Lock()
	ids := make([]string, 0, len(f.pending))
	for id := range f.pending {
		ids = append(ids, id)
	}
	clear(f.pending)
	f.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	sort.Strings(ids)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for _, payload := range changePayloads(ids, maxNotifyPayload) {
		if _, err := f.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, f.channel, payload); err != nil {
			f.log.Warn("change notification failed", "branches", len(ids), "err", err)
			return
		}
	}
}

// Close stops the timer and announces what is pending (waiting for a flush
// in flight). Later changes are announced at once.
func (f *ChangeFlusher) Close() error {
	f.mu.Lock()
	f.closed = true
	if f.timer != nil {
		f.timer.Stop()
		f.timer = nil
	}
	f.mu.Unlock()
	f.Flush(context.Background())
	return nil
}

// changePayloads joins ids with cloud.ChangesSeparator into payloads of at
// most limit bytes each (an ID is never split).
func changePayloads(ids []string, limit int) []string {
	var out []string
	var b strings.Builder
	for _, id := range ids {
		if b.Len() > 0 && b.Len()+len(cloud.ChangesSeparator)+len(id) > limit {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteString(cloud.ChangesSeparator)
		}
		b.WriteString(id)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}
