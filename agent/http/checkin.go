package http

import (
	"net/http"
	"time"
)

// checkIn is POST /api/v1/check-ins: the kiosk's "Tengo hora agendada". The
// customer gives his booking's 6-digit code or his RUT (one of them); a
// booking of today gets its ticket (201), a remote ticket taken from the
// phone is marked present (200). Attempts are limited per kiosk address
// (ClassCheckIn): codes are guessable. The answer carries no personal data
// but the ticket's link token, as the does (the kiosk prints its QR).
func (s *Server) checkIn(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Code string `json:"code"`
		RUT  string `json:"rut"`
	}
	if err := s.decode(w, r, &body, false); err != nil {
		s.problem(w, r, err)
		return
	}
	c, err := s.cfg.Store.CheckIn(r.Context(), body.Code, body.RUT)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	type appointmentJSON struct {
		ID    string    `json:"id"`
		Start time.Time `json:"start"`
		Late  bool      `json:"late"`
	}
	v := ticketView(c.Ticket)
	v.Token = c.Ticket.Token
	out := struct {
		Kind        string           `json:"kind"`
		Ticket      ticketJSON       `json:"ticket"`
		Appointment *appointmentJSON `json:"appointment,omitempty"`
	}{Kind: "remote", Ticket: v}
	status := http.StatusOK
	if a := c.Appointment; a != nil {
		out.Kind = "appointment"
		out.Appointment = &appointmentJSON{ID: a.ID, Start: a.Start.UTC(), Late: c.Late}
		status = http.StatusCreated
		s.issued.WithLabelValues(c.Ticket.OriginService).Inc()
		w.Header().Set("Location", "/api/v1/tickets/"+c.Ticket.ID)
	}
	writeJSON(w, status, out)
}
