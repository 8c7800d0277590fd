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
	"regexp"
	"time"

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
	// /metrics: the dashboard engineer's cloud/web handler is mounted here.
	UI http.Handler
	// Enroll, when set, serves the field enrolment API (cloud/enroll):
	// POST /api/v1/enroll, /api/v1/enroll/renew, /api/v1/enroll/resume and
	// /api/v1/branches/{id}/enroll-codes.
	Enroll http.Handler
	Log    *slog.Logger

	srv *http.Server
	ln  net.Listener
}

var branchID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Handler builds the router.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	g := s.Gatherer
	if g == nil {
		g = prometheus.NewRegistry()
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	})
	mux.HandleFunc("GET /api/v1/branches/{id}/sync", s.branchSync)
	if s.Enroll != nil {
		for _, p := range []string{"POST /api/v1/enroll", "POST /api/v1/enroll/renew", "POST /api/v1/enroll/resume",
			"POST /api/v1/branches/{id}/enroll-codes"} {
			mux.Handle(p, s.Enroll)
		}
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		problem(w, r, s.log(), queue.Errorf(queue.CodeNotFound, "sync.not_found"))
	})
	// ---- dashboard mount point: cloud/web's handler serves "/" (UI field). ----
	if s.UI != nil {
		mux.Handle("/", s.UI)
	}
	return mux
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
	if !branchID.MatchString(id) {
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
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	return nil
}

// Addr is the bound address after Listen.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until Shutdown.
func (s *Server) Serve() error {
	if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops the server gracefully.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}
