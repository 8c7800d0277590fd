package http

import (
	"net/http"

	"github.com/ticketero/ticketero/agent"
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

// currentSession is the session of the request's bearer token; on a refusal
// it has answered the problem and returns false.
func (s *Server) currentSession(w http.ResponseWriter, r *http.Request) (agent.SessionInfo, bool) {
	tok, err := bearer(r)
	if err != nil {
		s.problem(w, r, err)
		return agent.SessionInfo{}, false
	}
	si, err := s.cfg.Store.Session(r.Context(), tok)
	if err != nil {
		s.problem(w, r, err)
		return agent.SessionInfo{}, false
	}
	return si, true
}
