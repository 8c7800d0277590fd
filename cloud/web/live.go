package web

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/shared/i18n"
)

// Hub fans change notifications out to this process's browsers. It listens
// through Config.Changes (cloud.ChangesChannel); notifications are
// coalesced for FlushEvery, the changed branches' tiles are read once, rendered
// once per language and pushed to every client whose scope allows the branch.
// After a (re)connect every tile is re-read, since notifications sent while
// disconnected are lost. Any replica serves any browser.
type Hub struct {
	h       *Handler
	mu      sync.Mutex
	clients map[*client]struct{}
	dirty   map[string]struct{}
	all     bool
	alerts  bool // alerts changed (hq.AlertsChanged) since the last push
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
	scope hq.Scope
	lang  i18n.Lang
	ch    chan []byte
	gone  chan struct{}
	once  sync.Once
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
	case hq.AlertsChanged:
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
			f := hq.OverviewFilter{}
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

// push re-reads tiles and sends them. Alerts are evaluated apart (the
// cloud's alert loop), which announces changes with hq.AlertsChanged.
func (b *Hub) push(ctx context.Context, f hq.OverviewFilter) error {
	tiles, err := b.h.store.Overview(ctx, hq.AllBranches, f)
	if err != nil {
		return err
	}
	for _, t := range tiles {
		msgs := map[i18n.Lang][]byte{}
		for _, l := range []i18n.Lang{i18n.ES, i18n.EN} {
			m, err := b.h.tileEvent(t, l)
			if err != nil {
				return err
			}
			msgs[l] = m
		}
		b.broadcast(func(c *client) []byte {
			if !c.scope.Allows(t.Branch, t.Region) {
				return nil
			}
			return msgs[c.lang]
		})
	}
	return nil
}

func (b *Hub) broadcast(msg func(*client) []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.clients {
		m := msg(c)
		if m == nil {
			continue
		}
		select {
		case c.ch <- m:
			b.Pushed.Add(1)
		default: // too slow: drop it; the browser reconnects and gets a snapshot
			c.drop()
			delete(b.clients, c)
		}
	}
}

// tileEvent renders a tile as an SSE "tile" event.
func (h *Handler) tileEvent(t hq.Tile, l i18n.Lang) ([]byte, error) {
	data, err := json.Marshal(map[string]string{"id": t.Branch, "html": string(tileHTML(t, l))})
	if err != nil {
		return nil, err
	}
	return append(append([]byte("event: tile\ndata: "), data...), '\n', '\n'), nil
}

// live is the SSE stream of a browser: a snapshot of its tiles (read with its
// scope), then every change.
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
	c := &client{scope: q.P.Scope(), lang: q.Lang, ch: make(chan []byte, 256), gone: make(chan struct{})}
	h.hub.mu.Lock()
	h.hub.clients[c] = struct{}{}
	h.hub.mu.Unlock()
	defer func() {
		h.hub.mu.Lock()
		delete(h.hub.clients, c)
		h.hub.mu.Unlock()
	}()
	tiles, err := h.store.Overview(r.Context(), c.scope, hq.OverviewFilter{Region: r.URL.Query().Get("region")})
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
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
	for _, t := range tiles {
		m, err := h.tileEvent(t, c.lang)
		if err != nil {
			h.log.Error("live snapshot", "err", err)
			return
		}
		_, _ = w.Write(m)
	}
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
			if _, err := w.Write(m); err != nil {
				return
			}
			for n := len(c.ch); n > 0; n-- { // batch what is queued
				if _, err := w.Write(<-c.ch); err != nil {
					return
				}
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
