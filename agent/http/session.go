package http

import "net/http"

// signedIn reports whether the request carries a live session's token.
// Executive IDs are what a PIN guess needs, so only signed-in callers see
// them; kiosks, TVs and the sign-in page see names.
func (s *Server) signedIn(r *http.Request) bool {
	tok, err := bearer(r)
	if err != nil {
		return false
	}
	_, err = s.cfg.Store.Session(r.Context(), tok)
	return err == nil || s.isManager(r)
}

func (s *Server) sessionCreate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Executive string `json:"executive"`
		PIN       string `json:"pin"`
		Counter   int    `json:"counter"`
	}
	if err := s.decode(w, r, &body, false); err != nil {
		s.problem(w, r, err)
		return
	}
	tok, si, err := s.cfg.Store.Login(r.Context(), body.Executive, body.PIN, body.Counter, clientKey(r))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	v := sessionView(si)
	writeJSON(w, http.StatusCreated, struct {
		Token string `json:"token"`
		sessionJSON
	}{tok, v})
}

func (s *Server) sessionGet(w http.ResponseWriter, r *http.Request) {
	si, ok := s.currentSession(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, sessionView(si))
}

func (s *Server) sessionDelete(w http.ResponseWriter, r *http.Request) {
	tok, err := bearer(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if err := s.cfg.Store.Logout(r.Context(), tok); err != nil {
		s.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) sessionPause(w http.ResponseWriter, r *http.Request) {
	tok, err := bearer(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var body struct {
		Reason string `json:"reason"`
		Code   string `json:"code"`
	}
	if err := s.decode(w, r, &body, true); err != nil {
		s.problem(w, r, err)
		return
	}
	si, err := s.cfg.Store.PauseFor(r.Context(), tok, body.Code, body.Reason)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sessionView(si))
}

func (s *Server) sessionResume(w http.ResponseWriter, r *http.Request) {
	tok, err := bearer(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	si, err := s.cfg.Store.Resume(r.Context(), tok)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sessionView(si))
}
