package web

// HQ's side of appointments and the virtual queue (docs/appointments.md, "For
// HQ"): the booking schedule per branch and service with exceptions, the
// branch's appointment rules (published with its config), the book per branch
// and day with cancel and audit, and the appointment report with CSV. Every
// read and write goes through cloud.AppointmentAdmin (Config.Appointments);
// without it these pages answer 404.

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

func (h *Handler) appointmentRoutes(get, post func(path string, hd http.Handler)) {
	get("/config/branches/{id}/appointments", h.auth(adminOnly, h.needBook(h.apptConfig)))
	post("/config/branches/{id}/appointments/rules", h.auth(adminOnly, h.needBook(h.apptRulesPut)))
	post("/config/branches/{id}/appointments/{svc}", h.auth(adminOnly, h.needBook(h.apptSchedulePut)))
	post("/config/branches/{id}/appointments/{svc}/delete", h.auth(adminOnly, h.needBook(h.apptScheduleDelete)))
	get("/branches/{id}/book", h.auth(anyone, h.needBook(h.bookPage)))
	post("/branches/{id}/book/{bid}/cancel", h.auth(canAck, h.needBook(h.bookCancel)))
	get("/reports/appointments", h.auth(anyone, h.needBook(h.apptReport)))
	get("/reports/appointments.csv", h.auth(anyone, h.needBook(h.apptReportCSV)))
}

// needBook answers 404 when the book is not wired.
func (h *Handler) needBook(fn handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, q *req) {
		if h.cfg.Appointments == nil {
			h.fail(w, r, q, errNotFound)
			return
		}
		fn(w, r, q)
	}
}

// bookErr turns the book's errors into application errors with a Spanish
// message and a stable reason.
func bookErr(err error) error {
	var se *cloud.ScheduleError
	switch {
	case errors.As(err, &se):
		return queue.Errorf(queue.CodeInvalid, "hq.appt.invalid", se.Field, se.Reason)
	case errors.Is(err, cloud.ErrAppointmentNotFound):
		return queue.Errorf(queue.CodeNotFound, "hq.appt.not_found")
	case errors.Is(err, cloud.ErrTooLate):
		return queue.Errorf(queue.CodeConflict, "hq.appt.too_late")
	}
	return err
}

// scheduleForm is one service's schedule as the form shows it.
type scheduleForm struct {
	Code, Name  string
	Saved       bool
	SlotMin     int
	ReservePct  int
	HorizonDays int
	Days        []scheduleDay
	Exceptions  string
	Places      string // a sample: "2 executives → 1 place"
}

type scheduleDay struct {
	Key, Hours string
	Executives int
}

type remoteForm struct {
	Code, Name string
	Open       bool
	Cap        int
}

type apptConfigData struct {
	cloud.BranchConfig
	Schedules []scheduleForm
	Rules     event.AppointmentRules
	Defaults  event.AppointmentRules
	Remote    []remoteForm
	Token     string
}

func (h *Handler) apptConfig(w http.ResponseWriter, r *http.Request, q *req) {
	flash := ""
	if r.URL.Query().Get("saved") != "" {
		flash = q.view("", nil).T("hq.saved")
	}
	h.showApptConfig(w, r, q, http.StatusOK, "", flash)
}

func (h *Handler) showApptConfig(w http.ResponseWriter, r *http.Request, q *req, status int, errMsg, flash string) {
	ctx := r.Context()
	id := r.PathValue("id")
	c, err := h.store.BranchConfig(ctx, id)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	book := h.cfg.Appointments
	scheds, err := book.Schedules(ctx, id)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	rules, err := book.AppointmentRules(ctx, id)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	token, err := book.CheckInToken(ctx, id)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	d := apptConfigData{BranchConfig: c, Rules: rules, Defaults: event.AppointmentRules{}.WithDefaults(), Token: token}
	for _, sv := range c.Services {
		f := scheduleForm{Code: sv.Code, Name: sv.Name, SlotMin: cloud.DefaultSlotMin, ReservePct: cloud.DefaultReservePct,
			HorizonDays: cloud.DefaultHorizonDays}
		i := slices.IndexFunc(scheds, func(s cloud.BookingSchedule) bool { return s.Service == sv.Code })
		var sc cloud.BookingSchedule
		if i >= 0 {
			sc = scheds[i]
			f.Saved, f.SlotMin, f.ReservePct, f.HorizonDays = true, sc.SlotMin, sc.ReservePct, sc.HorizonDays
		}
		for _, k := range cloud.Weekdays {
			day := scheduleDay{Key: k}
			var ranges []string
			for _, hr := range sc.Weekly[k] {
				ranges = append(ranges, hr.From+"-"+hr.To)
				day.Executives = max(day.Executives, hr.Executives)
			}
			day.Hours = strings.Join(ranges, ",")
			f.Days = append(f.Days, day)
		}
		var lines []string
		for _, e := range sc.Exceptions {
			lines = append(lines, exceptionLine(e, q.view("", nil).T("hq.hours.closed_word")))
		}
		f.Exceptions = strings.Join(lines, "\n")
		f.Places = q.view("", nil).T("hq.appt.places_sample", cloud.SlotPlaces(2, f.ReservePct), cloud.SlotPlaces(5, f.ReservePct))
		d.Schedules = append(d.Schedules, f)
		rr := rules.Remote[sv.Code]
		d.Remote = append(d.Remote, remoteForm{Code: sv.Code, Name: sv.Name, Open: rr.Open, Cap: rr.Cap})
	}
	v := q.view("config", d)
	v.Error, v.Flash = errMsg, flash
	h.render(w, status, "appointments", v)
}

