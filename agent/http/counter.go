package http

import "net/http"

func (s *Server) counters(w http.ResponseWriter, r *http.Request) {
	type counter struct {
		Number        int     `json:"number"`
		Name          string  `json:"name"`
		Taken         bool    `json:"taken"`
		Executive     *string `json:"executive"`
		ExecutiveName *string `json:"executive_name"`
	}
	ids := s.signedIn(r)
	out := []counter{}
	for _, c := range s.cfg.Store.Counters(r.Context()) {
		v := counter{Number: c.Number, Name: c.Name, Taken: c.Executive != ""}
		if c.Executive != "" {
			name := c.ExecutiveName
			v.ExecutiveName = &name
			if ids {
				x := c.Executive
				v.Executive = &x
			}
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"counters": out})
}
