package web

import (
	"html/template"
	"net/http"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/queue"
)

// AuditFeedbackRead is the audit action of a reading of customers' comments.
const AuditFeedbackRead = "feedback.comments_read"

// maxComments bounds the comments shown or returned at once.
const maxComments = 200

type feedbackData struct {
	R        cloud.FeedbackReport
	Regions  []string
	Branches []cloud.BranchInfo
	Choices  cloud.FilterChoices
	Labels   map[string]string
	// Comments are shown only on request (audited), to supervisors and admins.
	Comments    []cloud.FeedbackComment
	ShowComment bool
	CanComments bool
	Query       template.URL // the comments link's query (queryLink)
}

// feedback is the HQ page of customers' satisfaction (CSAT, NPS, by wait band).
func (h *Handler) feedback(w http.ResponseWriter, r *http.Request, q *req) {
	ctx := r.Context()
	rep, err := h.store.FeedbackReport(ctx, q.P.Scope(), reportQuery(r))
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	d := feedbackData{R: rep, Query: queryLink(hqQuery(rep.Query).values()), CanComments: q.P.CanAck(), Labels: map[string]string{}}
	if d.Regions, err = h.store.Regions(ctx, q.P.Scope()); err != nil {
		h.fail(w, r, q, err)
		return
	}
	if d.Branches, err = h.store.Branches(ctx, q.P.Scope()); err != nil {
		h.fail(w, r, q, err)
		return
	}
	if d.Choices, err = h.store.Choices(ctx, q.P.Scope(), rep.Query.Branch, rep.Query.Region); err != nil {
		h.fail(w, r, q, err)
		return
	}
	var named []cloud.Choice
	switch rep.Query.GroupBy {
	case "service":
		named = d.Choices.Services
	case "executive":
		named = d.Choices.Executives
	}
	for _, c := range named {
		d.Labels[c.Value] = c.Label
	}
	if r.URL.Query().Get("comments") == "1" && d.CanComments {
		if d.Comments, err = h.comments(r, q, rep.Query); err != nil {
			h.fail(w, r, q, err)
			return
		}
		d.ShowComment = true
	}
	h.render(w, http.StatusOK, "feedback", q.view("feedback", d))
}

// comments reads the comments of query and audits who read them.
func (h *Handler) comments(r *http.Request, q *req, query cloud.ReportQuery) ([]cloud.FeedbackComment, error) {
	cs, err := h.store.FeedbackComments(r.Context(), q.P.Scope(), query, maxComments)
	if err != nil {
		return nil, err
	}
	h.audit(r, q, AuditFeedbackRead, "feedback", hqQuery(query).encode())
	return cs, nil
}

// apiFeedback is GET /hq/v1/feedback: CSAT and NPS of the query's answers.
func (h *Handler) apiFeedback(w http.ResponseWriter, r *http.Request, q *req) {
	rep, err := h.store.FeedbackReport(r.Context(), q.P.Scope(), reportQuery(r))
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	writeJSON(w, rep)
}

// apiFeedbackComments is GET /hq/v1/feedback/comments: the comments (masked),
// for supervisors and admins; every reading is audited.
func (h *Handler) apiFeedbackComments(w http.ResponseWriter, r *http.Request, q *req) {
	if !q.P.CanAck() {
		h.fail(w, r, q, queue.Errorf(queue.CodeForbidden, "hq.forbidden"))
		return
	}
	query := reportQuery(r)
	if err := query.Normalize(h.store.Now()); err != nil {
		h.fail(w, r, q, err)
		return
	}
	cs, err := h.comments(r, q, query)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	if cs == nil {
		cs = []cloud.FeedbackComment{}
	}
	writeJSON(w, map[string]any{"comments": cs})
}
