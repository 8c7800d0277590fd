package main

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
)

// alertFullEvery is how often the alert loop re-reads every branch even when
// no change was announced (a notification lost in a reconnect, a silent
// agent: bounded to this).
const alertFullEvery = time.Minute

// alertFacts are the alert loop's tiles as last read, per branch, with when.
// What the alert rules judge changes only with events (who waits since when,
// the moment the first waiter passes target, today's last call, the sync
// state), and the ingest announces every branch it changes on
// cloud.ChangesChannel: each pass re-reads the branches announced since the
// last one and advances the others' waits to now, instead of re-reading
// every branch's tickets every 5 s. Every alertFullEvery, and while the
// LISTEN connection is down, every branch is read.
type alertFacts struct {
	mu     sync.Mutex
	up     bool // the LISTEN connection is up
	all    bool // every branch to be re-read
	dirty  map[string]struct{}
	tiles  map[string]hq.Tile
	readAt map[string]time.Time
	full   time.Time // last full read
}

func newAlertFacts() *alertFacts {
	return &alertFacts{all: true, dirty: map[string]struct{}{}, tiles: map[string]hq.Tile{}, readAt: map[string]time.Time{}}
}

// connected records the LISTEN connection's state (notifications are lost
// while it is down: re-read everything when it is back).
func (f *alertFacts) connected(up bool) {
	f.mu.Lock()
	f.up, f.all = up, true
	f.mu.Unlock()
}

// mark records an announced change ("" is every branch; the alerts' own
// announcement is not a branch).
func (f *alertFacts) mark(branch string) {
	if branch == cloud.AlertsChanged {
		return
	}
	f.mu.Lock()
	if branch == "" {
		f.all = true
	} else {
		f.dirty[branch] = struct{}{}
	}
	f.mu.Unlock()
}

// current re-reads what changed (everything when due) and returns every
// branch's tile advanced to now.
func (f *alertFacts) current(ctx context.Context, store *hq.Store, now time.Time) ([]hq.Tile, error) {
	f.mu.Lock()
	all := f.all || !f.up || now.Sub(f.full) >= alertFullEvery
	dirty := slices.Collect(maps.Keys(f.dirty))
	f.all, f.dirty = false, map[string]struct{}{}
	f.mu.Unlock()
	if all || len(dirty) > 0 {
		at := store.Now()
		var read []hq.Tile
		var err error
		if all {
			read, err = store.AlertTiles(ctx)
		} else {
			read, err = store.AlertTiles(ctx, dirty...)
		}
		if err != nil {
			f.mu.Lock()
			f.all = true // read it all next time
			f.mu.Unlock()
			return nil, err
		}
		if all {
			f.tiles, f.readAt, f.full = map[string]hq.Tile{}, map[string]time.Time{}, at
		}
		for _, t := range read {
			f.tiles[t.Branch], f.readAt[t.Branch] = t, at
		}
	}
	out := make([]hq.Tile, 0, len(f.tiles))
	for b, t := range f.tiles {
		out = append(out, advance(t, f.readAt[b], now, store.SilentAfter))
	}
	return out, nil
}

// advance moves a tile read at readAt to now: waits grow, and an agent silent
// too long goes offline; nothing else moves without an event.
func advance(t hq.Tile, readAt, now time.Time, silentAfter time.Duration) hq.Tile {
	if d := int(now.Sub(readAt).Seconds()); t.Waiting > 0 && d > 0 {
		t.LongestWaitS += d
		t.OverTargetS += d
	}
	t.OfflineFrom = t.OfflineSince(now, silentAfter)
	return t
}
