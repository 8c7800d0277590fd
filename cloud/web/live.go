package web

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/i18n"
)

// Hub fans change notifications out to this process's browsers. It listens
// through Config.Changes (cloud.ChangesChannel); notifications are
// coalesced for FlushEvery, the changed branches' tiles are read once (one
// query per flush, whatever the number of browsers), rendered once per
// language, kept in the tile cache (tilecache.go), and those whose markup
// changed are pushed to every client whose scope allows the branch, followed
// by the new totals of each group of clients (same scope and region filter)
// they touch. After a (re)connect every tile is re-read, since notifications
// sent while disconnected are lost. Any replica serves any browser.
type Hub struct {
	h       *Handler
	mu      sync.Mutex
	clients map[*client]struct{}
	dirty   map[string]struct{}
	cache   tileCache
	all     bool
	alerts  bool // alerts changed (cloud.AlertsChanged) since the last push
	kick    chan struct{}
	// Connected is set while the LISTEN connection is up.
	connected atomic.Bool
	// Pushed counts tile messages delivered to client queues.
	Pushed atomic.Int64
	// servers seen by the live handler, each told to end the streams on
	// shutdown.
	servers sync.Map
}

type client struct {
	scope cloud.Scope
	// region is the page's region filter ("" for all): its totals rows.
	region string
	lang   i18n.Lang
	ch     chan []byte
	gone   chan struct{}
	once   sync.Once
}

func (c *client) drop() { c.once.Do(func() { close(c.gone) }) }

func newHub(h *Handler) *Hub {
	return &Hub{h: h, clients: map[*client]struct{}{}, dirty: map[string]struct{}{}, kick: make(chan struct{}, 1)}
}

// Clients is the number of connected browsers.
func (b *Hub) Clients() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.clients)
}

// CacheReady reports whether pages read the tile cache (every tile read
// since the LISTEN connection came up).
func (b *Hub) CacheReady() bool {
	b.cache.mu.RLock()
	defer b.cache.mu.RUnlock()
	return b.cache.ready
}

// Connected reports whether the LISTEN connection is up.
func (b *Hub) Connected() bool { return b.connected.Load() }

// dropAll ends every live stream (browsers reconnect, to another replica if
// this one is going away).
func (b *Hub) dropAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.clients {
		c.drop()
	}
}

func (b *Hub) mark(branch string) {
	b.mu.Lock()
	switch branch {
	case "":
		b.all = true
	case cloud.AlertsChanged:
		b.alerts = true
	default:
		b.dirty[branch] = struct{}{}
	}
	b.mu.Unlock()
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// Run listens and pushes until ctx ends.
func (b *Hub) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); b.listen(ctx) }()
	go func() { defer wg.Done(); b.flushLoop(ctx) }()
	wg.Wait()
	return nil
}

func (b *Hub) listen(ctx context.Context) {
	if b.h.cfg.Changes == nil {
		return // no notifications: tiles refresh every RefreshEvery only
	}
	b.h.cfg.Changes.Listen(ctx, func(up bool) {
		b.connected.Store(up)
		if !up {
			b.cache.invalidate()
		}
		if up {
			b.mark("") // re-read everything: notifications were lost while down
		}
	}, b.mark)
}

func (b *Hub) flushLoop(ctx context.Context) {
	refresh := time.NewTicker(b.h.cfg.RefreshEvery)
	defer refresh.Stop()
	for {
		select {
		case <-ctx.Done():
			b.dropAll()
			return
		case <-refresh.C:
			b.mark("")
		case <-b.kick:
		}
		select { // coalesce a burst of notifications
		case <-ctx.Done():
			continue
		case <-time.After(b.h.cfg.FlushEvery):
		}
		b.mu.Lock()
		all, dirty, alerts := b.all, b.dirty, b.alerts
		b.all, b.dirty, b.alerts = false, map[string]struct{}{}, false
		b.mu.Unlock()
		if all || len(dirty) > 0 {
			f := cloud.OverviewFilter{}
			if !all {
				for id := range dirty {
					f.Branches = append(f.Branches, id)
				}
			}
			if err := b.push(ctx, f); err != nil && ctx.Err() == nil {
				b.h.log.Error("live push", "err", err)
			}
		}
		if alerts {
			m := []byte("event: alerts\ndata: {}\n\n")
			b.broadcast(func(*client) []byte { return m })
		}
	}
}

