package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/ticketero/ticketero/shared/queue"
)

// The configuration API's services of a branch's draft (api_config.go).

// apiServiceIn is a service's fields; nil ones are absent (PATCH keeps them,
// PUT requires name, target_wait_s and mean_service_s).
type apiServiceIn struct {
	Name         *string `json:"name"`
	TargetWaitS  *int    `json:"target_wait_s"`
	MeanServiceS *int    `json:"mean_service_s"`
	Priority     *int    `json:"priority"`
}

func (in apiServiceIn) apply(sv *queue.Service) {
	if in.Name != nil {
		sv.Name = strings.TrimSpace(*in.Name)
	}
	if in.TargetWaitS != nil {
		sv.TargetWaitS = *in.TargetWaitS
	}
	if in.MeanServiceS != nil {
		sv.MeanServiceS = *in.MeanServiceS
	}
	if in.Priority != nil {
		sv.Priority = *in.Priority
	}
}

// apiPutService is PUT /branches/{id}/services/{code}: add or replace a
// service of the draft.
func (h *Handler) apiPutService(w http.ResponseWriter, r *http.Request, q *req) {
	var in apiServiceIn
	if err := decodeBody(r, &in); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	for _, f := range []struct {
		name   string
		absent bool
	}{{"name", in.Name == nil}, {"target_wait_s", in.TargetWaitS == nil}, {"mean_service_s", in.MeanServiceS == nil}} {
		if f.absent {
			h.apiFail(w, r, q, required(f.name), 0)
			return
		}
	}
	sv := queue.Service{Code: strings.ToUpper(r.PathValue("code"))}
	in.apply(&sv)
	h.apiChange(w, r, q, func(ctx context.Context, id string) (string, error) { return h.putService(ctx, id, sv) })
}

// apiPatchService is PATCH /branches/{id}/services/{code}: change some of an
// existing service's fields. Errors: not_found hq.api.service_not_found.
func (h *Handler) apiPatchService(w http.ResponseWriter, r *http.Request, q *req) {
	var in apiServiceIn
	if err := decodeBody(r, &in); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	code := strings.ToUpper(r.PathValue("code"))
	h.apiChange(w, r, q, func(ctx context.Context, id string) (string, error) {
		c, err := h.store.BranchConfig(ctx, id)
		if err != nil {
			return "", err
		}
		for _, sv := range c.Services {
			if sv.Code == code {
				in.apply(&sv)
				return h.putService(ctx, id, sv)
			}
		}
		return "", queue.Errorf(queue.CodeNotFound, "hq.api.service_not_found", clipText(code, 16))
	})
}

func (h *Handler) apiDeleteService(w http.ResponseWriter, r *http.Request, q *req) {
	h.apiDelete(w, r, q, func(ctx context.Context, id string) (string, error) {
		return h.deleteService(ctx, id, strings.ToUpper(r.PathValue("code")))
	})
}