// exceptionLine writes an exception as the form takes it back:
// "2026-12-24 09:00-12:00 2 Víspera" or "2026-12-25 cerrado Navidad".
func exceptionLine(e cloud.BookingException, closed string) string {
	parts := []string{e.Day}
	if len(e.Hours) == 0 {
		parts = append(parts, closed)
	} else {
		var rs []string
		ex := 0
		for _, hr := range e.Hours {
			rs = append(rs, hr.From+"-"+hr.To)
			ex = max(ex, hr.Executives)
		}
		parts = append(parts, strings.Join(rs, ","), strconv.Itoa(ex))
	}
	if e.Note != "" {
		parts = append(parts, e.Note)
	}
	return strings.Join(parts, " ")
}

// parseRanges reads "09:00-13:00,15:00-17:00" served by executives.
func parseRanges(s string, executives int) ([]cloud.BookingHours, bool) {
	var out []cloud.BookingHours
	for _, r := range strings.Split(strings.ReplaceAll(s, " ", ""), ",") {
		from, to, ok := strings.Cut(r, "-")
		if !ok {
			return nil, false
		}
		out = append(out, cloud.BookingHours{From: from, To: to, Executives: executives})
	}
	return out, true
}

// parseException reads one line of the exceptions box.
func parseException(line string) (cloud.BookingException, bool) {
	f := strings.Fields(line)
	if len(f) < 2 {
		return cloud.BookingException{}, false
	}
	e := cloud.BookingException{Day: f[0]}
	if closedWord(f[1]) {
		e.Note = strings.Join(f[2:], " ")
		return e, true
	}
	if len(f) < 3 {
		return e, false
	}
	n, err := strconv.Atoi(f[2])
	if err != nil {
		return e, false
	}
	hs, ok := parseRanges(f[1], n)
	e.Hours, e.Note = hs, strings.Join(f[3:], " ")
	return e, ok
}

// formIntOr is formInt with def for an empty field.
func formIntOr(r *http.Request, name string, def int) (int, error) {
	if strings.TrimSpace(r.PostFormValue(name)) == "" {
		return def, nil
	}
	return formInt(r, name)
}

func (h *Handler) apptSchedulePut(w http.ResponseWriter, r *http.Request, q *req) {
	id, svc := r.PathValue("id"), r.PathValue("svc")
	sc := cloud.BookingSchedule{Branch: id, Service: svc, Weekly: map[string][]cloud.BookingHours{}}
	err := func() error {
		var err error
		if sc.SlotMin, err = formIntOr(r, "slot_min", cloud.DefaultSlotMin); err != nil {
			return err
		}
		if sc.ReservePct, err = formIntOr(r, "reserve_pct", cloud.DefaultReservePct); err != nil {
			return err
		}
		if sc.HorizonDays, err = formIntOr(r, "horizon_days", cloud.DefaultHorizonDays); err != nil {
			return err
		}
		for _, k := range cloud.Weekdays {
			hours := strings.TrimSpace(r.PostFormValue("hours_" + k))
			if hours == "" {
				continue
			}
			n, err := formIntOr(r, "executives_"+k, 1)
			if err != nil {
				return err
			}
			hs, ok := parseRanges(hours, n)
			if !ok {
				return &cloud.ScheduleError{Field: "weekly." + k, Reason: hours}
			}
			sc.Weekly[k] = hs
		}
		for _, line := range strings.Split(r.PostFormValue("exceptions"), "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			e, ok := parseException(line)
			if !ok {
				return &cloud.ScheduleError{Field: "exception", Reason: strings.TrimSpace(line)}
			}
			sc.Exceptions = append(sc.Exceptions, e)
		}
		return h.cfg.Appointments.SaveSchedule(r.Context(), sc, q.P.Actor())
	}()
	if err != nil {
		h.apptFormFailed(w, r, q, bookErr(err))
		return
	}
	h.audit(r, q, cloud.AuditConfigChange, "appointments:"+id+"/"+svc, fmt.Sprintf("slot=%d reserve=%d", sc.SlotMin, sc.ReservePct))
	http.Redirect(w, r, "/config/branches/"+url.PathEscape(id)+"/appointments?saved=1", http.StatusSeeOther)
}