// push re-reads tiles (every tile when f names no branch: the cache is ready
// afterwards if the LISTEN connection is up), and sends those whose markup
// changed, then the totals they change. Alerts are evaluated apart (the
// cloud's alert loop), which announces changes with cloud.AlertsChanged.
func (b *Hub) push(ctx context.Context, f cloud.OverviewFilter) error {
	all := len(f.Branches) == 0
	up := b.connected.Load()
	tiles, err := b.h.store.Overview(ctx, cloud.AllBranches, f)
	if err != nil {
		return err
	}
	changed := b.cache.update(tiles, all, all && up)
	if err := b.pushTiles(changed); err != nil {
		return err
	}
	if len(changed) > 0 {
		b.pushTotals(changed)
	}
	return nil
}

// liveQueue is how many entries wait for a client's stream before the hub
// drops it as too slow (the browser reconnects and gets a snapshot);
// liveChunk is how many tiles one entry holds at most: a burst of 5,000
// changed tiles is 313 entries.
const (
	liveQueue = 512
	liveChunk = 16
)

// pushTiles queues the changed tiles on the clients whose scope allows them.
func (b *Hub) pushTiles(changed []*shownTile) error {
	msgs := make([][len(langs)][]byte, len(changed))
	for k, t := range changed {
		for i, l := range langs {
			m, err := tileEvent(t.Branch, t.HTML(l))
			if err != nil {
				return err
			}
			msgs[k][i] = m
		}
	}
	// A client's queue entries are chunks of up to liveChunk changed tiles
	// it may see (consecutive SSE events), built once per scope and
	// language and shared by the clients that have them. With an entry per
	// tile, a storm of changes (5,000 branches signing in) overflowed a
	// national viewer's queue at once and the hub dropped the stream
	// (TestHubBurstChunks); with one entry for all, the browser handled the
	// whole burst in one long task (Lighthouse's total blocking time).
	shared := map[string][][]byte{}
	b.mu.Lock()
	for c := range b.clients {
		k := groupKey(c.scope, "") + "|" + string(c.lang)
		chunks, ok := shared[k]
		if !ok {
			li := langIndex(c.lang)
			var m []byte
			n := 0
			for i, t := range changed {
				if !c.scope.Allows(t.Branch, t.Region) {
					continue
				}
				m = append(m, msgs[i][li]...)
				if n++; n == liveChunk {
					chunks, m, n = append(chunks, m), nil, 0
				}
			}
			if n > 0 {
				chunks = append(chunks, m)
			}
			shared[k] = chunks
		}
		for _, m := range chunks {
			if _, still := b.clients[c]; !still {
				break // dropped by send
			}
			b.send(c, m)
		}
	}
	b.mu.Unlock()
	return nil
}

// pushTotals sends each group of clients (same scope and region filter)
// that sees one of the changed tiles its new totals, computed once per
// group from the cache.
func (b *Hub) pushTotals(changed []*shownTile) {
	type group struct {
		scope   cloud.Scope
		region  string
		clients []*client
	}
	groups := map[string]*group{}
	b.mu.Lock()
	for c := range b.clients {
		k := groupKey(c.scope, c.region)
		g := groups[k]
		if g == nil {
			g = &group{scope: c.scope, region: c.region}
			groups[k] = g
		}
		g.clients = append(g.clients, c)
	}
	b.mu.Unlock()
	for _, g := range groups {
		if !slices.ContainsFunc(changed, func(t *shownTile) bool {
			return (g.region == "" || g.region == t.Region) && g.scope.Allows(t.Branch, t.Region)
		}) {
			continue
		}
		m, ok := b.totalsEvent(g.scope, g.region)
		if !ok {
			return // the cache is not ready: no totals until it is
		}
		b.mu.Lock()
		for _, c := range g.clients {
			if _, still := b.clients[c]; still {
				b.send(c, m)
			}
		}
		b.mu.Unlock()
	}
}

// groupKey names the clients that share totals: same scope, same region.
func groupKey(s cloud.Scope, region string) string {
	var k strings.Builder
	if s.All {
		k.WriteString("*")
	}
	for _, l := range [][]string{slices.Sorted(slices.Values(s.Regions)), slices.Sorted(slices.Values(s.Branches)), {region}} {
		k.WriteString("|" + strings.Join(l, ","))
	}
	return k.String()
}

// totalsJSON is a totals row on the wire (the "totals" SSE event).
type totalsJSON struct {
	Region   string `json:"region"`
	Branches int    `json:"branches"`
	Waiting  int    `json:"waiting"`
	Over     int    `json:"over"`
	Decided  int    `json:"decided"`
	Within   int    `json:"within"`
	Offline  int    `json:"offline"`
}

func totalRow(t total) totalsJSON {
	return totalsJSON{Region: t.Region, Branches: t.Branches, Waiting: t.Waiting, Over: t.WaitingOver, Decided: t.Decided, Within: t.Within, Offline: t.Offline}
}

