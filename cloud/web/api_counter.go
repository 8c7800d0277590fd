package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/ticketero/ticketero/shared/queue"
)

// The configuration API's counters of a branch's draft (api_config.go).

// counterNumber reads {number}. Errors: invalid hq.counter.invalid.
func counterNumber(r *http.Request) (int, error) {
	n, err := strconv.Atoi(r.PathValue("number"))
	if err != nil {
		return 0, queue.Errorf(queue.CodeInvalid, "hq.counter.invalid", clipText(r.PathValue("number"), 16))
	}
	return n, nil
}

// apiPutCounter is PUT /branches/{id}/counters/{number}: add or rename.
func (h *Handler) apiPutCounter(w http.ResponseWriter, r *http.Request, q *req) {
	var in struct {
		Name string `json:"name"`
	}
	n, err := counterNumber(r)
	if err == nil {
		err = decodeBody(r, &in)
	}
	if err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	c := queue.Counter{Number: n, Name: strings.TrimSpace(in.Name)}
	h.apiChange(w, r, q, func(ctx context.Context, id string) (string, error) { return h.putCounter(ctx, id, c) })
}

func (h *Handler) apiDeleteCounter(w http.ResponseWriter, r *http.Request, q *req) {
	if _, err := counterNumber(r); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	h.apiDelete(w, r, q, func(ctx context.Context, id string) (string, error) {
		return h.deleteCounter(ctx, id, r.PathValue("number"))
	})
}
