package web

import (
	"net/http"
	"strings"

	"github.com/ticketero/ticketero/shared/event"
)

// The configuration API's schedule settings of a branch's draft (api_config.go).

// apiPutHours is PUT /branches/{id}/hours: the schedule settings, replaced
// whole (a weekday absent: the general hours; "": closed).
func (h *Handler) apiPutHours(w http.ResponseWriter, r *http.Request, q *req) {
	var in apiHours
	if err := decodeBody(r, &in); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	id := r.PathValue("id")
	hs := event.Hours{WeeklyHours: in.WeeklyHours, CloseGraceMin: in.CloseGraceMin, LastTicket: map[string]string{}}
	for k, v := range in.LastTicket {
		hs.LastTicket[strings.ToUpper(k)] = v
	}
	if err := h.putHours(r, q, id, hs); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	h.answerDraft(w, r, q, id, http.StatusOK)
}