// totalsEvent is the "totals" SSE event of a scope and region filter from
// the cache: the first row (national, or what the region filter shows), then
// a row per region; ok false when the cache is not ready.
func (b *Hub) totalsEvent(scope cloud.Scope, region string) ([]byte, bool) {
	ts, ok := b.cache.list(scope, region)
	if !ok {
		return nil, false
	}
	national, regions := totals(ts)
	rows := make([]totalsJSON, 0, len(regions))
	for _, r := range regions {
		rows = append(rows, totalRow(r))
	}
	data, err := json.Marshal(map[string]any{"national": totalRow(national), "regions": rows})
	if err != nil {
		return nil, false
	}
	return append(append([]byte("event: totals\ndata: "), data...), '\n', '\n'), true
}

func (b *Hub) broadcast(msg func(*client) []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.clients {
		if m := msg(c); m != nil {
			b.send(c, m)
		}
	}
}

// send queues m to c (b.mu held).
func (b *Hub) send(c *client, m []byte) {
	select {
	case c.ch <- m:
		b.Pushed.Add(1)
	default: // too slow: drop it; the browser reconnects and gets a snapshot
		c.drop()
		delete(b.clients, c)
	}
}

// tileEvent is a tile's markup as an SSE "tile" event.
func tileEvent(branch string, html template.HTML) ([]byte, error) {
	data, err := json.Marshal(map[string]string{"id": branch, "html": string(html)})
	if err != nil {
		return nil, err
	}
	return append(append([]byte("event: tile\ndata: "), data...), '\n', '\n'), nil
}

// live is the SSE stream of a browser: a snapshot of its tiles (read with its
// scope; none with snapshot=0, the overview's virtualised page that fetches
// the tiles it shows from /tiles), its totals when the cache is ready, then
// every change and the totals it changes.
func (h *Handler) live(w http.ResponseWriter, r *http.Request, q *req) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	// A server shutting down waits for its active requests: end the streams
	// then, or every connected browser would hold the shutdown to its timeout.
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok {
		if _, seen := h.hub.servers.LoadOrStore(srv, true); !seen {
			srv.RegisterOnShutdown(h.hub.dropAll)
		}
	}
	region := r.URL.Query().Get("region")
	c := &client{scope: q.P.Scope(), region: region, lang: q.Lang, ch: make(chan []byte, liveQueue), gone: make(chan struct{})}
	// Registered before the snapshot is read: a change after the read is
	// also queued (a tile twice is harmless; a tile missed is not).
	h.hub.mu.Lock()
	h.hub.clients[c] = struct{}{}
	h.hub.mu.Unlock()
	defer func() {
		h.hub.mu.Lock()
		delete(h.hub.clients, c)
		h.hub.mu.Unlock()
	}()
	var tiles []*shownTile
	if r.URL.Query().Get("snapshot") != "0" {
		var err error
		if tiles, err = h.scopedTiles(r.Context(), c.scope, region); err != nil {
			h.fail(w, r, q, err)
			return
		}
	}
	// The cache's version once this client is registered: a page rendered
	// at that version has missed nothing (app.js fetches its tiles again
	// otherwise).
	seq := []byte("event: seq\ndata: " + h.hub.cache.version() + "\n\n")
	totals, _ := h.hub.totalsEvent(c.scope, region)
	// The server's read and write timeouts end a request that takes too
	// long; a stream lives on: no read deadline (the request is read), and a
	// write deadline pushed past each next write (a client that stops
	// reading is still cut off).
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	extend := func() { _ = rc.SetWriteDeadline(time.Now().Add(h.cfg.RecheckEvery + 30*time.Second)) }
	extend()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("retry: 2000\n\n"))
	_, _ = w.Write(seq)
	for _, t := range tiles {
		m, err := tileEvent(t.Branch, t.HTML(c.lang))
		if err != nil {
			h.log.Error("live snapshot", "err", err)
			return
		}
		_, _ = w.Write(m)
	}
	_, _ = w.Write(totals)
	fl.Flush()
	ping := time.NewTicker(h.cfg.RecheckEvery)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.gone:
			return
		case m := <-c.ch:
			extend()
			// One entry, one flush: the browser handles a chunk at a time.
			if _, err := w.Write(m); err != nil {
				return
			}
			fl.Flush()
		case <-ping.C:
			if !h.stillAllowed(r.Context(), q) {
				return // the browser reconnects with its current rights, or to the sign-in
			}
			extend()
			if _, err := w.Write([]byte(": ping\n\n")); err != nil {
				return
			}
			fl.Flush()
		}
	}
}
