// Package http is the cloud's HTTP server: health, readiness, Prometheus
// metrics, the branches' sync state API and its OpenAPI document. The HQ web UI
// (cloud/web) is mounted at "/" through Server.UI.
package http

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ticketero/ticketero/cloud"
	sharedproblem "github.com/ticketero/ticketero/shared/problem"
	"github.com/ticketero/ticketero/shared/queue"
)

//go:embed openapi.json
var openAPI []byte

// Check is a readiness probe: nil when the dependency is usable.
type Check func(ctx context.Context) error

// Server serves the cloud's HTTP API.
type Server struct {
	Sync     cloud.SyncReader
	Gatherer prometheus.Gatherer
	// Ready checks, by name (database, broker); all must pass for /readyz.
	Ready map[string]Check
	// UI, when set, serves everything outside /api, /healthz, /readyz and
	// /metrics, and /api/v1/config/…: the HQ web (cloud/web) is mounted here.
	UI http.Handler
	// Enroll, when set, serves the field enrolment API (cloud/enroll):
	// POST /api/v1/enroll, /api/v1/enroll/renew, /api/v1/enroll/resume and
	// /api/v1/branches/{id}/enroll-codes.
	Enroll http.Handler
	// Public, when set, serves the customers' booking page and virtual queue
	// (cloud/booking): /agenda, /agenda/... and the JSON API under
	// /api/v1/public/.
	Public http.Handler
	Log    *slog.Logger
	// OpsGuard, when set, wraps the operations endpoints (/metrics and
	// /api/v1/branches/{id}/sync) on the public listener: behind an
	// internet-facing load balancer they must not be open to anyone.
	OpsGuard func(http.Handler) http.Handler
	// Timeouts bound every connection (zero fields take the defaults).
	Timeouts Timeouts

	srv, isrv *http.Server
	ln, iln   net.Listener
}

// Timeouts are the HTTP server's limits. A slow client (one header byte a
// minute, a body that never ends, a reader that never reads) would otherwise
// hold a connection and its goroutine for ever. Long-lived streams (the HQ
// web's SSE) extend their own write deadline.
type Timeouts struct {
	ReadHeader time.Duration // default 10 s
	Read       time.Duration // whole request incl. body; default 30 s
	Write      time.Duration // from the end of the headers to the end of the response; default 60 s
	Idle       time.Duration // keep-alive; default 120 s
	// MaxHeaderBytes caps the request line and headers; default 64 KiB.
	MaxHeaderBytes int
}

// DefaultTimeouts are the limits of a zero Timeouts.
func DefaultTimeouts() Timeouts {
	return Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: 60 * time.Second,
		Idle: 120 * time.Second, MaxHeaderBytes: 64 << 10}
}

func (t Timeouts) withDefaults() Timeouts {
	d := DefaultTimeouts()
	if t.ReadHeader <= 0 {
		t.ReadHeader = d.ReadHeader
	}
	if t.Read <= 0 {
		t.Read = d.Read
	}
	if t.Write <= 0 {
		t.Write = d.Write
	}
	if t.Idle <= 0 {
		t.Idle = d.Idle
	}
	if t.MaxHeaderBytes <= 0 {
		t.MaxHeaderBytes = d.MaxHeaderBytes
	}
	return t
}

func (s *Server) newHTTPServer(h http.Handler) *http.Server {
	t := s.Timeouts.withDefaults()
	return &http.Server{Handler: h, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read, WriteTimeout: t.Write,
		IdleTimeout: t.Idle, MaxHeaderBytes: t.MaxHeaderBytes}
}

// Handler builds the public router: everything, with the operations
// endpoints behind OpsGuard.
func (s *Server) Handler() http.Handler { return s.handler(true) }

// InternalHandler builds the internal listener's router: health, readiness,
// metrics and the sync API, without OpsGuard (for a scraper or an operator
// inside the network; never exposed through the load balancer).
func (s *Server) InternalHandler() http.Handler { return s.handler(false) }

