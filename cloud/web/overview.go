package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/shared/queue"
)

var errNotFound = queue.Errorf(queue.CodeNotFound, "hq.not_found")

type overviewData struct {
	Tiles   []hq.Tile
	Regions []string
	Region  string
	Sort    string
	Alerts  []hq.Alert
	Dead    []cloud.DeadJob
	// National and RegionTotals sum the tiles (totals.go).
	National     total
	RegionTotals []total
}

func (h *Handler) overview(w http.ResponseWriter, r *http.Request, q *req) {
	ctx := r.Context()
	f := hq.OverviewFilter{Region: r.URL.Query().Get("region"), Sort: r.URL.Query().Get("sort")}
	// The three reads are independent: run them on three pool connections.
	var (
		d          = overviewData{Region: f.Region, Sort: f.Sort}
		wg         sync.WaitGroup
		e1, e2, e3 error
	)
	wg.Add(3)
	go func() { defer wg.Done(); d.Tiles, e1 = h.store.Overview(ctx, q.P.Scope(), f) }()
	go func() { defer wg.Done(); d.Regions, e2 = h.store.Regions(ctx, q.P.Scope()) }()
	go func() { defer wg.Done(); d.Alerts, e3 = h.store.OpenAlerts(ctx, q.P.Scope()) }()
	wg.Wait()
	if err := errors.Join(e1, e2, e3); err != nil {
		h.fail(w, r, q, err)
		return
	}
	d.National, d.RegionTotals = totals(d.Tiles)
	if h.cfg.DeadLetters != nil && len(d.Tiles) > 0 {
		ids := make([]string, len(d.Tiles))
		for i, t := range d.Tiles {
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
	h.audit(r, q, hq.AuditAlertAck, branch, r.PathValue("id"))
	h.hub.mark(branch)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (h *Handler) apiOverview(w http.ResponseWriter, r *http.Request, q *req) {
	tiles, err := h.store.Overview(r.Context(), q.P.Scope(), hq.OverviewFilter{Region: r.URL.Query().Get("region"), Sort: r.URL.Query().Get("sort")})
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	type tileJSON struct {
		hq.Tile
		SLA float64 `json:"sla_pct"`
	}
	out := make([]tileJSON, len(tiles))
	for i, t := range tiles {
		out[i] = tileJSON{t, t.SLA()}
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
