package http

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/queue"
)

// visitRoutes are the executive's counter actions beyond call-next: park and
// call back, call a specific ticket, serve a walk-in, the customer in front
// of him, and HQ's outcome codes.
func (s *Server) visitRoutes(r chi.Router) {
	r.Post("/tickets/{id}/park", s.ticketAct(queue.ActionPark))
	r.Post("/tickets/{id}/unpark", s.ticketAct(queue.ActionUnpark))
	r.Post("/tickets/{id}/call", s.ticketCall)
	r.Post("/counters/{counter}/walk-in", s.ticketWalkIn)
	r.Get("/sessions/current/customer", s.sessionCustomer)
	r.Get("/outcomes", s.outcomes)
}

func counterParam(r *http.Request) (int, error) {
	raw := chi.URLParam(r, "counter")
	counter, err := strconv.Atoi(raw)
	if err != nil || counter <= 0 {
		return 0, queue.Errorf(queue.CodeInvalid, "request.invalid_param", "counter", truncate(raw))
	}
	return counter, nil
}

// ticketCall is POST /api/v1/tickets/{id}/call: the executive calls this
// waiting ticket out of order, with a reason.
func (s *Server) ticketCall(w http.ResponseWriter, r *http.Request) {
	tok, err := bearer(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var body struct {
		Counter int    `json:"counter"`
		Reason  string `json:"reason"`
	}
	if err := s.decode(w, r, &body, false); err != nil {
		s.problem(w, r, err)
		return
	}
	t, err := s.cfg.Store.CallTicket(r.Context(), tok, body.Counter, chi.URLParam(r, "id"), body.Reason)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	s.called.WithLabelValues(t.Service).Inc()
	writeJSON(w, http.StatusOK, ticketView(t))
}

// ticketWalkIn is POST /api/v1/counters/{counter}/walk-in: 201 with the
// ticket issued and served at once.
func (s *Server) ticketWalkIn(w http.ResponseWriter, r *http.Request) {
	tok, err := bearer(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	counter, err := counterParam(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var body struct {
		Service  string `json:"service"`
		Priority string `json:"priority"`
		RUT      string `json:"rut"`
		Name     string `json:"name"`
	}
	if err := s.decode(w, r, &body, false); err != nil {
		s.problem(w, r, err)
		return
	}
	t, err := s.cfg.Store.WalkIn(r.Context(), tok, agent.WalkIn{Counter: counter, Service: body.Service,
		Priority: body.Priority, RUT: body.RUT, Name: body.Name})
	if err != nil {
		s.problem(w, r, err)
		return
	}
	s.issued.WithLabelValues(t.OriginService).Inc()
	w.Header().Set("Location", "/api/v1/tickets/"+t.ID)
	writeJSON(w, http.StatusCreated, ticketView(t))
}

type visitEventJSON struct {
	Type      string    `json:"type"`
	At        time.Time `json:"at"`
	Service   string    `json:"service"`
	Counter   int       `json:"counter,omitempty"`
	Executive string    `json:"executive,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

// sessionCustomer is GET /api/v1/sessions/current/customer[?ticket=id]: the
// customer in front of the signed-in executive (or one he parked). Personal
// data: never cached, only for the executive holding the ticket.
func (s *Server) sessionCustomer(w http.ResponseWriter, r *http.Request) {
	tok, err := bearer(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	c, err := s.cfg.Store.Customer(r.Context(), tok, r.URL.Query().Get("ticket"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	hist := []visitEventJSON{}
	for _, e := range c.History {
		hist = append(hist, visitEventJSON{e.Type, e.At.UTC(), e.Service, e.Counter, e.Executive, e.Detail})
	}
	var name, rut *string
	if c.Name != "" {
		name = &c.Name
	}
	if c.RUTMasked != "" {
		rut = &c.RUTMasked
	}
	// A booked customer's note for the executive and his slot's start.
	var note *string
	var start *time.Time
	if !c.Start.IsZero() {
		n, st := c.Note, c.Start.UTC()
		note, start = &n, &st
	}
	writeJSON(w, http.StatusOK, map[string]any{"ticket": ticketView(c.Ticket), "name": name, "rut_masked": rut,
		"priority": string(c.Ticket.Priority), "history": hist, "note": note, "appointment_start": start})
}

// outcomes is GET /api/v1/outcomes: HQ's visit outcome codes (no personal data).
func (s *Server) outcomes(w http.ResponseWriter, r *http.Request) {
	out := s.cfg.Store.Outcomes(r.Context())
	if out == nil {
		out = []queue.Outcome{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"outcomes": out})
}
