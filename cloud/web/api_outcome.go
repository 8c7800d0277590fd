package web

import (
	"net/http"
	"strings"

	"github.com/ticketero/ticketero/shared/queue"
)

// The configuration API's visit outcome codes of the network (api_config.go).

// apiOutcomes is GET /outcomes: the network's visit outcome codes.
func (h *Handler) apiOutcomes(w http.ResponseWriter, r *http.Request, q *req) {
	list, err := h.store.Outcomes(r.Context())
	if err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	apiJSON(w, http.StatusOK, map[string]any{"outcomes": orEmpty(list)})
}

func (h *Handler) apiPutOutcome(w http.ResponseWriter, r *http.Request, q *req) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeBody(r, &in); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	if err := h.putOutcome(r, q, queue.Outcome{Code: strings.TrimSpace(r.PathValue("code")), Name: strings.TrimSpace(in.Name)}); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	h.apiOutcomes(w, r, q)
}

func (h *Handler) apiDeleteOutcome(w http.ResponseWriter, r *http.Request, q *req) {
	if err := h.deleteOutcome(r, q, r.PathValue("code")); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