// apptFormFailed shows the page again with the error (an internal error is
// the error page).
func (h *Handler) apptFormFailed(w http.ResponseWriter, r *http.Request, q *req, err error) {
	if httpStatus(err) >= 500 {
		h.fail(w, r, q, err)
		return
	}
	h.showApptConfig(w, r, q, httpStatus(err), queue.ErrorMessage(q.Lang, err), "")
}

func (h *Handler) apptScheduleDelete(w http.ResponseWriter, r *http.Request, q *req) {
	id, svc := r.PathValue("id"), r.PathValue("svc")
	if err := h.cfg.Appointments.DeleteSchedule(r.Context(), id, svc, q.P.Actor()); err != nil {
		h.fail(w, r, q, err)
		return
	}
	h.audit(r, q, cloud.AuditConfigChange, "appointments:"+id+"/"+svc, "deleted")
	http.Redirect(w, r, "/config/branches/"+url.PathEscape(id)+"/appointments?saved=1", http.StatusSeeOther)
}

func (h *Handler) apptRulesPut(w http.ResponseWriter, r *http.Request, q *req) {
	ctx := r.Context()
	id := r.PathValue("id")
	c, err := h.store.BranchConfig(ctx, id)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	var ru event.AppointmentRules
	err = func() error {
		for _, f := range []struct {
			name string
			dst  *int
		}{{"early_min", &ru.EarlyMin}, {"grace_min", &ru.GraceMin}, {"run_max", &ru.RunMax},
			{"hold_min", &ru.HoldMin}, {"slide_by", &ru.SlideBy}} {
			if *f.dst, err = formIntOr(r, f.name, 0); err != nil {
				return err
			}
		}
		for _, sv := range c.Services {
			open := r.PostFormValue("remote_"+sv.Code) != ""
			cp, err := formIntOr(r, "cap_"+sv.Code, 0)
			if err != nil {
				return err
			}
			if open || cp != 0 {
				if ru.Remote == nil {
					ru.Remote = map[string]event.RemoteRule{}
				}
				ru.Remote[sv.Code] = event.RemoteRule{Open: open, Cap: cp}
			}
		}
		return h.cfg.Appointments.PutAppointmentRules(ctx, id, ru, q.P.Actor())
	}()
	if err != nil {
		h.apptFormFailed(w, r, q, bookErr(err))
		return
	}
	h.audit(r, q, cloud.AuditConfigChange, "appointments:"+id, "rules")
	http.Redirect(w, r, "/config/branches/"+url.PathEscape(id)+"/appointments?saved=1", http.StatusSeeOther)
}

type bookData struct {
	cloud.BranchInfo
	Day, Prev, Next string
	Entries         []cloud.BookEntry
	Audit           []cloud.BookAudit
	CanCancel       bool
	Counts          map[cloud.BookingStatus]int
}

// bookDay is the day asked for (today, branch time, by default).
func (h *Handler) bookDay(r *http.Request) (string, time.Time, error) {
	day := r.URL.Query().Get("day")
	if day == "" {
		day = h.store.Now().In(santiago).Format(time.DateOnly)
	}
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return "", t, queue.Errorf(queue.CodeInvalid, "hq.day.invalid", day)
	}
	return day, t, nil
}

