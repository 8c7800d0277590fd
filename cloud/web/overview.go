package web

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

var errNotFound = queue.Errorf(queue.CodeNotFound, "hq.not_found")

// overviewPerPage is how many tiles a page of the overview shows without
// JavaScript (app.js then shows only the tiles in view, fetched from /tiles).
const overviewPerPage = 48

// maxWindow caps the tiles of one /tiles answer.
const maxWindow = 240

type overviewData struct {
	// Tiles are the page's tiles (a page of the search's matches).
	Tiles   []*shownTile
	Regions []string
	Region  string
	Sort    string
	// Query is the search (branch ID, name or region); Matched counts the
	// tiles it keeps, Shown the tiles in scope and region before it.
	Query          string
	Matched, Shown int
	Page, Pages    int
	Prev, Next     template.URL
	Offset         int
	Alerts         []cloud.HQAlert
	Dead           []cloud.DeadJob
	// National and RegionTotals sum the tiles in scope and region
	// (totals.go), whatever the search.
	National     total
	RegionTotals []total
	// Version is the tile cache's version the page shows ("" when read
	// from the store): the live stream's "seq" event is compared with it.
	Version string
}

// overviewQuery is the overview's query string: region, sort, q (search)
// and page. A page that is not a positive number is invalid (400); one
// past the last shows the last.
type overviewQuery struct {
	Region, Sort, Q string
	Page            int
}

func readOverviewQuery(r *http.Request) (overviewQuery, error) {
	v := r.URL.Query()
	o := overviewQuery{Region: v.Get("region"), Sort: v.Get("sort"), Q: v.Get("q"), Page: 1}
	if s := v.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return o, queue.Errorf(queue.CodeInvalid, "hq.page.invalid", s)
		}
		o.Page = n
	}
	return o, nil
}

// link is the overview's URL for page n with the same filters.
func (o overviewQuery) link(n int) template.URL {
	v := url.Values{}
	for k, s := range map[string]string{"region": o.Region, "sort": o.Sort, "q": o.Q} {
		if s != "" {
			v.Set(k, s)
		}
	}
	v.Set("page", strconv.Itoa(n))
	return template.URL("/?" + v.Encode()) // #nosec G203 -- built from url.Values
}

// scopedTiles returns the tiles within scope (and region, when set) by
// branch ID: from the hub's cache when it is ready, else from the store.
func (h *Handler) scopedTiles(ctx context.Context, scope cloud.Scope, region string) ([]*shownTile, error) {
	ts, _, err := h.scopedTilesAt(ctx, scope, region)
	return ts, err
}

// scopedTilesAt is scopedTiles and the tile cache's version they come from
// ("" when read from the store).
func (h *Handler) scopedTilesAt(ctx context.Context, scope cloud.Scope, region string) ([]*shownTile, string, error) {
	if !h.cfg.OverviewFromStore {
		if ts, version, ok := h.hub.cache.listAt(scope, region); ok {
			return ts, version, nil
		}
	}
	ts, err := h.store.Overview(ctx, scope, cloud.OverviewFilter{Region: region})
	out := wrapTiles(ts)
	sortTiles(out, "") // the cache's order (the store's collation may differ)
	return out, "", err
}

// regionsOf lists the tiles' regions, sorted, without "".
func regionsOf(ts []*shownTile) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range ts {
		if t.Region != "" && !seen[t.Region] {
			seen[t.Region] = true
			out = append(out, t.Region)
		}
	}
	slices.Sort(out)
	return out
}

// inRegion keeps the tiles of region (all when region is "").
func inRegion(ts []*shownTile, region string) []*shownTile {
	if region == "" {
		return ts
	}
	out := make([]*shownTile, 0, len(ts))
	for _, t := range ts {
		if t.Region == region {
			out = append(out, t)
		}
	}
	return out
}

// overview is HQ's national page: totals, alerts, the search and a page of
// tiles. Every tile in scope is summed but only a page is rendered: at
// 5,000 branches the page stays the size of 48 tiles, and app.js shows the
// rest as they scroll into view.
func (h *Handler) overview(w http.ResponseWriter, r *http.Request, q *req) {
	ctx := r.Context()
	o, err := readOverviewQuery(r)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	d := overviewData{Region: o.Region, Sort: o.Sort, Query: o.Q}
	var (
		all    []*shownTile
		wg     sync.WaitGroup
		e1, e2 error
	)
	wg.Add(2)
	go func() { defer wg.Done(); all, d.Version, e1 = h.scopedTilesAt(ctx, q.P.Scope(), "") }()
	go func() { defer wg.Done(); d.Alerts, e2 = h.store.OpenAlerts(ctx, q.P.Scope()) }()
	wg.Wait()
	if err := errors.Join(e1, e2); err != nil {
		h.fail(w, r, q, err)
		return
	}
	d.Regions = regionsOf(all)
	sel := inRegion(all, o.Region)
	d.National, d.RegionTotals = totals(sel)
	d.Shown = len(sel)
	matched := searchTiles(sel, o.Q)
	if o.Sort != "" && o.Sort != "name" { // a fresh slice: sorted in place
		sortTiles(matched, o.Sort)
	}
	d.Matched = len(matched)
	d.Pages = max(1, (len(matched)+overviewPerPage-1)/overviewPerPage)
	d.Page = min(o.Page, d.Pages)
	d.Offset = (d.Page - 1) * overviewPerPage
	d.Tiles = matched[d.Offset:min(len(matched), d.Offset+overviewPerPage)]
	if d.Page > 1 {
		d.Prev = o.link(d.Page - 1)
	}
	if d.Page < d.Pages {
		d.Next = o.link(d.Page + 1)
	}
	if h.cfg.DeadLetters != nil && len(sel) > 0 {
		ids := make([]string, len(sel))
		for i, t := range sel {
			ids[i] = t.Branch
		}
		dead, err := h.cfg.DeadLetters(ctx, ids, 20)
		if err != nil {
			h.log.Error("dead letters", "err", err) // the overview stays useful without them
		}
		d.Dead = dead
	}
	h.render(w, http.StatusOK, "overview", q.view("overview", d))
}

