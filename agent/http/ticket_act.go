package http

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/queue"
)

// ticketAct is POST /api/v1/tickets/{id}/<action> by a signed-in executive.
func (s *Server) ticketAct(action queue.Action) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, err := bearer(r)
		if err != nil {
			s.problem(w, r, err)
			return
		}
		a := agent.Act{Ticket: chi.URLParam(r, "id"), Action: action}
		switch action {
		case queue.ActionComplete:
			var body struct {
				Outcome  string   `json:"outcome"`
				Outcomes []string `json:"outcomes"`
			}
			if err := s.decode(w, r, &body, true); err != nil {
				s.problem(w, r, err)
				return
			}
			a.Outcome, a.Outcomes = body.Outcome, body.Outcomes
		case queue.ActionTransfer:
			var body struct {
				Service     string `json:"service"`
				KeepArrival *bool  `json:"keep_arrival"`
				First       bool   `json:"first"`
				Counter     int    `json:"counter"`
				Executive   string `json:"executive"`
			}
			if err := s.decode(w, r, &body, false); err != nil {
				s.problem(w, r, err)
				return
			}
			a.To, a.KeepArrival, a.First = body.Service, body.KeepArrival == nil || *body.KeepArrival, body.First
			a.ToCounter, a.ToExecutive = body.Counter, body.Executive
		case queue.ActionPark:
			var body struct {
				Reason string `json:"reason"`
			}
			if err := s.decode(w, r, &body, true); err != nil {
				s.problem(w, r, err)
				return
			}
			a.Reason = body.Reason
		default:
			var body struct{}
			if err := s.decode(w, r, &body, true); err != nil {
				s.problem(w, r, err)
				return
			}
		}
		t, err := s.cfg.Store.Act(r.Context(), tok, a)
		if err != nil {
			s.problem(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, ticketView(t))
	}
}
