package web

import (
	"net/http"

	"github.com/ticketero/ticketero/cloud/postgres/hq"
)

// branchDetail reads a branch view within the principal's scope (a refusal
// is audited by fail). Viewing the day's tickets is a view of personal data (visit
// history linked to a customer by hash and chat token): audited too.
func (h *Handler) branchDetail(r *http.Request, q *req) (hq.BranchDetail, error) {
	id := r.PathValue("id")
	d, err := h.store.BranchView(r.Context(), q.P.Scope(), id, r.URL.Query().Get("day"))
	if err != nil { // a refusal (forbidden) is audited by fail
		return d, err
	}
	h.audit(r, q, hq.AuditPersonalView, "branch:"+id, "tickets "+d.Day)
	return d, nil
}

func (h *Handler) branch(w http.ResponseWriter, r *http.Request, q *req) {
	d, err := h.branchDetail(r, q)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	h.render(w, http.StatusOK, "branch", q.view("overview", d))
}

func (h *Handler) apiBranch(w http.ResponseWriter, r *http.Request, q *req) {
	d, err := h.branchDetail(r, q)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	writeJSON(w, d)
}
