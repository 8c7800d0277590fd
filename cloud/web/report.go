package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

type reportData struct {
	R        cloud.Report
	Regions  []string
	Branches []cloud.BranchInfo
	Choices  cloud.FilterChoices
	// Labels name a row's key where it is a code: a service's or an
	// executive's name when grouped by them.
	Labels  map[string]string
	Query   template.URL // the CSV links' query (queryLink)
	WaitSVG template.HTML
	HeatSVG template.HTML
}

func reportQuery(r *http.Request) cloud.ReportQuery {
	v := r.URL.Query()
	return cloud.ReportQuery{From: v.Get("from"), To: v.Get("to"), Branch: v.Get("branch"), Region: v.Get("region"),
		Service: v.Get("service"), Executive: v.Get("executive"), GroupBy: v.Get("group")}
}

func (q hqQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"from": q.From, "to": q.To, "branch": q.Branch, "region": q.Region,
		"service": q.Service, "executive": q.Executive, "group": q.GroupBy} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

func (q hqQuery) encode() string { return q.values().Encode() }

// queryLink is an encoded query for a link's href after its "?". It is typed
// as a URL so html/template keeps its "&" and "=": a plain string is escaped
// into one meaningless parameter (exports then ignored every filter).
func queryLink(v url.Values) template.URL {
	return template.URL(v.Encode()) // #nosec G203 -- url.Values.Encode has query-escaped every key and value
}

type hqQuery cloud.ReportQuery

func (h *Handler) reports(w http.ResponseWriter, r *http.Request, q *req) {
	ctx := r.Context()
	rep, err := h.store.Report(ctx, q.P.Scope(), reportQuery(r))
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	regions, err := h.store.Regions(ctx, q.P.Scope())
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	branches, err := h.store.Branches(ctx, q.P.Scope())
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	choices, err := h.store.Choices(ctx, q.P.Scope(), rep.Query.Branch, rep.Query.Region)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	labels := map[string]string{}
	var named []cloud.Choice
	switch rep.Query.GroupBy {
	case "service":
		named = choices.Services
	case "executive":
		named = choices.Executives
	}
	for _, c := range named {
		labels[c.Value] = c.Label
	}
	d := reportData{R: rep, Regions: regions, Branches: branches, Choices: choices, Labels: labels, Query: queryLink(hqQuery(rep.Query).values()),
		WaitSVG: waitChart(q.Lang, rep.Rows), HeatSVG: heatmapChart(q.Lang, rep)}
	h.render(w, http.StatusOK, "reports", q.view("reports", d))
}

func (h *Handler) apiReport(w http.ResponseWriter, r *http.Request, q *req) {
	rep, err := h.store.Report(r.Context(), q.P.Scope(), reportQuery(r))
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	writeJSON(w, rep)
}

// reportCSV exports one table of a report (summary or heatmap); audited.
func (h *Handler) reportCSV(w http.ResponseWriter, r *http.Request, q *req) {
	table := r.URL.Query().Get("table")
	if table == "" {
		table = "summary"
	}
	if table != "summary" && table != "heatmap" && !counterTable(table) {
		h.fail(w, r, q, queue.Errorf(queue.CodeInvalid, "hq.report.table", table))
		return
	}
	rep, err := h.store.Report(r.Context(), q.P.Scope(), reportQuery(r))
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	h.audit(r, q, cloud.AuditExport, "report:"+table, hqQuery(rep.Query).encode())
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="ticketero-%s-%s-%s.csv"`, table, rep.Query.From, rep.Query.To))
	cw := newCSVWriter(w)
	T := func(k string) string { return i18n.T(q.Lang, k) }
	f := func(x float64) string { return decimal(x, 1) }
	if counterTable(table) {
		writeCounterCSV(cw, table, rep, T, f)
	} else if table == "heatmap" {
		head := []string{T("hq.report.weekday")}
		for hr := range 24 {
			head = append(head, fmt.Sprintf("%02d", hr))
		}
		_ = cw.Write(head)
		for d := range 7 {
			row := []string{T(fmt.Sprintf("hq.dow.%d", d+1))}
			for hr := range 24 {
				row = append(row, strconv.Itoa(rep.Heatmap[d][hr]))
			}
			_ = cw.Write(row)
		}
	} else {
		_ = cw.Write([]string{T("hq.report.group." + rep.Query.GroupBy), T("hq.report.issued"), T("hq.report.served"),
			T("hq.report.noshow_pct"), T("hq.report.abandoned_pct"), T("hq.report.mean_wait_s"), T("hq.report.p90_wait_s"),
			T("hq.report.mean_service_s"), T("hq.report.sla_pct"), T("hq.report.walk_s"), T("hq.report.quoted_s"),
			T("hq.report.actual_s"), T("hq.report.within_quoted_pct"), T("hq.report.pref_served"), T("hq.report.pref_wait_s"),
			T("hq.report.pref_p90_s"), T("hq.report.still_waiting")})
		for _, x := range rep.Rows {
			_ = cw.Write([]string{x.Key, strconv.Itoa(x.Issued), strconv.Itoa(x.Served), f(x.NoShowPct), f(x.AbandonedPct),
				f(x.MeanWaitS), f(x.P90WaitS), f(x.MeanServiceS), f(x.SLAPct), f(x.MeanWalkS), f(x.MeanQuotedS),
				f(x.MeanActualS), f(x.WithinQuotedPct), strconv.Itoa(x.PrefServed), f(x.PrefMeanWaitS), f(x.PrefP90WaitS), strconv.Itoa(x.Waiting)})
		}
	}
	cw.Flush()
}