func (s *Server) handler(public bool) http.Handler {
	r := chi.NewRouter()
	// get routes GET and HEAD: the UI's catch-all must not take a probe's HEAD.
	get := func(path string, h http.Handler) {
		r.Method(http.MethodGet, path, h)
		r.Method(http.MethodHead, path, h)
	}
	guard := func(h http.Handler) http.Handler { return h }
	if public && s.OpsGuard != nil {
		guard = s.OpsGuard
	}
	get("/healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	}))
	get("/readyz", http.HandlerFunc(s.readyz))
	g := s.Gatherer
	if g == nil {
		g = prometheus.NewRegistry()
	}
	get("/metrics", guard(promhttp.HandlerFor(g, promhttp.HandlerOpts{})))
	get("/api/v1/openapi.json", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	}))
	get("/api/v1/branches/{id}/sync", guard(http.HandlerFunc(s.branchSync)))
	if !public {
		return r
	}
	if s.Enroll != nil {
		for _, p := range []string{"/api/v1/enroll", "/api/v1/enroll/renew", "/api/v1/enroll/resume",
			"/api/v1/branches/{id}/enroll-codes"} {
			r.Method(http.MethodPost, p, s.Enroll)
		}
	}
	if s.Public != nil {
		for _, p := range []string{"/agenda", "/agenda/*", "/api/v1/public/*"} {
			r.Handle(p, s.Public)
		}
	}
	// Anything else under /api (an unknown path or a method a route does
	// not take) is the API's problem+json 404, never the UI's page.
	apiNotFound := func(w http.ResponseWriter, r *http.Request) {
		problem(w, r, s.log(), queue.Errorf(queue.CodeNotFound, "sync.not_found"))
	}
	r.HandleFunc("/api", apiNotFound)
	r.HandleFunc("/api/*", apiNotFound)
	// Except the HQ web's JSON configuration API (cloud/web/api.go), which
	// answers its own problem+json under its prefix.
	if s.UI != nil {
		r.Handle("/api/v1/config", s.UI)
		r.Handle("/api/v1/config/*", s.UI)
	}
	// ---- dashboard mount point: cloud/web's handler serves "/" (UI field). ----
	if s.UI != nil {
		r.Mount("/", s.UI)
	}
	return r
}

func (s *Server) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	out := map[string]string{}
	ok := true
	for name, check := range s.Ready {
		if err := check(ctx); err != nil {
			out[name] = err.Error()
			ok = false
		} else {
			out[name] = "ok"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Server) branchSync(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := queue.ParseBranchID(id); err != nil { // the one rule for branch IDs
		problem(w, r, s.log(), queue.Errorf(queue.CodeInvalid, "sync.branch_invalid", id))
		return
	}
	st, err := s.Sync.BranchSync(r.Context(), id)
	if err != nil {
		problem(w, r, s.log(), err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(st)
}

// problem answers with RFC 9457 problem+json (shared/problem); anything that
// is not a *queue.Error is logged once here and shown as unavailable.
func problem(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var qe *queue.Error
	if !errors.As(err, &qe) {
		log.Error("request failed", "path", r.URL.Path, "err", err)
		err = queue.Errorf(queue.CodeUnavailable, "sync.unavailable")
	}
	sharedproblem.Write(w, r, err)
}

// Listen binds addr (":0" for a free port).
func (s *Server) Listen(addr string) (err error) {
	s.ln, s.srv, err = s.listen(addr, s.Handler())
	return err
}

// ListenInternal binds the internal listener (InternalHandler); call it
// after Listen and before Serve.
func (s *Server) ListenInternal(addr string) (err error) {
	s.iln, s.isrv, err = s.listen(addr, s.InternalHandler())
	return err
}

func (s *Server) listen(addr string, h http.Handler) (net.Listener, *http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	return ln, s.newHTTPServer(h), nil
}

// Addr is the bound address after Listen.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// InternalAddr is the internal listener's address ("" without one).
func (s *Server) InternalAddr() string {
	if s.iln == nil {
		return ""
	}
	return s.iln.Addr().String()
}

// Serve serves (both listeners) until Shutdown.
func (s *Server) Serve() error {
	errc := make(chan error, 1)
	if s.isrv != nil {
		go func() { errc <- s.isrv.Serve(s.iln) }()
	}
	err := s.srv.Serve(s.ln)
	if s.isrv != nil {
		if !errors.Is(err, http.ErrServerClosed) {
			_ = s.isrv.Close()
		}
		if ierr := <-errc; !errors.Is(ierr, http.ErrServerClosed) && err == nil {
			err = ierr
		}
	}
	if !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops the server gracefully.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	var ierr error
	if s.isrv != nil {
		ierr = s.isrv.Shutdown(ctx)
	}
	return errors.Join(s.srv.Shutdown(ctx), ierr)
}