func (h *Handler) bookPage(w http.ResponseWriter, r *http.Request, q *req) {
	ctx := r.Context()
	b, err := h.store.Branch(ctx, q.P.Scope(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	day, t, err := h.bookDay(r)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	entries, err := h.cfg.Appointments.DayBook(ctx, b.ID, day)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	aud, err := h.cfg.Appointments.BookAudit(ctx, b.ID, 20)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	h.audit(r, q, cloud.AuditPersonalView, "book:"+b.ID, day)
	d := bookData{BranchInfo: b, Day: day, Prev: t.AddDate(0, 0, -1).Format(time.DateOnly),
		Next: t.AddDate(0, 0, 1).Format(time.DateOnly), Entries: entries, Audit: aud,
		CanCancel: q.P.Role == cloud.RoleAdmin || q.P.Role == cloud.RoleSupervisor, Counts: map[cloud.BookingStatus]int{}}
	for _, e := range entries {
		d.Counts[e.Status]++
	}
	v := q.view("overview", d)
	if r.URL.Query().Get("cancelled") != "" {
		v.Flash = v.T("hq.appt.cancelled_flash")
	}
	h.render(w, http.StatusOK, "book", v)
}

func (h *Handler) bookCancel(w http.ResponseWriter, r *http.Request, q *req) {
	ctx := r.Context()
	b, err := h.store.Branch(ctx, q.P.Scope(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	bk, err := h.cfg.Appointments.CancelByHQ(ctx, r.PathValue("bid"), reason, q.P.Actor())
	if err == nil && bk.Branch != b.ID {
		err = cloud.ErrAppointmentNotFound // never reached: IDs are the book's; kept for scope
	}
	if err != nil {
		h.fail(w, r, q, bookErr(err))
		return
	}
	h.audit(r, q, cloud.AuditConfigChange, "book:"+b.ID+"/"+bk.ID, reason)
	http.Redirect(w, r, "/branches/"+url.PathEscape(b.ID)+"/book?day="+bk.Day+"&cancelled=1", http.StatusSeeOther)
}

type apptReportData struct {
	From, To, Region, Branch string
	Regions                  []string
	Branches                 []cloud.BranchInfo
	Rows                     []cloud.AppointmentReportRow
	Query                    string
}

// apptReportRows reads the report over the branches of the principal's scope
// that match the filters.
func (h *Handler) apptReportRows(r *http.Request, q *req) (apptReportData, error) {
	ctx := r.Context()
	v := r.URL.Query()
	d := apptReportData{From: v.Get("from"), To: v.Get("to"), Region: v.Get("region"), Branch: v.Get("branch")}
	today := h.store.Now().In(santiago)
	if d.To == "" {
		d.To = today.Format(time.DateOnly)
	}
	if d.From == "" {
		d.From = today.AddDate(0, 0, -6).Format(time.DateOnly)
	}
	from, err1 := time.Parse(time.DateOnly, d.From)
	to, err2 := time.Parse(time.DateOnly, d.To)
	if err1 != nil || err2 != nil || to.Before(from) || to.Sub(from) > 366*24*time.Hour {
		return d, queue.Errorf(queue.CodeInvalid, "hq.report.range", d.From, d.To)
	}
	var err error
	if d.Regions, err = h.store.Regions(ctx, q.P.Scope()); err != nil {
		return d, err
	}
	if d.Branches, err = h.store.Branches(ctx, q.P.Scope()); err != nil {
		return d, err
	}
	ids := []string{}
	for _, b := range d.Branches {
		if (d.Region == "" || b.Region == d.Region) && (d.Branch == "" || b.ID == d.Branch) {
			ids = append(ids, b.ID)
		}
	}
	if d.Rows, err = h.cfg.Appointments.AppointmentReport(ctx, ids, d.From, d.To); err != nil {
		return d, err
	}
	qv := url.Values{"from": {d.From}, "to": {d.To}}
	if d.Region != "" {
		qv.Set("region", d.Region)
	}
	if d.Branch != "" {
		qv.Set("branch", d.Branch)
	}
	d.Query = qv.Encode()
	return d, nil
}

func (h *Handler) apptReport(w http.ResponseWriter, r *http.Request, q *req) {
	d, err := h.apptReportRows(r, q)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	h.render(w, http.StatusOK, "appt_report", q.view("reports", d))
}

func (h *Handler) apptReportCSV(w http.ResponseWriter, r *http.Request, q *req) {
	d, err := h.apptReportRows(r, q)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	h.audit(r, q, cloud.AuditExport, "report:appointments", d.Query)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="ticketero-citas-%s-%s.csv"`, d.From, d.To))
	cw := newCSVWriter(w)
	T := func(k string) string { return i18n.T(q.Lang, k) }
	head := []string{T("hq.branch")}
	for _, k := range apptReportColumns {
		head = append(head, T("hq.appt.col."+k))
	}
	_ = cw.Write(head)
	for _, row := range d.Rows {
		_ = cw.Write([]string{row.Branch, strconv.Itoa(row.Booked), strconv.Itoa(row.CheckedIn), strconv.Itoa(row.Late),
			strconv.Itoa(row.Missed), strconv.Itoa(row.Cancelled), strconv.Itoa(row.Declined), decimalIn(q.Lang, row.NoShowPct, 1),
			strconv.Itoa(row.PunctualityMedianS), strconv.Itoa(row.WaitBookedS), strconv.Itoa(row.WaitWalkInS),
			strconv.Itoa(row.BookedTicket), strconv.Itoa(row.WalkInTicket)})
	}
	cw.Flush()
}

// apptReportColumns are the report's columns after the branch (catalogue
// keys hq.appt.col.*), in AppointmentReportRow's order.
var apptReportColumns = []string{"booked", "checked_in", "late", "missed", "cancelled", "declined", "no_show_pct",
	"punctuality_s", "wait_booked_s", "wait_walk_in_s", "booked_tickets", "walk_in_tickets"}
