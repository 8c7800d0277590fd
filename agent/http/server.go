// Package http is the branch agent's LAN API: JSON under /api/v1 (chi), the
// live stream (Server-Sent Events), health, readiness and Prometheus metrics,
// and the mount point of the embedded web UI. Errors are RFC 9457
// problem+json with a stable code, in Spanish unless the client asks for
// English.
package http

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/problem"
	"github.com/ticketero/ticketero/shared/queue"
)

// Store is what the API needs from the branch's store (agent/sqlite.Store).
// Methods return *queue.Error values whose reasons become problem codes.
type Store interface {
	// CounterFeedback records a customer's answer on the counter tablet
	// (errors: invalid feedback.score.invalid, not_found feedback.no_visit,
	// conflict feedback.already).
	CounterFeedback(ctx context.Context, counter, csat int, nps *int) (string, error)
	// ExecutiveScore is an executive's customer scores as HQ last sent them
	// (not_found feedback.no_scores).
	ExecutiveScore(ctx context.Context, executive string) (event.ExecutiveScore, error)
	BranchInfo(ctx context.Context) agent.BranchInfo
	Services(ctx context.Context) []agent.ServiceInfo
	Counters(ctx context.Context) []agent.CounterInfo
	Executives(ctx context.Context) ([]agent.ExecutiveInfo, error)
	Queues(ctx context.Context) (string, []agent.QueueInfo)
	Calls(ctx context.Context, limit int) ([]agent.Call, error)
	StatsToday(ctx context.Context) (agent.Stats, error)
	Issue(ctx context.Context, r agent.TicketRequest) (agent.TicketInfo, bool, error)
	Ticket(ctx context.Context, id string) (agent.TicketInfo, error)
	Login(ctx context.Context, exec, pin string, counter int, addr string) (string, agent.SessionInfo, error)
	Session(ctx context.Context, token string) (agent.SessionInfo, error)
	Logout(ctx context.Context, token string) error
	Pause(ctx context.Context, token, reason string) (agent.SessionInfo, error)
	Resume(ctx context.Context, token string) (agent.SessionInfo, error)
	CallNext(ctx context.Context, token string, counter int) (*agent.TicketInfo, error)
	Act(ctx context.Context, token string, a agent.Act) (agent.TicketInfo, error)
	PauseFor(ctx context.Context, token, code, reason string) (agent.SessionInfo, error)
	CallTicket(ctx context.Context, token string, counter int, id, reason string) (agent.TicketInfo, error)
	WalkIn(ctx context.Context, token string, w agent.WalkIn) (agent.TicketInfo, error)
	Customer(ctx context.Context, token, id string) (agent.Customer, error)
	// CheckIn checks a customer in at the kiosk by code or RUT (checkin.go).
	CheckIn(ctx context.Context, code, rut string) (agent.CheckInInfo, error)
	Outcomes(ctx context.Context) []queue.Outcome
	SyncState(ctx context.Context) (agent.SyncState, error)
	Broker() *agent.Broker
	Ready(ctx context.Context) error
}

// Config is what a server is built from.
type Config struct {
	Store Store
	// Link reports the cloud link for GET /api/v1/sync; nil means standalone.
	Link agent.Link
	// UI, when set, serves "/", "/kiosk", "/terminal", "/display", "/branch"
	// and "/assets/*" (agent/web).
	UI      http.Handler
	Logger  *slog.Logger
	Version string
	Now     func() time.Time
	// MaxBody is the largest request body accepted (default 64 KiB).
	MaxBody int64
	// Ping is the interval of the stream's keep-alive comment (default 15 s).
	Ping time.Duration
	// Registry receives the metrics; nil makes a new one with the Go and
	// process collectors.
	Registry *prometheus.Registry
	// RateLimits are the per-address budgets (ratelimit.go); nil does not
	// limit (embedders and tests), ticketero-agent serve passes its config.
	RateLimits *Limits
	// AllowedHosts are the names the box answers to besides localhost and IP
	// literals (guard.go); nil checks no Host (embedders and tests).
	AllowedHosts []string
}

// Server is the LAN API.
type Server struct {
	cfg     Config
	log     *slog.Logger
	router  chi.Router
	reg     *prometheus.Registry
	issued  *prometheus.CounterVec
	called  *prometheus.CounterVec
	latency *prometheus.HistogramVec
	limited *prometheus.CounterVec
	limiter *limiter
	stop    chan struct{}
}

//go:embed openapi.json
var openAPI []byte

// New builds the server and its routes.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("http: nil store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 64 << 10
	}
	if cfg.Ping <= 0 {
		cfg.Ping = 15 * time.Second
	}
	if !json.Valid(openAPI) {
		return nil, errors.New("http: embedded openapi.json is not valid JSON")
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "http"), reg: cfg.Registry, stop: make(chan struct{})}
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
		s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if cfg.RateLimits != nil {
		s.limiter = newLimiter(*cfg.RateLimits, cfg.Now)
	}
	if err := s.metrics(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.router }

// Close ends the live streams so an http.Server can shut down.
func (s *Server) Close() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
}

