package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

type holidaysData struct {
	Year, Prev, Next int
	Holidays         []event.Holiday
}

// yearParam is the ?year= of r (2000-2100), or this year in Santiago; the
// holidays page and the API share it.
func (h *Handler) yearParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("year")
	if v == "" {
		return h.store.Now().In(santiago).Year(), nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 2000 || n > 2100 {
		return 0, queue.Errorf(queue.CodeInvalid, "hq.form.number", "year")
	}
	return n, nil
}

func (h *Handler) holidays(w http.ResponseWriter, r *http.Request, q *req) {
	year, err := h.yearParam(r)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	flash := ""
	if r.URL.Query().Get("saved") != "" {
		flash = q.view("", nil).T("hq.holidays.saved")
	}
	h.showHolidays(w, r, q, year, http.StatusOK, "", flash)
}

func (h *Handler) showHolidays(w http.ResponseWriter, r *http.Request, q *req, year, status int, errMsg, flash string) {
	list, err := h.store.Holidays(r.Context(), year)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	v := q.view("config", holidaysData{Year: year, Prev: year - 1, Next: year + 1, Holidays: list})
	v.Error, v.Flash = errMsg, flash
	h.render(w, status, "holidays", v)
}

// yearOf is the year of a YYYY-MM-DD date, or the current one.
func (h *Handler) yearOf(date string) int {
	if d, err := time.Parse(time.DateOnly, date); err == nil {
		return d.Year()
	}
	return h.store.Now().In(santiago).Year()
}

func (h *Handler) holidayPut(w http.ResponseWriter, r *http.Request, q *req) {
	d := event.Holiday{Date: strings.TrimSpace(r.PostFormValue("date")), Name: strings.TrimSpace(r.PostFormValue("name"))}
	year := h.yearOf(d.Date)
	if err := h.putHoliday(r, q, d); err != nil {
		if httpStatus(err) >= 500 {
			h.fail(w, r, q, err)
			return
		}
		h.showHolidays(w, r, q, year, httpStatus(err), queue.ErrorMessage(q.Lang, err), "")
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/config/holidays?year=%d&saved=1", year), http.StatusSeeOther)
}

func (h *Handler) holidayDelete(w http.ResponseWriter, r *http.Request, q *req) {
	date := r.PathValue("date")
	if err := h.deleteHoliday(r, q, date); err != nil {
		if httpStatus(err) >= 500 {
			h.fail(w, r, q, err)
			return
		}
		h.showHolidays(w, r, q, h.yearOf(date), httpStatus(err), queue.ErrorMessage(q.Lang, err), "")
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/config/holidays?year=%d&saved=1", h.yearOf(date)), http.StatusSeeOther) // #nosec G710 -- a fixed local path with a number
}

// closedWord is what HQ types (or sees) for a weekday the branch is closed.
func closedWord(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "-", "cerrado", "closed":
		return true
	}
	return false
}

// hoursDay is one weekday row of the schedule form.
type hoursDay struct {
	Key   string // mon … sun
	Value string // ranges, "cerrado", or "" (the branch's general hours)
}

// hoursCutoff is one service row of the schedule form.
type hoursCutoff struct {
	Code, Name, Value string
}

type branchHoursData struct {
	cloud.BranchConfig
	Days     []hoursDay
	Grace    string
	Cutoffs  []hoursCutoff
	Holidays int // holidays of this year and next, as published
}

func (h *Handler) branchHours(w http.ResponseWriter, r *http.Request, q *req) {
	flash := ""
	if r.URL.Query().Get("saved") != "" {
		flash = q.view("", nil).T("hq.saved")
	}
	h.showBranchHours(w, r, q, r.PathValue("id"), nil, http.StatusOK, "", flash)
}

// showBranchHours renders the schedule form with the stored settings, or with
// what was typed (form) after a refusal.
func (h *Handler) showBranchHours(w http.ResponseWriter, r *http.Request, q *req, id string, form url.Values, status int, errMsg, flash string) {
	ctx := r.Context()
	c, err := h.store.BranchConfig(ctx, id)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	hs, err := h.store.BranchHours(ctx, id)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	d := branchHoursData{BranchConfig: c}
	year := h.store.Now().In(santiago).Year()
	for _, y := range []int{year, year + 1} {
		list, err := h.store.Holidays(ctx, y)
		if err != nil {
			h.fail(w, r, q, err)
			return
		}
		d.Holidays += len(list)
	}
	closed := q.view("", nil).T("hq.hours.closed_word")
	for _, k := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		v, ok := hs.WeeklyHours[k]
		if ok && v == "" {
			v = closed
		}
		if form != nil {
			v = form.Get("day_" + k)
		}
		d.Days = append(d.Days, hoursDay{Key: k, Value: v})
	}
	if hs.CloseGraceMin != nil {
		d.Grace = strconv.Itoa(*hs.CloseGraceMin)
	}
	if form != nil {
		d.Grace = form.Get("close_grace_min")
	}
	for _, sv := range c.Services {
		v := hs.LastTicket[sv.Code]
		if form != nil {
			v = form.Get("last_" + sv.Code)
		}
		d.Cutoffs = append(d.Cutoffs, hoursCutoff{Code: sv.Code, Name: sv.Name, Value: v})
	}
	v := q.view("config", d)
	v.Error, v.Flash = errMsg, flash
	h.render(w, status, "config_hours", v)
}

func (h *Handler) branchHoursPut(w http.ResponseWriter, r *http.Request, q *req) {
	ctx := r.Context()
	id := r.PathValue("id")
	c, err := h.store.BranchConfig(ctx, id)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	var hs event.Hours
	for _, k := range event.Weekdays {
		v := strings.TrimSpace(r.PostFormValue("day_" + k))
		switch {
		case v == "":
		case closedWord(v):
			hs.WeeklyHours = mapSet(hs.WeeklyHours, k, "")
		default:
			hs.WeeklyHours = mapSet(hs.WeeklyHours, k, strings.ReplaceAll(v, " ", ""))
		}
	}
	if v := strings.TrimSpace(r.PostFormValue("close_grace_min")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			h.showBranchHours(w, r, q, id, r.PostForm, http.StatusBadRequest, queue.ErrorMessage(q.Lang, queue.Errorf(queue.CodeInvalid, "hq.form.number", "close_grace_min")), "")
			return
		}
		hs.CloseGraceMin = &n
	}
	for _, sv := range c.Services {
		if v := strings.TrimSpace(r.PostFormValue("last_" + sv.Code)); v != "" {
			hs.LastTicket = mapSet(hs.LastTicket, sv.Code, v)
		}
	}
	if err := h.putHours(r, q, id, hs); err != nil {
		if httpStatus(err) >= 500 {
			h.fail(w, r, q, err)
			return
		}
		h.showBranchHours(w, r, q, id, r.PostForm, httpStatus(err), queue.ErrorMessage(q.Lang, err), "")
		return
	}
	http.Redirect(w, r, "/config/branches/"+url.PathEscape(id)+"/hours?saved=1", http.StatusSeeOther)
}

func mapSet(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}
