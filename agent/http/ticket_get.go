package http

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

func (s *Server) ticketGet(w http.ResponseWriter, r *http.Request) {
	t, err := s.cfg.Store.Ticket(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ticketView(t))
}