func (s *Server) routes() {
	r := chi.NewRouter()
	r.Use(s.recoverer, s.measure, s.guard, s.rateLimit)
	r.Use(compress)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.problem(w, r, queue.Errorf(queue.CodeNotFound, "route.not_found"))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.problem(w, r, queue.Errorf(queue.CodeInvalid, "method.not_allowed"))
	})
	r.Get("/healthz", s.health)
	r.Get("/readyz", s.ready)
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	r.Route("/api/v1", func(r chi.Router) {
		r.Get("/openapi.json", s.openapi)
		r.Get("/branch", s.branch)
		r.Get("/services", s.services)
		r.Get("/counters", s.counters)
		r.Get("/executives", s.executives)
		r.Get("/queues", s.queues)
		r.Get("/calls", s.calls)
		r.Get("/stats/today", s.statsToday)
		r.Get("/sync", s.sync)
		r.Get("/stream", s.stream)
		r.Post("/tickets", s.ticketIssue)
		r.Post("/check-ins", s.checkIn)
		r.Get("/tickets/{id}", s.ticketGet)
		r.Post("/tickets/{id}/recall", s.ticketAct(queue.ActionRecall))
		r.Post("/tickets/{id}/start", s.ticketAct(queue.ActionStart))
		r.Post("/tickets/{id}/complete", s.ticketAct(queue.ActionComplete))
		r.Post("/tickets/{id}/no-show", s.ticketAct(queue.ActionNoShow))
		r.Post("/tickets/{id}/requeue", s.ticketAct(queue.ActionRequeue))
		r.Post("/tickets/{id}/transfer", s.ticketAct(queue.ActionTransfer))
		r.Post("/tickets/{id}/cancel", s.ticketAct(queue.ActionCancel))
		r.Post("/sessions", s.sessionCreate)
		r.Get("/sessions/current", s.sessionGet)
		r.Get("/sessions/current/scores", s.sessionScores)
		r.Delete("/sessions/current", s.sessionDelete)
		r.Post("/sessions/current/pause", s.sessionPause)
		r.Post("/sessions/current/resume", s.sessionResume)
		r.Post("/counters/{counter}/call-next", s.ticketCallNext)
		r.Post("/counters/{counter}/feedback", s.counterFeedback)
		s.visitRoutes(r)
		s.managerRoutes(r)
	})
	if s.cfg.UI != nil {
		ui := ownRouting(s.cfg.UI)
		for _, p := range []string{"/", "/kiosk", "/terminal", "/display", "/branch", "/tablet"} {
			r.Method(http.MethodGet, p, ui)
			r.Method(http.MethodHead, p, ui)
		}
		r.Method(http.MethodGet, "/assets/*", ui)
		r.Method(http.MethodHead, "/assets/*", ui)
	}
	s.router = r
}

// ownRouting hides this router's routing context from h, a chi router of its
// own (agent/web) that routes the full path: otherwise chi would treat it as
// nested, append its patterns to this router's and the metrics' route label
// ("/assets/*") would become a concatenation of both.
func ownRouting(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, nil)))
	})
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
}

// OpenAPI returns the embedded OpenAPI document.
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

// Routes lists the router's routes as "METHOD /path" (for the OpenAPI test).
func (s *Server) Routes() []string {
	var out []string
	_ = chi.Walk(s.router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out = append(out, method+" "+route)
		return nil
	})
	return out
}

// problem writes err as RFC 9457 problem+json (shared/problem: one table of
// statuses for every API). Errors that are not *queue.Error are logged and
// shown as a generic internal error.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return // the client went away
	}
	if queue.ErrorCode(err) == queue.CodeInternal {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	problem.Write(w, r, err)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body into v. An empty body leaves v as it is when
// optional; more than MaxBody is too large; anything else that does not
// decode is malformed. Every string of the request must be free text the
// branch may store and sync (queue.CheckStrings: UTF-8, no control character,
// bounded): else text.invalid and nothing is written.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return queue.Errorf(queue.CodeInvalid, "request.too_large", s.cfg.MaxBody)
	}
	if err != nil {
		return queue.Errorf(queue.CodeInvalid, "request.malformed")
	}
	if !utf8.Valid(raw) {
		// The JSON decoder would turn these bytes into U+FFFD silently.
		return queue.CheckText("body", string(raw), queue.MaxText)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	err = dec.Decode(v)
	if errors.Is(err, errEOF) && optional {
		return nil
	}
	if err == nil {
		if _, terr := dec.Token(); !errors.Is(terr, errEOF) {
			err = errors.New("trailing data")
		}
	}
	if err != nil {
		return queue.Errorf(queue.CodeInvalid, "request.malformed")
	}
	return queue.CheckStrings(v)
}

// bearer returns the session token of the request.
func bearer(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	tok = strings.TrimSpace(tok)
	if !ok || tok == "" || len(tok) > 256 {
		return "", queue.Errorf(queue.CodeUnauthorized, "session.required")
	}
	return tok, nil
}

// recoverer turns a panic into a logged internal error, never a crash. It
// stays hand-written: chi's Recoverer answers plain text and prints the
// stack, where every answer of this API is problem+json and errors are
// logged once through slog.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.problem(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func (s *Server) measure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// chi's writer records the status and passes Flush through for the
		// stream.
		sw := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(sw, r)
		route := chi.RouteContext(r.Context()).RoutePattern()
		if route == "" {
			route = "unmatched"
		}
		if route == "/api/v1/stream" {
			return
		}
		status := sw.Status()
		if status == 0 {
			status = http.StatusOK
		}
		s.latency.WithLabelValues(r.Method, route, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
	})
}

// compress gzips (or deflates) text answers for clients that ask: pages,
// scripts, styles, JSON and problems, the QR SVGs. The live stream is left
// alone (it must reach the client event by event, and chi's writer does not
// pass a flush through the metrics' status writer); Prometheus compresses
// its own answer.
func compress(next http.Handler) http.Handler {
	gz := middleware.Compress(5, "text/html", "text/css", "text/javascript", "application/javascript",
		"application/json", "application/problem+json", "image/svg+xml")(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/stream" {
			next.ServeHTTP(w, r)
			return
		}
		gz.ServeHTTP(w, r)
	})
}

func truncate(s string) string {
	if len(s) > 32 {
		return s[:32]
	}
	return s
}
