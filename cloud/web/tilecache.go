package web

import (
	"cmp"
	"html/template"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/i18n"
)

// langs are the languages a tile is rendered in, by langIndex.
var langs = [2]i18n.Lang{i18n.ES, i18n.EN}

func langIndex(l i18n.Lang) int {
	if l == i18n.EN {
		return 1
	}
	return 0
}

// shownTile is a tile with its rendered HTML per language (rendered on
// demand when it did not come from the cache).
type shownTile struct {
	cloud.Tile
	html [2]template.HTML
}

// HTML is the tile's markup in l.
func (t *shownTile) HTML(l i18n.Lang) template.HTML {
	i := langIndex(l)
	if t.html[i] == "" {
		t.html[i] = tileHTML(t.Tile, l)
	}
	return t.html[i]
}

func wrapTiles(ts []cloud.Tile) []*shownTile {
	out := make([]*shownTile, len(ts))
	for i := range ts {
		out[i] = &shownTile{Tile: ts[i]}
	}
	return out
}

// tileCache is the hub's copy of every branch's tile, rendered in both
// languages. The hub fills it with one read of every tile when its LISTEN
// connection comes up and every RefreshEvery, and one read of the changed
// branches per flush: the overview page, its windows (/tiles), the live
// totals and snapshots read it instead of PostgreSQL, so a page costs no
// overview query and a change costs one read whatever the number of
// browsers. It is not ready (callers read the store) until the first full
// read after the LISTEN connection came up, and again while it is down.
type tileCache struct {
	mu    sync.RWMutex
	ready bool
	tiles map[string]*shownTile
	// order holds the same tiles by branch ID (the overview's default
	// order): a page filters it instead of sorting 5,000 tiles.
	order []*shownTile
	// id names this process's cache and seq counts the updates that changed
	// a tile: a page carries both (version), and the live stream tells its
	// browser the version at connection, which then fetches its tiles again
	// only if a change came in between (or from another replica's cache).
	id  string
	seq int64
}

// update stores tiles read from the store (every tile when all: the cache
// then holds exactly those, and is ready when ready says so) and returns
// those whose markup changed (new branches included). Rendering happens
// before the lock is taken.
func (c *tileCache) update(ts []cloud.Tile, all, ready bool) []*shownTile {
	fresh := make([]*shownTile, len(ts))
	for i := range ts {
		t := &shownTile{Tile: ts[i]}
		for _, l := range langs {
			t.HTML(l)
		}
		fresh[i] = t
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.tiles
	rebuild := all || c.tiles == nil
	if rebuild {
		c.tiles = make(map[string]*shownTile, len(fresh))
		c.ready = ready
	}
	var changed []*shownTile
	for _, t := range fresh {
		o, ok := old[t.Branch]
		if !ok || o.html[0] != t.html[0] || o.html[1] != t.html[1] {
			changed = append(changed, t)
		}
		c.tiles[t.Branch] = t
		if rebuild {
			continue
		}
		if i, found := slices.BinarySearchFunc(c.order, t.Branch, byBranch); found {
			c.order[i] = t
		} else {
			c.order = slices.Insert(c.order, i, t)
		}
	}
	if rebuild {
		c.order = slices.Collect(maps.Values(c.tiles))
		sortTiles(c.order, "")
	}
	if c.id == "" {
		c.id = strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	if rebuild || len(changed) > 0 {
		c.seq++
	}
	return changed
}

// version is the cache's state as a page saw it ("" while not ready).
func (c *tileCache) version() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.versionLocked()
}

func (c *tileCache) versionLocked() string {
	if !c.ready {
		return ""
	}
	return c.id + "." + strconv.FormatInt(c.seq, 10)
}

func byBranch(t *shownTile, id string) int { return strings.Compare(t.Branch, id) }

// invalidate marks the cache stale (the LISTEN connection is down: changes
// are being missed) until the next full read.
func (c *tileCache) invalidate() {
	c.mu.Lock()
	c.ready = false
	c.mu.Unlock()
}

// list returns the tiles within scope (and region, when set) in branch order,
// or ok false when the cache is not ready.
func (c *tileCache) list(scope cloud.Scope, region string) (out []*shownTile, ok bool) {
	out, _, ok = c.listAt(scope, region)
	return out, ok
}

// listAt is list and the version of the cache those tiles come from.
func (c *tileCache) listAt(scope cloud.Scope, region string) (out []*shownTile, version string, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.ready {
		return nil, "", false
	}
	version = c.versionLocked()
	out = make([]*shownTile, 0, len(c.order))
	for _, t := range c.order {
		if (region == "" || t.Region == region) && scope.Allows(t.Branch, t.Region) {
			out = append(out, t)
		}
	}
	return out, version, true
}

// sortTiles orders tiles as cloud.HQStore.Overview does: "waiting" (most first),
// "wait" (oldest waiting first, nobody waiting last), "sla" (lowest first,
// none decided last), otherwise by branch ID; ties by branch ID.
func sortTiles(ts []*shownTile, by string) {
	slices.SortFunc(ts, func(a, b *shownTile) int {
		var c int
		switch by {
		case "waiting":
			c = cmp.Compare(b.Waiting, a.Waiting)
		case "wait":
			switch {
			case a.OldestQueuedAt == nil && b.OldestQueuedAt == nil:
			case a.OldestQueuedAt == nil:
				c = 1
			case b.OldestQueuedAt == nil:
				c = -1
			default:
				c = a.OldestQueuedAt.Compare(*b.OldestQueuedAt)
			}
		case "sla":
			c = cmp.Compare(slaKey(a.Tile), slaKey(b.Tile))
		}
		if c != 0 {
			return c
		}
		return strings.Compare(a.Branch, b.Branch)
	})
}

func slaKey(t cloud.Tile) float64 {
	if t.Decided == 0 {
		return 2
	}
	return float64(t.WithinTarget) / float64(t.Decided)
}

// fold lowers s and drops Spanish accents, for the overview's search.
var fold = strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ü", "u", "ñ", "n",
	"Á", "a", "É", "e", "Í", "i", "Ó", "o", "Ú", "u", "Ü", "u", "Ñ", "n")

func foldText(s string) string { return strings.ToLower(fold.Replace(s)) }

// searchTiles keeps the tiles whose branch ID, name or region contains q
// (case and accents aside); every tile when q is blank.
func searchTiles(ts []*shownTile, q string) []*shownTile {
	q = foldText(strings.TrimSpace(q))
	if q == "" {
		return ts
	}
	out := make([]*shownTile, 0, len(ts))
	for _, t := range ts {
		if strings.Contains(foldText(t.Branch), q) || strings.Contains(foldText(t.Name), q) || strings.Contains(foldText(t.Region), q) {
			out = append(out, t)
		}
	}
	return out
}
