package http

import "net/http"

// health is GET /healthz: the process answers.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// ready is GET /readyz: the store answers (the database is open and migrated).
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Store.Ready(r.Context()); err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
