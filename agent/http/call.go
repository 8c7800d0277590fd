package http

import (
	"net/http"
	"strconv"
	"time"

	"github.com/ticketero/ticketero/shared/queue"
)

func (s *Server) calls(w http.ResponseWriter, r *http.Request) {
	limit := 10
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			s.problem(w, r, queue.Errorf(queue.CodeInvalid, "request.invalid_param", "limit", truncate(v)))
			return
		}
		limit = n
	}
	cs, err := s.cfg.Store.Calls(r.Context(), limit)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	type call struct {
		Ticket   string    `json:"ticket"`
		Number   string    `json:"number"`
		Service  string    `json:"service"`
		Counter  int       `json:"counter"`
		CalledAt time.Time `json:"called_at"`
		Recall   int       `json:"recall"`
		// Appointment: an on-time appointment's ticket ("Hora agendada").
		Appointment bool `json:"appointment,omitempty"`
	}
	out := []call{}
	for _, c := range cs {
		out = append(out, call{c.Ticket, c.Number, c.Service, c.Counter, c.CalledAt.UTC(), c.Recall, c.Booked})
	}
	writeJSON(w, http.StatusOK, map[string]any{"calls": out})
}
