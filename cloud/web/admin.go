package web

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/shared/queue"
)

type usersData struct {
	Users []hq.User
	Form  hq.NewUser
}

func (h *Handler) users(w http.ResponseWriter, r *http.Request, q *req) {
	h.showUsers(w, r, q, http.StatusOK, hq.NewUser{Role: hq.RoleSupervisor}, "", r.URL.Query().Get("created"))
}

func (h *Handler) showUsers(w http.ResponseWriter, r *http.Request, q *req, status int, form hq.NewUser, errMsg, created string) {
	users, err := h.store.Users(r.Context())
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	form.Password = ""
	v := q.view("users", usersData{Users: users, Form: form})
	v.Error = errMsg
	if created != "" {
		v.Flash = v.T("hq.user.created", created)
	}
	h.render(w, status, "users", v)
}

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request, q *req) {
	in := hq.NewUser{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), Password: r.PostFormValue("password"),
		Role: hq.Role(r.PostFormValue("role")), Regions: hq.SplitList(r.PostFormValue("regions")), Branches: hq.SplitList(r.PostFormValue("branches"))}
	u, err := h.store.CreateUser(r.Context(), in)
	if err != nil {
		if httpStatus(err) >= 500 {
			h.fail(w, r, q, err)
			return
		}
		h.showUsers(w, r, q, httpStatus(err), in, queue.ErrorMessage(q.Lang, err), "")
		return
	}
	h.audit(r, q, hq.AuditUserCreate, "user:"+u.Email, "role="+string(u.Role))
	http.Redirect(w, r, "/admin/users?created="+u.Email, http.StatusSeeOther)
}

type auditData struct {
	Entries []hq.AuditEntry
	From    string
	To      string
	Actor   string
	Action  string
	Query   string
}

func auditFilter(r *http.Request) (hq.AuditFilter, auditData, error) {
	v := r.URL.Query()
	d := auditData{From: v.Get("from"), To: v.Get("to"), Actor: v.Get("actor"), Action: v.Get("action"), Query: r.URL.RawQuery}
	f := hq.AuditFilter{Actor: d.Actor, Action: d.Action}
	for _, p := range []struct {
		s   string
		dst *time.Time
		add time.Duration
	}{{d.From, &f.From, 0}, {d.To, &f.To, 24 * time.Hour}} {
		if p.s == "" {
			continue
		}
		t, err := time.ParseInLocation(time.DateOnly, p.s, santiago)
		if err != nil {
			return f, d, queue.Errorf(queue.CodeInvalid, "hq.day.invalid", p.s)
		}
		*p.dst = t.Add(p.add)
	}
	return f, d, nil
}

func (h *Handler) auditPage(w http.ResponseWriter, r *http.Request, q *req) {
	f, d, err := auditFilter(r)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	if d.Entries, err = h.store.AuditLog(r.Context(), f); err != nil {
		h.fail(w, r, q, err)
		return
	}
	h.render(w, http.StatusOK, "audit", q.view("audit", d))
}

func (h *Handler) auditCSV(w http.ResponseWriter, r *http.Request, q *req) {
	f, d, err := auditFilter(r)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	f.Limit = 100000
	entries, err := h.store.AuditLog(r.Context(), f)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	h.audit(r, q, hq.AuditExport, "audit", d.Query)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="ticketero-audit.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "at", "actor", "action", "target", "detail", "ip"})
	for _, e := range entries {
		_ = cw.Write([]string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339), e.Actor, e.Action, e.Target, e.Detail, e.IP})
	}
	cw.Flush()
}
