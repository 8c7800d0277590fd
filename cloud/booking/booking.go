// Package booking is the customer's side of appointments and the virtual
// queue in the cloud (docs/appointments.md): the public booking page (choose
// a branch, a service, a day and a slot, give a RUT, get a 6-digit code),
// the page that manages a booking (reschedule, cancel with code and RUT), the
// virtual queue (join a service from the phone, follow the branch's relayed
// place, check in by scanning the branch's QR) and the small JSON API the
// pages poll and other clients may call.
//
// No account: a booking is shown by its ID and code and changed with the RUT
// it was made with. Pages are server-rendered (html/template), mobile first,
// es-CL first with English, every string from shared/i18n; the one script
// polls the join's status. Forms carry a double-submit CSRF token; JSON
// writes need Content-Type application/json (no cross-site form can send
// it, and no CORS is allowed). Every client address is rate limited
// (shared/ratelimit keyed by shared/clientip). The book itself is
// cloud.Appointments.
package booking

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/clientip"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/problem"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/ratelimit"
	"github.com/ticketero/ticketero/shared/webasset"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets/*
var assetFS embed.FS

// Paths the handler serves (cloudhttp routes both prefixes to it).
const (
	PagePrefix = "/agenda"
	APIPrefix  = "/api/v1/public"
)

// Config is the booking page's dependencies and settings.
type Config struct {
	Appointments cloud.Appointments
	// BotName is the Telegram bot's username for the t.me follow links
	// (TICKETERO_TELEGRAM_BOT); empty: no Telegram link.
	BotName string
	// Proxy names the trusted proxy that gives the client's address (the HQ
	// web's TICKETERO_TRUSTED_PROXY_HOPS / TICKETERO_CLIENT_IP_HEADER).
	Proxy clientip.Proxy
	// Reads and Writes are the per-address budgets of pages and GETs, and of
	// bookings, changes, joins and check-ins (zero: DefaultReads,
	// DefaultWrites; a budget with Every 0 does not limit).
	Reads, Writes *ratelimit.Config
	// SecureCookies sets the Secure attribute (false only for local HTTP).
	SecureCookies bool
	// Zone is the time zone slots are shown in (America/Santiago).
	Zone *time.Location
	// Days is how many days ahead the day picker offers (14).
	Days int
	Log  *slog.Logger
	Now  func() time.Time
}

// Default budgets per client address.
var (
	// DefaultReads: 120 at once, then 10 a second.
	DefaultReads = ratelimit.Config{Every: 100 * time.Millisecond, Burst: 120}
	// DefaultWrites: 10 at once, then one every 6 seconds.
	DefaultWrites = ratelimit.Config{Every: 6 * time.Second, Burst: 10}
)

// Handler serves the pages and the JSON API.
type Handler struct {
	cfg           Config
	log           *slog.Logger
	mux           http.Handler
	assets        *webasset.Set
	pages         map[i18n.Lang]map[string]*template.Template
	reads, writes *ratelimit.Keyed
	// book is cfg.Appointments.
	book cloud.Appointments
}

// New builds the handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Appointments == nil {
		return nil, errors.New("booking: no Appointments store")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Zone == nil {
		z, err := time.LoadLocation("America/Santiago")
		if err != nil {
			return nil, fmt.Errorf("booking: time zone: %w", err)
		}
		cfg.Zone = z
	}
	if cfg.Days <= 0 {
		cfg.Days = 14
	}
	reads, writes := DefaultReads, DefaultWrites
	if cfg.Reads != nil {
		reads = *cfg.Reads
	}
	if cfg.Writes != nil {
		writes = *cfg.Writes
	}
	h := &Handler{cfg: cfg, log: cfg.Log.With("component", "booking"), reads: ratelimit.New(reads), writes: ratelimit.New(writes),
		book: cfg.Appointments}
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		return nil, err
	}
	if h.assets, err = webasset.Load(sub, PagePrefix+"/assets/"); err != nil {
		return nil, err
	}
	if err := h.parse(); err != nil {
		return nil, err
	}
	h.routes()
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) routes() {
	m := chi.NewRouter()
	m.Use(
		middleware.SetHeader("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
		middleware.SetHeader("X-Content-Type-Options", "nosniff"),
		middleware.SetHeader("X-Frame-Options", "DENY"),
		middleware.SetHeader("Referrer-Policy", "no-referrer"),
		h.limit, middleware.GetHead,
		// A phone on a mobile network reads pages, styles and answers
		// gzipped (there is no stream on this surface).
		middleware.Compress(5, "text/html", "text/css", "text/javascript", "application/json", "application/problem+json"))
	p, a := PagePrefix, APIPrefix
	m.NotFound(h.notFound)
	m.MethodNotAllowed(h.notFound)
	m.Method(http.MethodGet, p+"/assets/{name}", h.assets)
	m.Get(p, h.home)
	m.Get(p+"/", h.home)
	m.Get(p+"/sucursal/{branch}", h.branchPage)
	m.Get(p+"/sucursal/{branch}/{service}", h.slotsPage)
	m.Get(p+"/sucursal/{branch}/{service}/reservar", h.bookForm)
	m.Post(p+"/sucursal/{branch}/{service}/reservar", h.bookPost)
	m.Post(p+"/sucursal/{branch}/{service}/fila", h.joinPost)
	m.Get(p+"/hora/{id}", h.bookingPage)
	m.Post(p+"/hora/{id}/cancelar", h.cancelPost)
	m.Post(p+"/hora/{id}/cambiar", h.reschedulePost)
	m.Get(p+"/fila/{id}", h.joinPage)
	m.Get(p+"/llegue/{token}", h.arrivePage)
	m.Post(p+"/llegue/{token}", h.arrivePost)

	m.Get(a+"/branches", h.apiBranches)
	m.Get(a+"/branches/{branch}/services/{service}/slots", h.apiSlots)
	m.Post(a+"/bookings", h.apiBook)
	m.Get(a+"/joins/{id}", h.apiJoin)
	h.mux = m
}

// limit takes a token from the client address's read or write budget.
func (h *Handler) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lim := h.reads
		if r.Method == http.MethodPost {
			lim = h.writes
		}
		if ok, wait := lim.Allow(h.cfg.Proxy.Of(r)); !ok {
			secs := max(1, int((wait+time.Second-1)/time.Second))
			w.Header().Set("Retry-After", fmt.Sprint(secs))
			h.fail(w, r, queue.Errorf(queue.CodeUnavailable, "rate.limited", secs))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isAPI reports whether r is for the JSON API (problem+json errors).
func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, APIPrefix+"/") }

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, queue.Errorf(queue.CodeNotFound, "booking.page_not_found"))
}

// Errors of the page and the API (stable codes, documented in openapi.json).
var (
	errBranch    = queue.Errorf(queue.CodeInvalid, "booking.branch_invalid")
	errService   = queue.Errorf(queue.CodeInvalid, "booking.service_invalid")
	errDay       = queue.Errorf(queue.CodeInvalid, "booking.day_invalid")
	errStart     = queue.Errorf(queue.CodeInvalid, "booking.start_invalid")
	errNote      = queue.Errorf(queue.CodeInvalid, "booking.note_invalid")
	errID        = queue.Errorf(queue.CodeNotFound, "booking.not_found")
	errCSRF      = queue.Errorf(queue.CodeForbidden, "booking.csrf")
	errBody      = queue.Errorf(queue.CodeInvalid, "booking.body_invalid")
	errMedia     = queue.Errorf(queue.CodeInvalid, "booking.json_required")
	errNoJoin    = queue.Errorf(queue.CodeNotFound, "booking.join_unknown")
	errUnknownBr = queue.Errorf(queue.CodeNotFound, "booking.branch_unknown")
)

// storeError maps the store's errors to the page's codes; anything else is
// logged and shown as unavailable.
func (h *Handler) storeError(r *http.Request, err error) error {
	var qe *queue.Error
	switch {
	case errors.Is(err, cloud.ErrSlotFull):
		return queue.Errorf(queue.CodeConflict, "booking.slot_full")
	case errors.Is(err, cloud.ErrNotBookable):
		return queue.Errorf(queue.CodeConflict, "booking.not_bookable")
	case errors.Is(err, cloud.ErrAppointmentNotFound):
		return errID
	case errors.Is(err, cloud.ErrTooLate):
		return queue.Errorf(queue.CodeConflict, "booking.too_late")
	case errors.Is(err, cloud.ErrRemoteClosed):
		return queue.Errorf(queue.CodeConflict, "booking.remote_closed")
	case errors.Is(err, cloud.ErrAlreadyBooked):
		return queue.Errorf(queue.CodeConflict, "booking.already_booked")
	case errors.As(err, &qe) && qe.Code != queue.CodeInternal:
		return err
	}
	if !errors.Is(err, context.Canceled) {
		h.log.Error("booking request failed", "path", r.URL.Path, "err", err)
	}
	return queue.Errorf(queue.CodeUnavailable, "booking.unavailable")
}

// fail answers err: problem+json for the API, the error page otherwise.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if isAPI(r) {
		problem.Write(w, r, err)
		return
	}
	lang := langOf(r)
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, problem.StatusOf(err), "error", lang, map[string]any{"Msg": queue.ErrorMessage(lang, err)})
}

// langOf is the reader's language: ?lang=, then the tq_lang cookie, then
// Accept-Language; Spanish by default.
func langOf(r *http.Request) i18n.Lang {
	if l := r.URL.Query().Get("lang"); l != "" {
		return i18n.Parse(l)
	}
	if c, err := r.Cookie(langCookie); err == nil {
		return i18n.Parse(c.Value)
	}
	return i18n.Parse(r.Header.Get("Accept-Language"))
}

// Cookies of the page.
const (
	csrfCookie = "tq_csrf"
	langCookie = "tq_lang"
	// joinCookie holds the last remote join's "id.code": scanning the
	// branch's QR checks that join in.
	joinCookie = "tq_join"
)

// csrfToken returns the request's CSRF token, setting a new cookie when it
// has none (double submit: a form's hidden field must equal the cookie,
// which another site can neither read nor set).
func (h *Handler) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: PagePrefix, MaxAge: 86400, // #nosec G124 -- Secure follows TICKETERO_INSECURE_COOKIES (plain-HTTP development only)
		HttpOnly: true, Secure: h.cfg.SecureCookies, SameSite: http.SameSiteStrictMode})
	return tok
}

// checkForm parses a posted form and checks its CSRF token and, when the
// browser sends one, its Origin.
func (h *Handler) checkForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		return errBody
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" && !sameOrigin(o, r) {
		return errCSRF
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		return errCSRF
	}
	return nil
}

func sameOrigin(origin string, r *http.Request) bool {
	_, host, ok := strings.Cut(origin, "://")
	return ok && host == r.Host
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// pathBranch and pathService read and check the URL's branch and service.
func pathBranch(r *http.Request) (string, error) {
	b := chi.URLParam(r, "branch")
	if _, err := queue.ParseBranchID(b); err != nil {
		return "", errBranch
	}
	return b, nil
}

func pathService(r *http.Request) (string, error) {
	s := chi.URLParam(r, "service")
	if !queue.ValidServiceCode(s) {
		return "", errService
	}
	return s, nil
}

// pathBranchService reads and checks both.
func pathBranchService(r *http.Request) (string, string, error) {
	b, err := pathBranch(r)
	if err != nil {
		return "", "", err
	}
	s, err := pathService(r)
	return b, s, err
}

// idCode reads a booking's or join's ID (path) and code (c or code).
func idCode(r *http.Request) (string, string, error) {
	id := chi.URLParam(r, "id")
	code := r.FormValue("c")
	if code == "" {
		code = r.FormValue("code")
	}
	if !idRE.MatchString(id) || !event.ValidCheckInCode(code) {
		return "", "", errID
	}
	return id, code, nil
}

// parseRUT checks a typed RUT (check digit) and returns its normal form.
func parseRUT(s string) (string, error) {
	rut, err := queue.ParseRUT(s)
	if err != nil {
		return "", err
	}
	return rut.String(), nil
}

// parseNote checks the optional note for the executive.
func parseNote(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !queue.ValidText(s, queue.MaxText) {
		return "", errNote
	}
	return s, nil
}

// parseDay checks a YYYY-MM-DD day.
func parseDay(s string) (string, error) {
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return "", errDay
	}
	return s, nil
}

// bookable returns the bookable branches (the store caches them).
func (h *Handler) bookable(ctx context.Context) ([]cloud.BookableBranch, error) {
	return h.book.BookableBranches(ctx)
}

// branchOf finds a bookable branch and, when service is not "", its service.
func (h *Handler) branchOf(ctx context.Context, id, service string) (cloud.BookableBranch, cloud.BookableService, error) {
	bs, err := h.bookable(ctx)
	if err != nil {
		return cloud.BookableBranch{}, cloud.BookableService{}, err
	}
	for _, b := range bs {
		if b.ID != id {
			continue
		}
		if service == "" {
			return b, cloud.BookableService{}, nil
		}
		for _, s := range b.Services {
			if s.Code == service {
				return b, s, nil
			}
		}
		return b, cloud.BookableService{}, errService
	}
	return cloud.BookableBranch{}, cloud.BookableService{}, errUnknownBr
}

// search filters branches by a query over name, region and ID (case and
// accents folded).
func search(bs []cloud.BookableBranch, q string) []cloud.BookableBranch {
	q = fold(strings.TrimSpace(q))
	if q == "" {
		return bs
	}
	var out []cloud.BookableBranch
	for _, b := range bs {
		if strings.Contains(fold(b.Name+" "+b.Region+" "+b.ID), q) {
			out = append(out, b)
		}
	}
	return out
}

var folder = strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ü", "u", "ñ", "n")

func fold(s string) string { return folder.Replace(strings.ToLower(s)) }
