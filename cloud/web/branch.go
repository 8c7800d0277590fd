package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/queue"
)

// ticketFilter reads the branch view's query: day, q (a ticket number),
// status, service, executive, page, per. A page or size that is not a number
// is invalid (400), like one out of range.
func ticketFilter(r *http.Request) (cloud.TicketFilter, error) {
	v := r.URL.Query()
	f := cloud.TicketFilter{Day: v.Get("day"), Search: v.Get("q"), Status: v.Get("status"), Service: v.Get("service"), Executive: v.Get("executive")}
	for _, p := range []struct {
		key string
		dst *int
	}{{"page", &f.Page}, {"per", &f.PerPage}} {
		s := v.Get(p.key)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return f, queue.Errorf(queue.CodeInvalid, "hq.page.invalid", s)
		}
		*p.dst = n
	}
	return f, nil
}

// branchDetail reads a branch view within the principal's scope (a refusal
// is audited by fail). Viewing the day's tickets is a view of personal data (visit
// history linked to a customer by hash and chat token): audited too.
func (h *Handler) branchDetail(r *http.Request, q *req) (cloud.BranchDetail, error) {
	id := r.PathValue("id")
	f, err := ticketFilter(r)
	if err != nil {
		return cloud.BranchDetail{}, err
	}
	d, err := h.store.BranchPage(r.Context(), q.P.Scope(), id, f)
	if err != nil { // a refusal (forbidden) is audited by fail
		return d, err
	}
	h.audit(r, q, cloud.AuditPersonalView, "branch:"+id, "tickets "+d.Day)
	return d, nil
}

// branchData is the branch page: the view, the filters' choices and the
// links to the neighbouring pages.
type branchData struct {
	cloud.BranchDetail
	Statuses   []string
	Choices    cloud.FilterChoices
	Prev, Next template.URL // links; "" when there is none
}

// pageLink links page n of the branch view with the same filters.
func pageLink(f cloud.TicketFilter, n int) template.URL {
	v := url.Values{}
	for k, s := range map[string]string{"day": f.Day, "q": f.Search, "status": f.Status, "service": f.Service, "executive": f.Executive} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if f.PerPage != cloud.DefaultPerPage {
		v.Set("per", strconv.Itoa(f.PerPage))
	}
	v.Set("page", strconv.Itoa(n))
	return template.URL("?" + v.Encode() + "#tickets") // #nosec: built from url.Values
}

func (h *Handler) branch(w http.ResponseWriter, r *http.Request, q *req) {
	d, err := h.branchDetail(r, q)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	choices, err := h.store.Choices(r.Context(), q.P.Scope(), d.ID, "")
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	bd := branchData{BranchDetail: d, Statuses: cloud.TicketStatuses, Choices: choices}
	if d.Filter.Page > 1 {
		bd.Prev = pageLink(d.Filter, d.Filter.Page-1)
	}
	if d.Filter.Page < d.Pages {
		bd.Next = pageLink(d.Filter, d.Filter.Page+1)
	}
	h.render(w, http.StatusOK, "branch", q.view("overview", bd))
}

func (h *Handler) apiBranch(w http.ResponseWriter, r *http.Request, q *req) {
	d, err := h.branchDetail(r, q)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	writeJSON(w, d)
}
