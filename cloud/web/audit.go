package web

import (
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// The audit page and its CSV export (/admin/audit, /admin/audit.csv; admins
// only); auditlabel.go puts the entries in words.

type auditData struct {
	Entries []cloud.AuditEntry
	From    string
	To      string
	Actor   string
	Action  string
	Query   template.URL // the CSV link's query (queryLink)
}

func auditFilter(r *http.Request) (cloud.AuditFilter, auditData, error) {
	v := r.URL.Query()
	d := auditData{From: v.Get("from"), To: v.Get("to"), Actor: v.Get("actor"), Action: v.Get("action"), Query: queryLink(v)}
	f := cloud.AuditFilter{Actor: d.Actor, Action: d.Action}
	for _, p := range []struct {
		s   string
		dst *time.Time
		add time.Duration
	}{{d.From, &f.From, 0}, {d.To, &f.To, 24 * time.Hour}} {
		if p.s == "" {
			continue
		}
		t, err := time.ParseInLocation(time.DateOnly, p.s, santiago)
		if err != nil {
			return f, d, queue.Errorf(queue.CodeInvalid, "hq.day.invalid", p.s)
		}
		*p.dst = t.Add(p.add)
	}
	return f, d, nil
}

func (h *Handler) auditPage(w http.ResponseWriter, r *http.Request, q *req) {
	f, d, err := auditFilter(r)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	if d.Entries, err = h.store.AuditLog(r.Context(), f); err != nil {
		h.fail(w, r, q, err)
		return
	}
	h.render(w, http.StatusOK, "audit", q.view("audit", d))
}

func (h *Handler) auditCSV(w http.ResponseWriter, r *http.Request, q *req) {
	f, d, err := auditFilter(r)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	f.Limit = 100000
	entries, err := h.store.AuditLog(r.Context(), f)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	h.audit(r, q, cloud.AuditExport, "audit", string(d.Query))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="ticketero-audit.csv"`)
	cw := newCSVWriter(w)
	T := func(k string) string { return i18n.T(q.Lang, k) }
	_ = cw.Write([]string{"id", T("hq.audit.when"), T("hq.audit.actor"), T("hq.audit.action"), T("hq.audit.code"), T("hq.audit.target"),
		T("hq.audit.detail"), T("hq.audit.ip"), T("hq.audit.count")})
	for _, e := range entries {
		// Local time as Excel reads a date and time; the code keeps the row
		// machine-readable.
		_ = cw.Write([]string{strconv.FormatInt(e.ID, 10), e.At.In(santiago).Format(time.DateTime), e.Actor, auditAction(q.Lang, e.Action),
			e.Action, e.Target, auditDetail(q.Lang, e.Detail), e.IP, strconv.Itoa(e.Count)})
	}
	cw.Flush()
}
