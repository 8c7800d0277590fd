// Package web is the cloud's HQ web: a server-rendered (html/template) live
// national overview pushed over SSE, the branch view, reports with CSV export
// and server-side SVG charts, HQ configuration publishing, users and audit.
// Spanish (es-CL) first, English by Accept-Language or the toggle; every
// string comes from shared/i18n; no CDN, assets are embedded and served under
// content-hashed URLs.
//
// Data access and scope enforcement sit behind cloud.HQStore (implemented by
// cloud/postgres/hq); this package adds sign-in, CSRF, roles and rendering.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/problem"
	"github.com/ticketero/ticketero/shared/ratelimit"
	"github.com/ticketero/ticketero/shared/webasset"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets/*
var assetFS embed.FS

// Config holds the handler's dependencies and settings.
type Config struct {
	Store cloud.HQStore
	// Publisher sends published configs to branches; nil stores versions only.
	Publisher cloud.ConfigPublisher
	// Changes delivers the change notifications the live hub pushes; nil
	// leaves only the periodic refresh (RefreshEvery).
	Changes cloud.ChangeListener
	Log     *slog.Logger
	// RUTSealKey is the cloud's RUT sealing public key (base64 X25519,
	// seal.RUTKeys.PublicKey) sent in every config: branches seal RUTs to it.
	// The RUT hash key itself never leaves the cloud.
	RUTSealKey string
	// SecureCookies sets the Secure attribute (true in production; local
	// plain-HTTP tests may turn it off).
	SecureCookies bool
	// TrustedProxyHops is how many proxies in front of the server append to
	// X-Forwarded-For (1: an ALB; 2: CloudFront then an ALB): the client is
	// the address that many hops from the right, which no client can forge.
	// 0 (the default) uses the peer address (RemoteAddr).
	TrustedProxyHops int
	// TrustForwardedFor is TrustedProxyHops 1 (kept for old configurations).
	TrustForwardedFor bool
	// ClientIPHeader, when set, names a header a trusted proxy sets to the
	// client's address ("CloudFront-Viewer-Address": ip:port); it wins over
	// X-Forwarded-For. Only set it when nothing can reach the server without
	// passing that proxy.
	ClientIPHeader string
	// LoginsPerMinute is the sign-in budget per client address: a burst of
	// that many, then that many a minute (default 10).
	LoginsPerMinute int
	// APIRequestsPerMinute is each API token's budget on the configuration
	// API (api.go): a burst of that many, then that many a minute (default
	// 600); refused credentials count per client address likewise.
	APIRequestsPerMinute int
	// FlushEvery coalesces change notifications before pushing (default 50 ms).
	FlushEvery time.Duration
	// RefreshEvery re-reads every tile (waits grow and
	// agents go offline without events; default 30 s).
	RefreshEvery time.Duration
	// OverviewFromStore reads every overview, window and snapshot from the
	// store instead of the hub's tile cache (tests whose fixtures write rows
	// without the ingest's NOTIFY; production leaves it false).
	OverviewFromStore bool
	// RecheckEvery re-validates a live stream's session or token (and sends a
	// keep-alive; default 20 s): a disabled user or a narrowed scope stops
	// receiving within it.
	RecheckEvery time.Duration
	// DeadLetters lists the newest customer messages given up after their
	// retries, for the given branches (never nil branches: that means all);
	// nil hides the panel.
	DeadLetters cloud.DeadLetters
	// Boxes lists the branches' boxes for the agents page (required).
	Boxes cloud.BoxLister
	// Appointments is HQ's side of the book (schedules, appointment rules,
	// the book per day, the appointment report; appointment.go); nil hides
	// those pages.
	Appointments cloud.AppointmentAdmin
	// PasswordChanged, when set, is told (by e-mail) of every user who has
	// just changed his own password: the first admin's handed-over password
	// file is deleted then.
	PasswordChanged func(email string)
}

// Handler is the HQ web's http.Handler. Run must be running for live push.
type Handler struct {
	cfg    Config
	store  cloud.HQStore
	log    *slog.Logger
	pages  map[string]*template.Template
	assets *webasset.Set
	router http.Handler
	limit  *ratelimit.Keyed
	// apiLimit is the configuration API's budget per token and per client
	// address of refused credentials.
	apiLimit *ratelimit.Keyed
	hub      *Hub
}

// New parses templates and assets (failing fast) and builds the routes.
func New(cfg Config) (*Handler, error) {
	if cfg.Store == nil {
		return nil, errors.New("web: Store is required")
	}
	if cfg.Boxes == nil {
		return nil, errors.New("web: Boxes is required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.TrustForwardedFor && cfg.TrustedProxyHops == 0 {
		cfg.TrustedProxyHops = 1
	}
	if cfg.LoginsPerMinute <= 0 {
		cfg.LoginsPerMinute = 10
	}
	if cfg.APIRequestsPerMinute <= 0 {
		cfg.APIRequestsPerMinute = 600
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = 50 * time.Millisecond
	}
	if cfg.RecheckEvery <= 0 {
		cfg.RecheckEvery = 20 * time.Second
	}
	if cfg.RefreshEvery <= 0 {
		cfg.RefreshEvery = 30 * time.Second
	}
	h := &Handler{cfg: cfg, store: cfg.Store, log: cfg.Log.With("component", "web"),
		pages: map[string]*template.Template{}}
	// Sign-ins per client address: a burst of LoginsPerMinute, refilled at
	// that rate (one limiter per process: a replica behind a load balancer
	// sees a share of the attempts, and the per-account lockout in
	// PostgreSQL holds across replicas).
	h.limit = ratelimit.New(ratelimit.Config{Every: time.Minute / time.Duration(cfg.LoginsPerMinute),
		Burst: cfg.LoginsPerMinute, Now: cfg.Store.Now})
	h.apiLimit = ratelimit.New(ratelimit.Config{Every: time.Minute / time.Duration(cfg.APIRequestsPerMinute),
		Burst: cfg.APIRequestsPerMinute, Now: cfg.Store.Now})
	if err := h.loadAssets(); err != nil {
		return nil, err
	}
	if err := h.parseTemplates(); err != nil {
		return nil, err
	}
	h.hub = newHub(h)
	h.routes()
	return h, nil
}

// Hub returns the live push hub (for tests and metrics).
func (h *Handler) Hub() *Hub { return h.hub }

// Run listens for change notifications and pushes tiles until ctx ends.
func (h *Handler) Run(ctx context.Context) error { return h.hub.Run(ctx) }

func (h *Handler) loadAssets() error {
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		return fmt.Errorf("web: assets: %w", err)
	}
	if h.assets, err = webasset.Load(sub, "/assets/"); err != nil {
		return fmt.Errorf("web: %w", err)
	}
	return nil
}

func (h *Handler) funcs() template.FuncMap {
	return template.FuncMap{
		"asset":    h.assets.URL,
		"dur":      fmtDuration,
		"num":      func(f float64) string { return fmt.Sprintf("%.0f", f) },
		"hhmm":     func(t time.Time) string { return t.In(santiago).Format("15:04:05") },
		"datetime": func(t time.Time) string { return t.In(santiago).Format("2006-01-02 15:04:05") },
		"unix":     func(t *time.Time) int64 { return t.Unix() },
		"join":     strings.Join,
		"split":    strings.Fields,
		"deref":    func(p *int) int { return *p },
		"choices":  choicesOf,
		"minutes":  func(s int) int { return s / 60 },
	}
}

var santiago = func() *time.Location {
	l, err := time.LoadLocation("America/Santiago")
	if err != nil {
		return time.UTC
	}
	return l
}()

// Page templates: each is parsed with the layout and the shared partials.
var pageNames = []string{"login", "overview", "branch", "reports", "config", "config_branch", "config_publish", "users", "audit", "error",
	"holidays", "config_hours", "outcomes",
	"password", "feedback", "agents",
	"templates", "template_edit", "template_preview", "template_rollout", "config_versions",
	"appointments", "book", "appt_report",
}

func (h *Handler) parseTemplates() error {
	shared := []string{"templates/layout.html", "templates/partials.html", "templates/template_form.html"}
	for _, p := range pageNames {
		t, err := template.New(p).Funcs(h.funcs()).ParseFS(templateFS, append(shared, "templates/"+p+".html")...)
		if err != nil {
			return fmt.Errorf("web: template %s: %w", p, err)
		}
		h.pages[p] = t
	}
	return nil
}

// fmtDuration renders seconds as m:ss or h:mm:ss (cloud.FormatDuration).
func fmtDuration(s any) string {
	var n int64
	switch v := s.(type) {
	case int:
		n = int64(v)
	case int64:
		n = v
	case float64:
		n = int64(v + 0.5)
	}
	return cloud.FormatDuration(n)
}

// view is the data of every page.
type view struct {
	Lang  i18n.Lang
	P     cloud.Principal
	CSRF  string
	Nav   string
	Path  string
	Flash string
	Error string
	Data  any
	// start and authDur time the request (req) for Server-Timing.
	start   time.Time
	authDur time.Duration
}

// T translates key in the page's language.
func (v *view) T(key string, args ...any) string { return i18n.T(v.Lang, key, args...) }

// Other is the language the toggle switches to.
func (v *view) Other() string {
	if v.Lang == i18n.EN {
		return "es"
	}
	return "en"
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, v *view) {
	t, ok := h.pages[name]
	if !ok {
		panic("web: no page " + name)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		h.log.Error("render", "page", name, "err", err)
		http.Error(w, i18n.T(v.Lang, "internal"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if !v.start.IsZero() {
		// The server's share of a page as the browser's devtools and
		// navigation timing show it (the HQ's own users only: signed in).
		w.Header().Set("Server-Timing", serverTiming(v.authDur, time.Since(v.start)))
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, b.String())
}

// serverTiming is a Server-Timing header value: the credentials' check and
// the whole handler (template included), in milliseconds.
func serverTiming(auth, app time.Duration) string {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) }
	return "auth;dur=" + ms(auth) + ", app;dur=" + ms(app)
}

// httpStatus is the status of err from the project's one table (shared/problem).
func httpStatus(err error) int { return problem.StatusOf(err) }

// ServeHTTP serves the HQ web (routes.go).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.router.ServeHTTP(w, r) }
