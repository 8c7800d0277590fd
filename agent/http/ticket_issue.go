package http

import (
	"net/http"

	"github.com/ticketero/ticketero/agent"
)

// ticketIssue is POST /api/v1/tickets: 201 with the ticket, or 200 with the
// same ticket for a retry with the same Idempotency-Key.
func (s *Server) ticketIssue(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Service      string `json:"service"`
		RUT          string `json:"rut"`
		Priority     string `json:"priority"`
		Phone        string `json:"phone"`
		PhoneConsent bool   `json:"phone_consent"`
	}
	if err := s.decode(w, r, &body, false); err != nil {
		s.problem(w, r, err)
		return
	}
	t, replay, err := s.cfg.Store.Issue(r.Context(), agent.TicketRequest{Service: body.Service, RUT: body.RUT,
		Priority: body.Priority, Channel: "kiosk", IdempotencyKey: r.Header.Get("Idempotency-Key"),
		Phone: body.Phone, PhoneConsent: body.PhoneConsent})
	if err != nil {
		s.problem(w, r, err)
		return
	}
	status := http.StatusCreated
	if replay {
		status = http.StatusOK
	} else {
		s.issued.WithLabelValues(t.OriginService).Inc()
	}
	w.Header().Set("Location", "/api/v1/tickets/"+t.ID)
	v := ticketView(t)
	v.Token = t.Token
	writeJSON(w, status, v)
}
