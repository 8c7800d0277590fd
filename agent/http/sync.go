package http

import "net/http"

func (s *Server) sync(w http.ResponseWriter, r *http.Request) {
	st, err := s.cfg.Store.SyncState(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	out := map[string]any{"mode": "standalone", "connected": false, "last_seq": st.LastSeq, "last_ack": st.LastAck,
		"backlog": st.Backlog(), "lag_s": nil, "last_ack_at": nil, "since": nil}
	if s.cfg.Link != nil {
		ls := s.cfg.Link.State()
		out["mode"], out["connected"] = ls.Mode, ls.Connected
		if !ls.Since.IsZero() {
			out["since"] = ls.Since.UTC()
		}
		if !ls.LastAckAt.IsZero() {
			out["last_ack_at"] = ls.LastAckAt.UTC()
			if st.Backlog() > 0 {
				out["lag_s"] = int(s.cfg.Now().Sub(ls.LastAckAt).Seconds())
			} else {
				out["lag_s"] = 0
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}
