package web

import (
	"net/http"
	"strings"

	"github.com/ticketero/ticketero/shared/event"
)

// The configuration API's public holidays of the network (api_config.go).

// apiHolidays is GET /holidays?year=: the network's public holidays of a
// year (default: this one in Santiago).
func (h *Handler) apiHolidays(w http.ResponseWriter, r *http.Request, q *req) {
	year, err := h.yearParam(r)
	if err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	h.answerHolidays(w, r, q, year)
}

func (h *Handler) answerHolidays(w http.ResponseWriter, r *http.Request, q *req, year int) {
	list, err := h.store.Holidays(r.Context(), year)
	if err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	apiJSON(w, http.StatusOK, map[string]any{"year": year, "holidays": orEmpty(list)})
}

func (h *Handler) apiPutHoliday(w http.ResponseWriter, r *http.Request, q *req) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeBody(r, &in); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	d := event.Holiday{Date: r.PathValue("date"), Name: strings.TrimSpace(in.Name)}
	if err := h.putHoliday(r, q, d); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	h.answerHolidays(w, r, q, h.yearOf(d.Date))
}

func (h *Handler) apiDeleteHoliday(w http.ResponseWriter, r *http.Request, q *req) {
	if err := h.deleteHoliday(r, q, r.PathValue("date")); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
