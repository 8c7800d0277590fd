package web

import (
	"net/http"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// passwordPath is the page where a signed-in user changes his password; a
// user who must change it (the first admin) is sent here from every page.
const passwordPath = "/account/password"

// toPassword sends a user who must change his password to the form (pages)
// or refuses (anything else: API calls, live streams, posts).
func (h *Handler) toPassword(w http.ResponseWriter, r *http.Request, q *req) {
	if r.Method == http.MethodGet && !isAPI(r) && r.Header.Get("Accept") != "text/event-stream" {
		http.Redirect(w, r, passwordPath, http.StatusSeeOther)
		return
	}
	h.fail(w, r, q, queue.Errorf(queue.CodeForbidden, "hq.password.must"))
}

func (h *Handler) passwordForm(w http.ResponseWriter, _ *http.Request, q *req) {
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, http.StatusOK, "password", q.view("", nil))
}

// changePassword replaces the signed-in user's password (after checking the
// current one) and clears the must-change flag; his other sessions end.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request, q *req) {
	if q.API {
		h.fail(w, r, q, queue.Errorf(queue.CodeForbidden, "hq.forbidden"))
		return
	}
	show := func(err error) {
		status := httpStatus(err)
		if status >= 500 {
			h.fail(w, r, q, err)
			return
		}
		v := q.view("", nil)
		v.Error = queue.ErrorMessage(q.Lang, err)
		h.render(w, status, "password", v)
	}
	// Guessing the current password from a stolen session is limited like
	// signing in.
	if ok, _ := h.limit.Allow(q.IP); !ok {
		v := q.view("", nil)
		v.Error = i18n.T(q.Lang, "hq.login.rate")
		h.render(w, http.StatusTooManyRequests, "password", v)
		return
	}
	cur, next := r.PostFormValue("current"), r.PostFormValue("new")
	if next != r.PostFormValue("confirm") {
		show(queue.Errorf(queue.CodeInvalid, "hq.password.mismatch"))
		return
	}
	if err := h.store.ChangePassword(r.Context(), q.P.UserID, cur, next, q.cred); err != nil {
		show(err)
		return
	}
	h.audit(r, q, cloud.AuditUserChange, "user:"+q.P.Email, "password changed")
	q.P.MustChangePassword = false
	if h.cfg.PasswordChanged != nil {
		h.cfg.PasswordChanged(q.P.Email)
	}
	v := q.view("", nil)
	v.Flash = i18n.T(q.Lang, "hq.password.changed")
	h.render(w, http.StatusOK, "password", v)
}
