package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/ticketero/ticketero/shared/queue"
)

// The configuration API's executives of a branch's draft (api_config.go).

// apiPutExecutive is PUT /branches/{id}/executives/{exec}: add or change an
// executive (name, services); his PIN is set at the branch.
func (h *Handler) apiPutExecutive(w http.ResponseWriter, r *http.Request, q *req) {
	var in struct {
		Name     *string  `json:"name"`
		Services []string `json:"services"`
	}
	if err := decodeBody(r, &in); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	if in.Name == nil {
		h.apiFail(w, r, q, required("name"), 0)
		return
	}
	e := queue.Executive{ID: r.PathValue("exec"), Name: *in.Name}
	for _, s := range in.Services {
		e.Services = append(e.Services, strings.ToUpper(strings.TrimSpace(s)))
	}
	h.apiChange(w, r, q, func(ctx context.Context, id string) (string, error) { return h.putExecutive(ctx, id, e) })
}

func (h *Handler) apiDeleteExecutive(w http.ResponseWriter, r *http.Request, q *req) {
	h.apiDelete(w, r, q, func(ctx context.Context, id string) (string, error) {
		return h.deleteExecutive(ctx, id, r.PathValue("exec"))
	})
}
