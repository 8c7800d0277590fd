package booking

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/problem"
	"github.com/ticketero/ticketero/shared/queue"
)

// pageNames are the templates, each parsed with layout.html.
var pageNames = []string{"home", "branch", "slots", "book", "booking", "join", "arrive", "error"}

// parse parses every page once per language, with T bound to it: a render
// executes a ready template (cloning one per request re-ran html/template's
// escaping of the whole page under a shared lock, the slot page's cost in a
// burst; docs/performance.md "Booking page").
func (h *Handler) parse() error {
	h.pages = map[i18n.Lang]map[string]*template.Template{}
	for _, lang := range []i18n.Lang{i18n.ES, i18n.EN} {
		h.pages[lang] = map[string]*template.Template{}
		for _, p := range pageNames {
			t, err := template.New(p).Funcs(h.funcs()).
				Funcs(template.FuncMap{"T": func(key string, args ...any) string { return i18n.T(lang, key, args...) }}).
				ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html")
			if err != nil {
				return err
			}
			h.pages[lang][p] = t
		}
	}
	return nil
}

func (h *Handler) funcs() template.FuncMap {
	return template.FuncMap{
		// T is bound to each language's copy of the pages (parse).
		"T":     func(key string, args ...any) string { return key },
		"asset": func(name string) (string, error) { return h.assets.URL(name) },
		"hour":  func(t time.Time) string { return t.In(h.cfg.Zone).Format("15:04") },
		"date":  func(t time.Time) string { return t.In(h.cfg.Zone).Format("02-01-2006") },
		"unix":  func(t time.Time) int64 { return t.Unix() },
	}
}

// view is what every page gets.
type view struct {
	Lang  i18n.Lang
	Other i18n.Lang // the language the toggle offers
	Path  string
	CSRF  string
	Data  any
}

