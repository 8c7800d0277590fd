package booking

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/queue"
)

func strLastCut(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+len(sep):], true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// apiBranches lists the bookable branches (q filters by name, region or ID).
func (h *Handler) apiBranches(w http.ResponseWriter, r *http.Request) {
	bs, err := h.bookable(r.Context())
	if err != nil {
		h.fail(w, r, h.storeError(r, err))
		return
	}
	out := search(bs, r.URL.Query().Get("q"))
	if out == nil {
		out = []cloud.BookableBranch{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"branches": out})
}

// apiSlots lists a service's slots on a day with their free places.
func (h *Handler) apiSlots(w http.ResponseWriter, r *http.Request) {
	branch, _, err := pathBranchService(r)
	day := r.URL.Query().Get("day")
	if err == nil {
		day, err = parseDay(day)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	slots, err := h.book.Slots(r.Context(), branch, chi.URLParam(r, "service"), day)
	if err != nil {
		h.fail(w, r, h.storeError(r, err))
		return
	}
	if slots == nil {
		slots = []cloud.Slot{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"branch": branch, "service": chi.URLParam(r, "service"), "day": day, "slots": slots})
}

// bookBody is POST /bookings.
type bookBody struct {
	Branch  string    `json:"branch"`
	Service string    `json:"service"`
	Start   time.Time `json:"start"`
	RUT     string    `json:"rut"`
	Note    string    `json:"note"`
}

// bookAnswer is a booking as the API shows it to its customer.
type bookAnswer struct {
	ID       string              `json:"id"`
	Branch   string              `json:"branch"`
	Service  string              `json:"service"`
	Start    time.Time           `json:"start"`
	End      time.Time           `json:"end"`
	Day      string              `json:"day"`
	Code     string              `json:"code"`
	Status   cloud.BookingStatus `json:"status"`
	Manage   string              `json:"manage_url"`
	Telegram string              `json:"telegram_url,omitempty"`
}

// apiBook books a slot. JSON only: a cross-site form cannot send
// application/json, and no CORS is allowed, so no CSRF token is needed.
func (h *Handler) apiBook(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		h.fail(w, r, errMedia)
		return
	}
	var in bookBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		h.fail(w, r, errBody)
		return
	}
	if _, err := queue.ParseBranchID(in.Branch); err != nil {
		h.fail(w, r, errBranch)
		return
	}
	if !queue.ValidServiceCode(in.Service) {
		h.fail(w, r, errService)
		return
	}
	if in.Start.IsZero() {
		h.fail(w, r, errStart)
		return
	}
	rut, err := parseRUT(in.RUT)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	note, err := parseNote(in.Note)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	bk, err := h.book.Book(r.Context(), cloud.BookRequest{Branch: in.Branch, Service: in.Service,
		Start: in.Start, RUT: rut, Note: note, Channel: "web"})
	if err != nil {
		h.fail(w, r, h.storeError(r, err))
		return
	}
	writeJSON(w, http.StatusCreated, bookAnswer{ID: bk.ID, Branch: bk.Branch, Service: bk.Service, Start: bk.Start,
		End: bk.End, Day: bk.Day, Code: bk.Code, Status: bk.Status, Manage: bookingURL(bk.ID, bk.Code),
		Telegram: h.followURL(bk.Token)})
}

// apiJoin is a remote join's live status (the status page polls it).
func (h *Handler) apiJoin(w http.ResponseWriter, r *http.Request) {
	j, ok := h.readJoin(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, joinView(langOf(r), j, h.cfg.Now(), h.cfg.Zone))
}
