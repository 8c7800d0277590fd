package http

import (
	"net/http"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/queue"
)

func (s *Server) queues(w http.ResponseWriter, r *http.Request) {
	type tk struct {
		ID       string `json:"id"`
		Number   string `json:"number"`
		Priority string `json:"priority"`
		Position int    `json:"position"`
		WaitedS  int    `json:"waited_s"`
		// A ticket transferred to a counter or an executive (by name).
		TargetCounter int    `json:"target_counter,omitempty"`
		TargetName    string `json:"target_name,omitempty"`
		// An on-time appointment's ticket; a remote ticket whose customer
		// has not arrived (not counted in waiting, never called yet).
		Appointment bool `json:"appointment,omitempty"`
		Unchecked   bool `json:"unchecked,omitempty"`
	}
	type q struct {
		Service           string         `json:"service"`
		Name              string         `json:"name"`
		Waiting           int            `json:"waiting"`
		LongestWaitS      int            `json:"longest_wait_s"`
		TargetWaitS       int            `json:"target_wait_s"`
		ExecutivesServing int            `json:"executives_serving"`
		EstimatedWait     agent.Estimate `json:"estimated_wait"`
		Tickets           []tk           `json:"tickets"`
	}
	// ?tickets=none leaves the ticket lists out: the waiting-room display
	// shows only how many wait, and a busy branch's lists weigh tens of KB.
	withTickets := true
	switch v := r.URL.Query().Get("tickets"); v {
	case "", "all":
	case "none":
		withTickets = false
	default:
		s.problem(w, r, queue.Errorf(queue.CodeInvalid, "request.invalid_param", "tickets", truncate(v)))
		return
	}
	day, qs := s.cfg.Store.Queues(r.Context())
	out := []q{}
	for _, x := range qs {
		v := q{Service: x.Service, Name: x.Name, Waiting: x.Waiting, LongestWaitS: seconds(x.LongestWait),
			TargetWaitS: seconds(x.TargetWait), ExecutivesServing: x.ExecutivesServing, EstimatedWait: x.Estimate, Tickets: []tk{}}
		for _, t := range x.Tickets {
			if !withTickets {
				break
			}
			v.Tickets = append(v.Tickets, tk{t.ID, t.Number, string(t.Priority), t.Position, seconds(t.Waited), t.TargetCounter,
				t.TargetName, t.Booked, t.Unchecked})
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"day": day, "queues": out})
}
