package http

import (
	"net/http"

	"github.com/ticketero/ticketero/agent"
)

func (s *Server) services(w http.ResponseWriter, r *http.Request) {
	type svc struct {
		Code          string         `json:"code"`
		Name          string         `json:"name"`
		TargetWaitS   int            `json:"target_wait_s"`
		MeanServiceS  int            `json:"mean_service_s"`
		Priority      int            `json:"priority"`
		Waiting       int            `json:"waiting"`
		EstimatedWait agent.Estimate `json:"estimated_wait"`
		Open          bool           `json:"open"`
		Closed        *closedView    `json:"closed,omitempty"`
	}
	out := []svc{}
	for _, sv := range s.cfg.Store.Services(r.Context()) {
		out = append(out, svc{sv.Code, sv.Name, sv.TargetWaitS, sv.MeanServiceS, sv.Priority, sv.Waiting, sv.Estimate,
			sv.Closed == nil, closedOf(r, sv.Closed)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"services": out})
}
