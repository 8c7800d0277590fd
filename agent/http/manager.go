package http

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/queue"
)

// managerStore is what the branch manager's routes need from the store
// (agent/sqlite.Store implements it; a store without it serves no manager
// routes). Methods return *queue.Error values as in agent.Engine's manager
// operations.
type managerStore interface {
	ManagerLogin(ctx context.Context, id, pin, addr string) (string, agent.ManagerSession, error)
	ManagerSession(ctx context.Context, token string) (agent.ManagerSession, error)
	ManagerLogout(ctx context.Context, token string) error
	ManagerToday(ctx context.Context) agent.ManagerDay
	SetServiceToday(ctx context.Context, token, code string, open bool) error
	SetServicesToday(ctx context.Context, token, exec string, codes []string) error
	SignOutExecutive(ctx context.Context, token, exec string) error
	PostMessage(ctx context.Context, token, text string, minutes int) error
}

// managerRoutes mounts the branch manager's API under /api/v1 (r) and the
// TV's message, which anyone on the LAN may read.
func (s *Server) managerRoutes(r chi.Router) {
	m, ok := s.cfg.Store.(managerStore)
	if !ok {
		return
	}
	h := managerAPI{s: s, m: m}
	r.Get("/display/message", h.displayMessage)
	r.Route("/manager", func(r chi.Router) {
		r.Post("/sessions", h.sessionCreate)
		r.Get("/sessions/current", h.sessionGet)
		r.Delete("/sessions/current", h.sessionDelete)
		r.Get("/today", h.today)
		r.Post("/services/{code}/close", h.serviceSet(false))
		r.Post("/services/{code}/open", h.serviceSet(true))
		r.Put("/executives/{id}/services", h.executiveServices)
		r.Post("/executives/{id}/sign-out", h.executiveSignOut)
		r.Put("/display-message", h.messagePut)
		r.Delete("/display-message", h.messageDelete)
	})
}

type managerAPI struct {
	s *Server
	m managerStore
}

type managerSessionJSON struct {
	Manager   string    `json:"manager"`
	Name      string    `json:"name"`
	StartedAt time.Time `json:"started_at"`
}

func managerSessionView(ms agent.ManagerSession) managerSessionJSON {
	return managerSessionJSON{Manager: ms.Manager, Name: ms.Name, StartedAt: ms.StartedAt.UTC()}
}

type messageJSON struct {
	Text  string    `json:"text"`
	Until time.Time `json:"until"`
}

func messageView(m *agent.DisplayMessage) *messageJSON {
	if m == nil {
		return nil
	}
	return &messageJSON{Text: m.Text, Until: m.Until.UTC()}
}

// managerToken is the bearer token of a live manager session.
func (h managerAPI) managerToken(r *http.Request) (string, error) {
	tok, err := bearer(r)
	if err != nil {
		return "", queue.Errorf(queue.CodeUnauthorized, "manager.session_required")
	}
	if _, err := h.m.ManagerSession(r.Context(), tok); err != nil {
		return "", err
	}
	return tok, nil
}

// isManager reports whether the request carries a live manager session.
func (s *Server) isManager(r *http.Request) bool {
	m, ok := s.cfg.Store.(managerStore)
	if !ok {
		return false
	}
	tok, err := bearer(r)
	if err != nil {
		return false
	}
	_, err = m.ManagerSession(r.Context(), tok)
	return err == nil
}

func (h managerAPI) sessionCreate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Executive string `json:"executive"`
		PIN       string `json:"pin"`
	}
	if err := h.s.decode(w, r, &body, false); err != nil {
		h.s.problem(w, r, err)
		return
	}
	tok, ms, err := h.m.ManagerLogin(r.Context(), body.Executive, body.PIN, clientKey(r))
	if err != nil {
		h.s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		Token string `json:"token"`
		managerSessionJSON
	}{tok, managerSessionView(ms)})
}

