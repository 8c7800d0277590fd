package http

import (
	"net/http"
)

// ticketCallNext is POST /api/v1/counters/{counter}/call-next: 200 with the
// called ticket, 204 when nobody waits for the executive's services.
func (s *Server) ticketCallNext(w http.ResponseWriter, r *http.Request) {
	tok, err := bearer(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	counter, err := counterParam(r)
	if err != nil {
		s.problem(w, r, err)
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
