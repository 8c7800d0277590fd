package http

import "net/http"

func (s *Server) executives(w http.ResponseWriter, r *http.Request) {
	xs, err := s.cfg.Store.Executives(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	type exec struct {
		ID       string   `json:"id,omitempty"`
		Name     string   `json:"name"`
		Services []string `json:"services"`
		Counter  *int     `json:"counter"`
		State    string   `json:"state"`
		// Manager and ChangedToday: the branch manager role, and services
		// that are the manager's change for today.
		Manager      bool `json:"manager"`
		ChangedToday bool `json:"changed_today"`
	}
	ids := s.signedIn(r)
	out := []exec{}
	for _, x := range xs {
		xv := executiveView(x.Executive)
		v := exec{Name: xv.Name, Services: xv.Services, State: x.State, Manager: x.Manager, ChangedToday: x.ChangedToday}
		if ids {
			v.ID = xv.ID
		}
		if x.Counter != 0 {
			c := x.Counter
			v.Counter = &c
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"executives": out})
}
