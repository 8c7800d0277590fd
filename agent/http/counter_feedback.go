package http

import (
	"net/http"
)

// counterFeedback is POST /api/v1/counters/{counter}/feedback: the counter
// tablet's answer for the last visit finished there (no sign-in: the tablet
// is a device, like the kiosk; it rates only a visit that just ended, once).
func (s *Server) counterFeedback(w http.ResponseWriter, r *http.Request) {
	counter, err := counterParam(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var body struct {
		CSAT int  `json:"csat"`
		NPS  *int `json:"nps"`
	}
	if err := s.decode(w, r, &body, false); err != nil {
		s.problem(w, r, err)
		return
	}
	number, err := s.cfg.Store.CounterFeedback(r.Context(), counter, body.CSAT, body.NPS)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"number": number})
}

// sessionScores is GET /api/v1/sessions/current/scores: the signed-in
// executive's own customer scores (CSAT, NPS, answers over HQ's window).
func (s *Server) sessionScores(w http.ResponseWriter, r *http.Request) {
	si, ok := s.currentSession(w, r)
	if !ok {
		return
	}
	sc, err := s.cfg.Store.ExecutiveScore(r.Context(), si.Executive.ID)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sc)
}
