package http

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/ticketero/ticketero/shared/queue"
)

// ticketCallNext is POST /api/v1/counters/{counter}/call-next: 200 with the
// called ticket, 204 when nobody waits for the executive's services.
func (s *Server) ticketCallNext(w http.ResponseWriter, r *http.Request) {
	tok, err := bearer(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	raw := chi.URLParam(r, "counter")
	counter, err := strconv.Atoi(raw)
	if err != nil || counter <= 0 {
		s.problem(w, r, queue.Errorf(queue.CodeInvalid, "request.invalid_param", "counter", truncate(raw)))
		return
	}
	t, err := s.cfg.Store.CallNext(r.Context(), tok, counter)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if t == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.called.WithLabelValues(t.Service).Inc()
	writeJSON(w, http.StatusOK, ticketView(*t))
}