// render executes page with data in lang; a template failure is a 500 logged
// once (it is a bug).
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page string, lang i18n.Lang, data any) {
	var err error
	t := h.pages[lang][page]
	if t == nil {
		t = h.pages[i18n.ES][page]
	}
	other := i18n.EN
	if lang == i18n.EN {
		other = i18n.ES
	}
	v := view{Lang: lang, Other: other, Path: r.URL.Path, Data: data}
	if page != "error" {
		v.CSRF = h.csrfToken(w, r)
	}
	var buf bytes.Buffer
	if t == nil {
		err = fmt.Errorf("booking: no page %q", page)
	} else {
		err = t.ExecuteTemplate(&buf, "layout", v)
	}
	if err != nil {
		h.log.Error("render failed", "page", page, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if w.Header().Get("Cache-Control") == "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// maxListed bounds the branches the home page lists at once.
const maxListed = 50

// home: the branch search.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	if l := r.URL.Query().Get("lang"); l != "" {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: string(i18n.Parse(l)), Path: PagePrefix, MaxAge: 365 * 86400, // #nosec G124 -- Secure follows TICKETERO_INSECURE_COOKIES (plain-HTTP development only)
			HttpOnly: true, Secure: h.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
	}
	bs, err := h.bookable(r.Context())
	if err != nil {
		h.fail(w, r, h.storeError(r, err))
		return
	}
	q := r.URL.Query().Get("q")
	if len(q) > 80 || !queue.ValidText(q, 80) {
		q = ""
	}
	found := search(bs, q)
	data := map[string]any{"Q": q, "Branches": found}
	if len(found) > maxListed { // a network of thousands: the search narrows it
		data["Branches"], data["More"] = found[:maxListed], len(found)
	}
	h.render(w, r, http.StatusOK, "home", langOf(r), data)
}

// branchPage: the branch's services, to book or to join now.
func (h *Handler) branchPage(w http.ResponseWriter, r *http.Request) {
	id, err := pathBranch(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	b, _, err := h.branchOf(r.Context(), id, "")
	if err != nil {
		h.fail(w, r, h.storeError(r, err))
		return
	}
	h.render(w, r, http.StatusOK, "branch", langOf(r), map[string]any{"Branch": b})
}

// dayLink is one day of the picker.
type dayLink struct {
	Day, Label string
	Selected   bool
}

// days lists the picker's days from today in the zone.
func (h *Handler) days(lang i18n.Lang, selected string) []dayLink {
	now := h.cfg.Now().In(h.cfg.Zone)
	out := make([]dayLink, 0, h.cfg.Days)
	for i := range h.cfg.Days {
		d := time.Date(now.Year(), now.Month(), now.Day()+i, 12, 0, 0, 0, h.cfg.Zone)
		day := d.Format(time.DateOnly)
		label := i18n.T(lang, "booking.weekday."+d.Weekday().String()[:3]) + " " + d.Format("02/01")
		out = append(out, dayLink{Day: day, Label: label, Selected: day == selected})
	}
	return out
}

func (h *Handler) today() string { return h.cfg.Now().In(h.cfg.Zone).Format(time.DateOnly) }

// slotsPage: the day picker and the day's slots with their free places.
func (h *Handler) slotsPage(w http.ResponseWriter, r *http.Request) {
	branch, _, err := pathBranchService(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	day := r.URL.Query().Get("dia")
	if day == "" {
		day = h.today()
	} else if day, err = parseDay(day); err != nil {
		h.fail(w, r, err)
		return
	}
	b, s, err := h.branchOf(r.Context(), branch, chi.URLParam(r, "service"))
	if err != nil {
		h.fail(w, r, h.storeError(r, err))
		return
	}
	slots, err := h.book.Slots(r.Context(), branch, s.Code, day)
	if err != nil {
		h.fail(w, r, h.storeError(r, err))
		return
	}
	lang := langOf(r)
	h.render(w, r, http.StatusOK, "slots", lang, map[string]any{"Branch": b, "Service": s, "Day": day,
		"Days": h.days(lang, day), "Slots": slots, "Now": h.cfg.Now()})
}

// bookForm: the chosen slot, RUT and note.
func (h *Handler) bookForm(w http.ResponseWriter, r *http.Request) {
	h.showBookForm(w, r, http.StatusOK, "", "", "")
}

func (h *Handler) showBookForm(w http.ResponseWriter, r *http.Request, status int, msg, rut, note string) {
	branch, _, err := pathBranchService(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	start, err := parseStart(r.FormValue("inicio"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	b, s, err := h.branchOf(r.Context(), branch, chi.URLParam(r, "service"))
	if err != nil {
		h.fail(w, r, h.storeError(r, err))
		return
	}
	h.render(w, r, status, "book", langOf(r), map[string]any{"Branch": b, "Service": s, "Start": start,
		"Msg": msg, "RUT": rut, "Note": note})
}

// parseStart reads a slot's start (Unix seconds).
func parseStart(s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > 1<<40 {
		return time.Time{}, errStart
	}
	return time.Unix(n, 0), nil
}

// bookPost books the slot and shows the booking (Post/Redirect/Get).
func (h *Handler) bookPost(w http.ResponseWriter, r *http.Request) {
	if err := h.checkForm(w, r); err != nil {
		h.fail(w, r, err)
		return
	}
	lang := langOf(r)
	branch, _ := pathBranch(r)
	service, _ := pathService(r)
	rutIn, noteIn := r.PostFormValue("rut"), r.PostFormValue("nota")
	rut, err := parseRUT(rutIn)
	if err != nil {
		h.showBookForm(w, r, http.StatusBadRequest, queue.ErrorMessage(lang, err), rutIn, noteIn)
		return
	}
	note, err := parseNote(noteIn)
	if err != nil {
		h.showBookForm(w, r, http.StatusBadRequest, queue.ErrorMessage(lang, err), rutIn, "")
		return
	}
	start, err := parseStart(r.PostFormValue("inicio"))
	if err != nil || branch == "" || service == "" {
		h.fail(w, r, errStart)
		return
	}
	bk, err := h.book.Book(r.Context(), cloud.BookRequest{Branch: branch, Service: service, Start: start,
		RUT: rut, Note: note, Channel: "web"})
	if err != nil {
		err = h.storeError(r, err)
		h.showBookForm(w, r, problem.StatusOf(err), queue.ErrorMessage(lang, err), rutIn, noteIn)
		return
	}
	h.log.Info("booked on the web", "branch", bk.Branch, "service", bk.Service, "booking", bk.ID)
	http.Redirect(w, r, bookingURL(bk.ID, bk.Code)+"&nueva=1", http.StatusSeeOther)
}

func bookingURL(id, code string) string {
	return PagePrefix + "/hora/" + url.PathEscape(id) + "?c=" + url.QueryEscape(code)
}

func joinURL(id, code string) string {
	return PagePrefix + "/fila/" + url.PathEscape(id) + "?c=" + url.QueryEscape(code)
}

// bookingPage shows a booking: its code, status, the Telegram link, and the
// forms to cancel it or move it (with its RUT).
func (h *Handler) bookingPage(w http.ResponseWriter, r *http.Request) {
	h.showBooking(w, r, http.StatusOK, "")
}

func (h *Handler) showBooking(w http.ResponseWriter, r *http.Request, status int, msg string) {
	id, code, err := idCode(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	bk, err := h.book.Booking(r.Context(), id, code)
	if err != nil {
		h.fail(w, r, h.storeError(r, err))
		return
	}
	b, _, _ := h.branchOf(r.Context(), bk.Branch, "")
	lang := langOf(r)
	data := map[string]any{"B": bk, "Branch": b, "New": r.FormValue("nueva") == "1", "Msg": msg,
		"Status": i18n.T(lang, "booking.status."+string(bk.Status)), "Changeable": changeable(bk.Status),
		"Telegram": h.followURL(bk.Token)}
	if ok := r.FormValue("ok"); ok == "booking.cancelled_ok" || ok == "booking.rescheduled_ok" {
		data["OK"] = i18n.T(lang, ok)
	}
	if bk.Status == cloud.BookingDeclined && bk.Reason != "" {
		data["Reason"] = i18n.T(lang, "booking.declined."+bk.Reason)
	}
	if changeable(bk.Status) {
		day := r.FormValue("dia")
		if _, err := parseDay(day); err != nil {
			day = bk.Day
		}
		slots, err := h.book.Slots(r.Context(), bk.Branch, bk.Service, day)
		if err != nil {
			h.fail(w, r, h.storeError(r, err))
			return
		}
		data["Day"], data["Days"], data["Slots"] = day, h.days(lang, day), slots
	}
	h.render(w, r, status, "booking", lang, data)
}

func changeable(s cloud.BookingStatus) bool {
	return s == cloud.BookingBooked || s == cloud.BookingReceived
}

// followURL is the t.me link that makes a chat follow a booking or join
// (its opaque token, as a ticket's QR); "" without a bot or a token.
func (h *Handler) followURL(token string) string {
	if h.cfg.BotName == "" || !idRE.MatchString(token) {
		return ""
	}
	return "https://t.me/" + url.PathEscape(h.cfg.BotName) + "?start=" + url.QueryEscape(token)
}

// cancelPost cancels a booking with its code and RUT.
func (h *Handler) cancelPost(w http.ResponseWriter, r *http.Request) {
	h.change(w, r, func(id, code, rut string) error {
		_, err := h.book.Cancel(r.Context(), id, code, rut)
		return err
	}, "booking.cancelled_ok")
}

// reschedulePost moves a booking to another slot with its code and RUT.
func (h *Handler) reschedulePost(w http.ResponseWriter, r *http.Request) {
	h.change(w, r, func(id, code, rut string) error {
		start, err := parseStart(r.PostFormValue("inicio"))
		if err != nil {
			return err
		}
		_, err = h.book.Reschedule(r.Context(), id, code, rut, start)
		return err
	}, "booking.rescheduled_ok")
}

func (h *Handler) change(w http.ResponseWriter, r *http.Request, do func(id, code, rut string) error, okKey string) {
	if err := h.checkForm(w, r); err != nil {
		h.fail(w, r, err)
		return
	}
	lang := langOf(r)
	id, code, err := idCode(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rut, err := parseRUT(r.PostFormValue("rut"))
	if err == nil {
		err = do(id, code, rut)
	}
	if err != nil {
		if queue.ErrorCode(err) == "" || queue.ErrorCode(err) == queue.CodeInternal || !isInput(err) {
			err = h.storeError(r, err)
		}
		h.showBooking(w, r, problem.StatusOf(err), queue.ErrorMessage(lang, err))
		return
	}
	h.log.Info("booking changed on the web", "booking", id, "change", okKey)
	http.Redirect(w, r, bookingURL(id, code)+"&ok="+url.QueryEscape(okKey), http.StatusSeeOther) // #nosec G710 -- a local path under PagePrefix, its parts escaped (bookingURL)
}

// isInput reports whether err is already one of the page's input errors.
func isInput(err error) bool {
	c := queue.ErrorCode(err)
	return c == queue.CodeInvalid || c == queue.CodeForbidden
}

// joinPost asks the branch for a remote ticket and shows its live status.
func (h *Handler) joinPost(w http.ResponseWriter, r *http.Request) {
	if err := h.checkForm(w, r); err != nil {
		h.fail(w, r, err)
		return
	}
	branch, _, err := pathBranchService(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	req := cloud.JoinRequest{Branch: branch, Service: chi.URLParam(r, "service"), Channel: "web"}
	if in := r.PostFormValue("rut"); in != "" {
		if req.RUT, err = parseRUT(in); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	j, err := h.book.Join(r.Context(), req)
	if err != nil {
		h.fail(w, r, h.storeError(r, err))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: joinCookie, Value: j.ID + "." + j.Code, Path: PagePrefix, MaxAge: 86400, // #nosec G124 -- Secure follows TICKETERO_INSECURE_COOKIES (plain-HTTP development only)
		HttpOnly: true, Secure: h.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
	h.log.Info("remote join on the web", "branch", j.Branch, "service", j.Service, "join", j.ID)
	http.Redirect(w, r, joinURL(j.ID, j.Code), http.StatusSeeOther)
}

// joinPage: the remote ticket's live status (the script polls the API).
func (h *Handler) joinPage(w http.ResponseWriter, r *http.Request) {
	j, ok := h.readJoin(w, r)
	if !ok {
		return
	}
	b, _, _ := h.branchOf(r.Context(), j.Branch, "")
	lang := langOf(r)
	h.render(w, r, http.StatusOK, "join", lang, map[string]any{"J": j, "Branch": b,
		"State": joinView(lang, j, h.cfg.Now(), h.cfg.Zone), "Telegram": h.followURL(j.Token),
		"Poll": APIPrefix + "/joins/" + url.PathEscape(j.ID) + "?code=" + j.Code})
}

// readJoin reads the join the URL names by ID and code, answering the
// failure itself (false).
func (h *Handler) readJoin(w http.ResponseWriter, r *http.Request) (cloud.RemoteJoin, bool) {
	id, code, err := idCode(r)
	if err == nil {
		var j cloud.RemoteJoin
		if j, err = h.book.RemoteJoin(r.Context(), id, code); err == nil {
			return j, true
		}
		err = h.storeError(r, err)
	}
	h.fail(w, r, err)
	return cloud.RemoteJoin{}, false
}

// joinState is what the status page and the API say of a join.
type joinState struct {
	Status   cloud.JoinStatus `json:"status"`
	Printed  string           `json:"printed,omitempty"`
	Position int              `json:"position,omitempty"`
	Ahead    int              `json:"ahead"`
	Headline string           `json:"headline"`
	Detail   string           `json:"detail"`
	Final    bool             `json:"final"`
}

// joinView renders a join's state in lang: the branch's relayed figures.
func joinView(lang i18n.Lang, j cloud.RemoteJoin, now time.Time, zone *time.Location) joinState {
	st := joinState{Status: j.Status, Printed: j.Printed, Position: j.Position, Ahead: max(0, j.Position-1)}
	wait := cloud.WaitArg(j.TypicalS, j.UpperS)
	waitText := i18n.T(lang, wait.Key, toAny(wait.Args)...)
	switch j.Status {
	case cloud.JoinPending:
		st.Headline, st.Detail = i18n.T(lang, "booking.join.pending"), i18n.T(lang, "booking.join.pending_detail")
	case cloud.JoinIssued:
		st.Headline = i18n.T(lang, "booking.join.issued", j.Printed)
		if !j.HoldUntil.IsZero() && j.HoldUntil.After(now) {
			st.Detail = i18n.T(lang, "booking.join.slid", j.HoldUntil.In(zone).Format("15:04"))
		} else {
			st.Detail = i18n.T(lang, "booking.join.place", strconv.Itoa(st.Ahead), waitText)
		}
	case cloud.JoinCheckedIn:
		st.Headline = i18n.T(lang, "booking.join.checked_in", j.Printed)
		st.Detail = i18n.T(lang, "booking.join.place", strconv.Itoa(st.Ahead), waitText)
	case cloud.JoinRefused:
		st.Headline, st.Final = i18n.T(lang, "booking.join.refused"), true
		st.Detail = i18n.T(lang, "booking.refused."+reasonKey(j.Reason))
	case cloud.JoinExpired:
		st.Headline, st.Detail, st.Final = i18n.T(lang, "booking.join.expired", j.Printed), i18n.T(lang, "booking.join.expired_detail"), true
	default:
		st.Headline, st.Final = i18n.T(lang, "booking.join.closed", j.Printed), true
	}
	return st
}

// reasonKey keeps a refusal's code to the known ones.
func reasonKey(r string) string {
	switch r {
	case "closed", "not_open", "capacity", "unknown", cloud.JoinUnreachable:
		return r
	}
	return "invalid"
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// arrivePage: the page the branch's entrance QR opens; one tap checks the
// phone's last join in.
func (h *Handler) arrivePage(w http.ResponseWriter, r *http.Request) {
	tok := chi.URLParam(r, "token")
	if !idRE.MatchString(tok) {
		h.fail(w, r, queue.Errorf(queue.CodeNotFound, "booking.qr_invalid"))
		return
	}
	data := map[string]any{"Token": tok}
	if id, code, ok := h.joinCookie(r); ok {
		if j, err := h.book.RemoteJoin(r.Context(), id, code); err == nil {
			data["J"] = j
		}
	}
	h.render(w, r, http.StatusOK, "arrive", langOf(r), data)
}

func (h *Handler) joinCookie(r *http.Request) (string, string, bool) {
	c, err := r.Cookie(joinCookie)
	if err != nil {
		return "", "", false
	}
	id, code, ok := strLastCut(c.Value, ".")
	if !ok || !idRE.MatchString(id) || !event.ValidCheckInCode(code) {
		return "", "", false
	}
	return id, code, true
}

// arrivePost checks the phone's join in at the QR's branch.
func (h *Handler) arrivePost(w http.ResponseWriter, r *http.Request) {
	if err := h.checkForm(w, r); err != nil {
		h.fail(w, r, err)
		return
	}
	tok := chi.URLParam(r, "token")
	id, code, ok := h.joinCookie(r)
	if !ok || !idRE.MatchString(tok) {
		h.fail(w, r, errNoJoin)
		return
	}
	j, err := h.book.CheckIn(r.Context(), id, code, tok)
	if err != nil {
		h.fail(w, r, h.storeError(r, err))
		return
	}
	h.log.Info("remote ticket check-in by QR", "branch", j.Branch, "join", j.ID)
	http.Redirect(w, r, joinURL(j.ID, j.Code)+"&llegue=1", http.StatusSeeOther)
}
