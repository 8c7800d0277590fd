package http

import "net/http"

func (s *Server) statsToday(w http.ResponseWriter, r *http.Request) {
	st, err := s.cfg.Store.StatsToday(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	type bySvc struct {
		Service   string  `json:"service"`
		Issued    int     `json:"issued"`
		Served    int     `json:"served"`
		MeanWaitS int     `json:"mean_wait_s"`
		SLAPct    float64 `json:"sla_pct"`
		Decided   int     `json:"decided"`
	}
	by := []bySvc{}
	for _, b := range st.ByService {
		by = append(by, bySvc{b.Service, b.Issued, b.Served, seconds(b.MeanWait), b.SLAPct, b.Decided})
	}
	writeJSON(w, http.StatusOK, map[string]any{"day": st.Day, "issued": st.Issued, "served": st.Served,
		"no_show": st.NoShow, "cancelled": st.Cancelled, "waiting": st.Waiting, "mean_wait_s": seconds(st.MeanWait),
		"p90_wait_s": seconds(st.P90Wait), "sla_pct": st.SLAPct, "decided": st.Decided, "waiting_over": st.WaitingOver,
		"by_service": by})
}