// tilesWindow is the overview's tiles from offset (limit of them, at most
// maxWindow) with the page's filters and search: the markup of the tiles
// app.js puts in view, and how many match.
func (h *Handler) tilesWindow(w http.ResponseWriter, r *http.Request, q *req) {
	o, err := readOverviewQuery(r)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	v := r.URL.Query()
	offset, limit := 0, overviewPerPage
	for _, p := range []struct {
		key string
		dst *int
	}{{"offset", &offset}, {"limit", &limit}} {
		if s := v.Get(p.key); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				h.fail(w, r, q, queue.Errorf(queue.CodeInvalid, "hq.window.invalid", s))
				return
			}
			*p.dst = n
		}
	}
	limit = min(limit, maxWindow)
	all, err := h.scopedTiles(r.Context(), q.P.Scope(), o.Region)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	matched := searchTiles(all, o.Q)
	if o.Sort != "" && o.Sort != "name" { // a fresh slice: sorted in place
		sortTiles(matched, o.Sort)
	}
	offset = min(offset, len(matched))
	var b strings.Builder
	for _, t := range matched[offset:min(len(matched), offset+limit)] {
		b.WriteString(string(t.HTML(q.Lang)))
		b.WriteByte('\n')
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, map[string]any{"total": len(matched), "shown": len(all), "offset": offset,
		"status": tilesStatus(q.Lang, len(matched), len(all), o.Q), "html": b.String()})
}

// tilesStatus says how many branches the overview lists ("5.000 sucursales";
// "3 de 5.000 sucursales coinciden con «x»" while searching).
func tilesStatus(l i18n.Lang, matched, shown int, query string) string {
	if strings.TrimSpace(query) == "" {
		return i18n.T(l, "hq.overview.count", thousands(l, shown))
	}
	return i18n.T(l, "hq.overview.matched", thousands(l, matched), thousands(l, shown), query)
}

// TilesStatus is tilesStatus in the page's language.
func (v *view) TilesStatus(d overviewData) string {
	return tilesStatus(v.Lang, d.Matched, d.Shown, d.Query)
}

// thousands writes n with the language's thousands separator (5.000 / 5,000).
func thousands(l i18n.Lang, n int) string {
	s := strconv.Itoa(n)
	sep := "."
	if l == i18n.EN {
		sep = ","
	}
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + sep + s[i:]
	}
	return s
}

// alertsFragment is the alert list, re-fetched by the page on an "alerts" event.
func (h *Handler) alertsFragment(w http.ResponseWriter, r *http.Request, q *req) {
	alerts, err := h.store.OpenAlerts(r.Context(), q.P.Scope())
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	v := q.view("overview", overviewData{Alerts: alerts})
	if err := h.pages["overview"].ExecuteTemplate(w, "alerts", v); err != nil {
		h.log.Error("render alerts", "err", err)
	}
}

func (h *Handler) ackAlert(w http.ResponseWriter, r *http.Request, q *req) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.fail(w, r, q, queue.Errorf(queue.CodeNotFound, "hq.alert.not_found", r.PathValue("id")))
		return
	}
	branch, err := h.store.AckAlert(r.Context(), q.P.Scope(), id, q.P.Actor())
	if queue.ErrorCode(err) == queue.CodeNotFound { // unknown, cleared or out of scope: audited
		h.deny(r, q, "alert:"+r.PathValue("id"))
	}
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	h.audit(r, q, cloud.AuditAlertAck, branch, r.PathValue("id"))
	h.hub.mark(branch)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (h *Handler) apiOverview(w http.ResponseWriter, r *http.Request, q *req) {
	tiles, err := h.scopedTiles(r.Context(), q.P.Scope(), r.URL.Query().Get("region"))
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	if s := r.URL.Query().Get("sort"); s != "" && s != "name" {
		sortTiles(tiles, s)
	}
	type tileJSON struct {
		cloud.Tile
		SLA float64 `json:"sla_pct"`
	}
	out := make([]tileJSON, len(tiles))
	for i, t := range tiles {
		out[i] = tileJSON{t.Tile, t.SLA()}
	}
	writeJSON(w, map[string]any{"branches": out})
}

func (h *Handler) apiAlerts(w http.ResponseWriter, r *http.Request, q *req) {
	alerts, err := h.store.OpenAlerts(r.Context(), q.P.Scope())
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	writeJSON(w, map[string]any{"alerts": alerts})
}