func (h managerAPI) sessionGet(w http.ResponseWriter, r *http.Request) {
	tok, err := bearer(r)
	if err != nil {
		h.s.problem(w, r, queue.Errorf(queue.CodeUnauthorized, "manager.session_required"))
		return
	}
	ms, err := h.m.ManagerSession(r.Context(), tok)
	if err != nil {
		h.s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, managerSessionView(ms))
}

func (h managerAPI) sessionDelete(w http.ResponseWriter, r *http.Request) {
	tok, err := bearer(r)
	if err != nil {
		h.s.problem(w, r, queue.Errorf(queue.CodeUnauthorized, "manager.session_required"))
		return
	}
	if err := h.m.ManagerLogout(r.Context(), tok); err != nil {
		h.s.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// writeToday answers with today's manager changes.
func (h managerAPI) writeToday(w http.ResponseWriter, r *http.Request) {
	d := h.m.ManagerToday(r.Context())
	closed, services := d.Closed, d.Services
	if closed == nil {
		closed = []string{}
	}
	if services == nil {
		services = map[string][]string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"day": d.Day, "closed": closed, "services": services,
		"message": messageView(d.Message)})
}

func (h managerAPI) today(w http.ResponseWriter, r *http.Request) {
	if _, err := h.managerToken(r); err != nil {
		h.s.problem(w, r, err)
		return
	}
	h.writeToday(w, r)
}

// act runs a manager action with the request's token and answers with
// today's changes.
func (h managerAPI) act(w http.ResponseWriter, r *http.Request, do func(tok string) error) {
	tok, err := bearer(r)
	if err != nil {
		h.s.problem(w, r, queue.Errorf(queue.CodeUnauthorized, "manager.session_required"))
		return
	}
	if err := do(tok); err != nil {
		h.s.problem(w, r, err)
		return
	}
	h.writeToday(w, r)
}

func (h managerAPI) serviceSet(open bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body struct{}
		if err := h.s.decode(w, r, &body, true); err != nil {
			h.s.problem(w, r, err)
			return
		}
		h.act(w, r, func(tok string) error {
			return h.m.SetServiceToday(r.Context(), tok, chi.URLParam(r, "code"), open)
		})
	}
}

func (h managerAPI) executiveServices(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Services []string `json:"services"`
	}
	if err := h.s.decode(w, r, &body, false); err != nil {
		h.s.problem(w, r, err)
		return
	}
	h.act(w, r, func(tok string) error {
		return h.m.SetServicesToday(r.Context(), tok, chi.URLParam(r, "id"), body.Services)
	})
}

func (h managerAPI) executiveSignOut(w http.ResponseWriter, r *http.Request) {
	var body struct{}
	if err := h.s.decode(w, r, &body, true); err != nil {
		h.s.problem(w, r, err)
		return
	}
	h.act(w, r, func(tok string) error {
		return h.m.SignOutExecutive(r.Context(), tok, chi.URLParam(r, "id"))
	})
}

func (h managerAPI) messagePut(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Text    string `json:"text"`
		Minutes int    `json:"minutes"`
	}
	if err := h.s.decode(w, r, &body, false); err != nil {
		h.s.problem(w, r, err)
		return
	}
	if body.Text == "" {
		h.s.problem(w, r, queue.Errorf(queue.CodeInvalid, "manager.message_empty"))
		return
	}
	h.act(w, r, func(tok string) error { return h.m.PostMessage(r.Context(), tok, body.Text, body.Minutes) })
}

func (h managerAPI) messageDelete(w http.ResponseWriter, r *http.Request) {
	h.act(w, r, func(tok string) error { return h.m.PostMessage(r.Context(), tok, "", 0) })
}

// displayMessage is GET /api/v1/display/message: the manager's message for
// the waiting-room TV while it lasts (null: none).
func (h managerAPI) displayMessage(w http.ResponseWriter, r *http.Request) {
	d := h.m.ManagerToday(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{"message": messageView(d.Message)})
}
