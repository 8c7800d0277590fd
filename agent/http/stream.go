package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
)

// streamTicket is a ticket in a stream event: no personal data, no token.
type streamTicket struct {
	ID      string `json:"id"`
	Number  string `json:"number"`
	Service string `json:"service"`
	Status  string `json:"status"`
	Counter *int   `json:"counter"`
	Recall  int    `json:"recall"`
	// Appointment: an on-time appointment's ticket (the TV marks it).
	Appointment bool `json:"appointment,omitempty"`
}

type streamEvent struct {
	Type      string                `json:"type"`
	Seq       uint64                `json:"seq"`
	Ticket    *streamTicket         `json:"ticket"`
	Executive *agent.ExecutiveState `json:"executive"`
	// Waiting is every queue's waiting count after the change (ticket and
	// day events): screens showing counts need not refetch.
	Waiting map[string]int `json:"waiting,omitempty"`
}

// live reports whether screens need events of type t: security events
// (failed sign-ins, lockouts, admin changes) are for HQ's audit only.
func live(t event.Type) bool {
	switch t {
	case event.ExecutiveLoginFailed, event.ExecutiveLocked, event.ExecutiveAdmin, event.ManagerLoginFailed, event.ManagerSignedIn:
		return false
	}
	return true
}

// stream is GET /api/v1/stream: Server-Sent Events of every committed change
// (id = outbox seq, event = type), a hello on connect and a ping comment
// every Ping. A client that falls behind is disconnected and must refetch.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	ch, seq, cancel := s.cfg.Store.Broker().Subscribe(256)
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	hello, _ := json.Marshal(map[string]any{"branch": s.cfg.Store.BranchInfo(r.Context()).Branch, "seq": seq})
	if _, err := fmt.Fprintf(w, "retry: 2000\nevent: hello\ndata: %s\n\n", hello); err != nil {
		return
	}
	if rc.Flush() != nil {
		return
	}
	ping := time.NewTicker(s.cfg.Ping)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.stop:
			return
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case n, ok := <-ch:
			if !ok {
				return // fell behind: the client reconnects and refetches
			}
			if !live(n.Type) {
				continue
			}
			ev := streamEvent{Type: string(n.Type), Seq: n.Seq, Executive: n.Executive, Waiting: n.Waiting}
			if t := n.Ticket; t != nil {
				st := &streamTicket{ID: t.ID, Number: t.Display(), Service: t.Service, Status: string(t.Status), Recall: t.Recalls,
					Appointment: t.Booked()}
				if t.Counter != 0 {
					c := t.Counter
					st.Counter = &c
				}
				ev.Ticket = st
			}
			data, _ := json.Marshal(ev)
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", n.Seq, n.Type, data); err != nil {
				return
			}
			if len(ch) == 0 && rc.Flush() != nil {
				return
			}
		}
	}
}
