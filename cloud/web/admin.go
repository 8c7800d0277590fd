package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/queue"
)

// The users page (/admin/users; admins only): HQ's users and the API tokens
// shown on it.

type usersData struct {
	Users  []cloud.User
	Tokens []cloud.APIToken
	Form   cloud.NewUser
	// NewToken is a token just created, shown once.
	NewToken string
}

func (h *Handler) users(w http.ResponseWriter, r *http.Request, q *req) {
	h.showUsers(w, r, q, http.StatusOK, cloud.NewUser{Role: cloud.RoleSupervisor}, "", r.URL.Query().Get("created"))
}

func (h *Handler) showUsers(w http.ResponseWriter, r *http.Request, q *req, status int, form cloud.NewUser, errMsg, created string) {
	users, err := h.store.Users(r.Context())
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	tokens, err := h.store.Tokens(r.Context())
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	form.Password = ""
	v := q.view("users", usersData{Users: users, Tokens: tokens, Form: form})
	v.Error = errMsg
	if created != "" {
		v.Flash = v.T("hq.user.created", created)
	}
	if q.newToken != "" {
		v.Data.(usersData).setToken(v, q.newToken)
	}
	h.render(w, status, "users", v)
}

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request, q *req) {
	in := cloud.NewUser{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), Password: r.PostFormValue("password"),
		Role: cloud.Role(r.PostFormValue("role")), Regions: cloud.SplitList(r.PostFormValue("regions")), Branches: cloud.SplitList(r.PostFormValue("branches"))}
	u, err := h.store.CreateUser(r.Context(), in)
	if err != nil {
		if httpStatus(err) >= 500 {
			h.fail(w, r, q, err)
			return
		}
		h.showUsers(w, r, q, httpStatus(err), in, queue.ErrorMessage(q.Lang, err), "")
		return
	}
	h.audit(r, q, cloud.AuditUserCreate, "user:"+u.Email, "role="+string(u.Role))
	http.Redirect(w, r, "/admin/users?created="+u.Email, http.StatusSeeOther)
}

func (d usersData) setToken(v *view, tok string) {
	d.NewToken = tok
	v.Data = d
	v.Flash = v.T("hq.token.created")
}

// userChange is a route that changes the user {id} and audits it as op;
// change returns the user's e-mail. A refused change shows the users page
// with the reason.
func (h *Handler) userChange(op string, change func(r *http.Request, id int64) (email string, err error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, q *req) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			h.fail(w, r, q, queue.Errorf(queue.CodeNotFound, "hq.user.not_found", r.PathValue("id")))
			return
		}
		email, err := change(r, id)
		if err != nil {
			if httpStatus(err) >= 500 || httpStatus(err) == http.StatusNotFound {
				h.fail(w, r, q, err)
				return
			}
			h.showUsers(w, r, q, httpStatus(err), cloud.NewUser{Role: cloud.RoleSupervisor}, queue.ErrorMessage(q.Lang, err), "")
			return
		}
		h.audit(r, q, cloud.AuditUserChange, "user:"+email, op)
		http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
	}
}

// userUnlock is POST /admin/users/{id}/unlock: ends a sign-in lockout.
func (h *Handler) userUnlock(r *http.Request, id int64) (string, error) {
	return h.store.Unlock(r.Context(), id)
}

// userDisable is POST /admin/users/{id}/disable; nobody disables themself.
func (h *Handler) userDisable(w http.ResponseWriter, r *http.Request, q *req) {
	if id, err := strconv.ParseInt(r.PathValue("id"), 10, 64); err == nil && id == q.P.UserID {
		h.fail(w, r, q, queue.Errorf(queue.CodeInvalid, "hq.user.self"))
		return
	}
	h.userChange("disable", func(r *http.Request, id int64) (string, error) {
		return h.store.SetDisabled(r.Context(), id, true)
	})(w, r, q)
}

// userEnable is POST /admin/users/{id}/enable.
func (h *Handler) userEnable(r *http.Request, id int64) (string, error) {
	return h.store.SetDisabled(r.Context(), id, false)
}

// userPassword is POST /admin/users/{id}/password: an administrator sets a
// user's password (which signs out the user's sessions).
func (h *Handler) userPassword(r *http.Request, id int64) (string, error) {
	return h.store.SetPassword(r.Context(), id, r.PostFormValue("password"))
}

// createToken makes an API token and shows it once. Its role scopes it like
// a user's (an admin token may change the configuration through the API; a
// supervisor or viewer token only reads, within its regions and branches);
// "expires" (YYYY-MM-DD, optional) is its last day, in Santiago.
func (h *Handler) createToken(w http.ResponseWriter, r *http.Request, q *req) {
	name := r.PostFormValue("name")
	in := cloud.NewToken{Name: name, Role: cloud.Role(r.PostFormValue("role")),
		Regions: cloud.SplitList(r.PostFormValue("regions")), Branches: cloud.SplitList(r.PostFormValue("branches")), CreatedBy: q.P.Actor()}
	var err error
	if in.ExpiresAt, err = cloud.TokenLastDay(r.PostFormValue("expires")); err == nil {
		q.newToken, err = h.store.CreateAPIToken(r.Context(), in)
	}
	if err != nil {
		if httpStatus(err) >= 500 {
			h.fail(w, r, q, err)
			return
		}
		h.showUsers(w, r, q, httpStatus(err), cloud.NewUser{Role: cloud.RoleSupervisor}, queue.ErrorMessage(q.Lang, err), "")
		return
	}
	detail := "role=" + r.PostFormValue("role")
	if !in.ExpiresAt.IsZero() {
		detail += " expires=" + in.ExpiresAt.In(santiago).Format(time.DateOnly)
	}
	h.audit(r, q, cloud.AuditTokenCreate, "token:"+name, detail)
	w.Header().Set("Cache-Control", "no-store")
	h.showUsers(w, r, q, http.StatusOK, cloud.NewUser{Role: cloud.RoleSupervisor}, "", "")
}

func (h *Handler) revokeToken(w http.ResponseWriter, r *http.Request, q *req) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.fail(w, r, q, queue.Errorf(queue.CodeNotFound, "hq.token.not_found", r.PathValue("id")))
		return
	}
	name, err := h.store.RevokeToken(r.Context(), id)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	h.audit(r, q, cloud.AuditTokenRevoke, "token:"+name, "")
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}
