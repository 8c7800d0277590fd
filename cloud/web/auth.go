package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/clientip"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// Cookie names.
const (
	sessionCookie = "ticketero_session"
	loginCSRF     = "ticketero_login_csrf"
	langCookie    = "ticketero_lang"
)

// req is what a handler knows about its request.
type req struct {
	P    cloud.Principal
	CSRF string
	Lang i18n.Lang
	IP   string
	API  bool // authenticated by Bearer token (no cookies, no CSRF)
	Path string
	// newToken is an API token created by this request, shown once.
	newToken string
	// cred is the session cookie or Bearer token that authenticated the
	// request (long-lived streams re-check it).
	cred string
	// start is when the request reached the handler and authDur how long
	// its credentials took to check: a page's Server-Timing header.
	start   time.Time
	authDur time.Duration
}

func (q *req) view(nav string, data any) *view {
	return &view{Lang: q.Lang, P: q.P, CSRF: q.CSRF, Nav: nav, Data: data, Path: q.Path, start: q.start, authDur: q.authDur}
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, q *req)

// access is what a route requires beyond a signed-in principal.
type access int

const (
	anyone access = iota
	canAck
	adminOnly
)

func (h *Handler) lang(r *http.Request) i18n.Lang {
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "es" || c.Value == "en") {
		return i18n.Lang(c.Value)
	}
	return i18n.Parse(r.Header.Get("Accept-Language"))
}

// clientIP is the address rate limits and the audit key on, from the
// trusted proxy's header or X-Forwarded-For hops when configured, else the
// peer (shared/clientip).
func (h *Handler) clientIP(r *http.Request) string {
	return clientip.Proxy{Header: h.cfg.ClientIPHeader, Hops: h.cfg.TrustedProxyHops}.Of(r)
}

// auth wraps a handler: it resolves the principal (Bearer token or session
// cookie), checks the route's access and, for cookie-authenticated unsafe
// methods, the CSRF token.
func (h *Handler) auth(need access, fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := &req{Lang: h.lang(r), IP: h.clientIP(r), Path: r.URL.RequestURI(), start: time.Now()}
		ctx := r.Context()
		if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			p, err := h.store.TokenPrincipal(ctx, strings.TrimSpace(bearer))
			if err != nil {
				q.API = true
				h.fail(w, r, q, err)
				return
			}
			q.P, q.API, q.cred = p, true, strings.TrimSpace(bearer)
		} else {
			c, err := r.Cookie(sessionCookie)
			if err != nil || c.Value == "" {
				h.toLogin(w, r, q)
				return
			}
			p, csrf, err := h.store.Session(ctx, c.Value)
			if queue.ErrorCode(err) == queue.CodeUnauthorized {
				h.toLogin(w, r, q)
				return
			}
			if err != nil {
				h.fail(w, r, q, err)
				return
			}
			q.P, q.CSRF, q.cred = p, csrf, c.Value
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(csrf)) != 1 {
					h.fail(w, r, q, queue.Errorf(queue.CodeForbidden, "hq.csrf"))
					return
				}
			}
			if q.P.MustChangePassword && r.URL.Path != passwordPath && r.URL.Path != "/logout" {
				h.toPassword(w, r, q)
				return
			}
		}
		q.authDur = time.Since(q.start)
		switch {
		case need == adminOnly && !q.P.IsAdmin(), need == canAck && !q.P.CanAck():
			h.fail(w, r, q, queue.Errorf(queue.CodeForbidden, "hq.forbidden"))
			return
		}
		fn(w, r, q)
	})
}

// deny audits a refused access (counted: a client repeating it adds to one
// row a minute).
func (h *Handler) deny(r *http.Request, q *req, target string) {
	h.auditCounted(r, q, cloud.AuditDenied, target, "")
}

// auditCounted records an entry anyone may cause repeatedly (refused
// sign-ins, CSRF failures, denied accesses), aggregated per minute.
func (h *Handler) auditCounted(r *http.Request, q *req, action, target, detail string) {
	if err := h.store.AuditCounted(r.Context(), cloud.AuditEntry{Actor: q.P.Actor(), Action: action, Target: target, Detail: detail, IP: q.IP}); err != nil {
		h.log.Error("audit", "action", action, "err", err)
	}
}

func (h *Handler) audit(r *http.Request, q *req, action, target, detail string) {
	if err := h.store.Audit(r.Context(), cloud.AuditEntry{Actor: q.P.Actor(), Action: action, Target: target, Detail: detail, IP: q.IP}); err != nil {
		h.log.Error("audit", "action", action, "err", err)
	}
}

func (h *Handler) toLogin(w http.ResponseWriter, r *http.Request, q *req) {
	if isAPI(r) || r.Header.Get("Accept") == "text/event-stream" {
		q.API = true
		h.fail(w, r, q, queue.Errorf(queue.CodeUnauthorized, "hq.session.invalid"))
		return
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/hq/v1/") || isConfigAPI(r) }

// fail answers an error: problem+json for API calls, an error page otherwise.
// Non-application errors are logged here, once, and shown generically.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, q *req, err error) {
	h.failWith(w, r, q, err, httpStatus(err))
}

// failWith is fail with an explicit status.
// A refusal of a signed-in principal (403: out of his role or scope, or a
// CSRF failure) is audited here, once for every handler.
func (h *Handler) failWith(w http.ResponseWriter, r *http.Request, q *req, err error, status int) {
	if status == http.StatusForbidden && q.P.Actor() != "" {
		action := cloud.AuditDenied
		if queue.ErrorReason(err) == "hq.csrf" {
			action = cloud.AuditCSRF
		}
		h.auditCounted(r, q, action, r.URL.Path, queue.ErrorReason(err))
	}
	if status >= 500 {
		h.log.Error("request failed", "path", r.URL.Path, "err", err)
	}
	msg := queue.ErrorMessage(q.Lang, err)
	if q.API || isAPI(r) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"type": "about:blank", "title": http.StatusText(status), "status": status,
			"code": queue.ErrorReason(err), "detail": msg,
		})
		return
	}
	v := q.view("", nil)
	v.Error = msg
	h.render(w, status, "error", v)
}

func newToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (h *Handler) setCookie(w http.ResponseWriter, name, value string, maxAge int, site http.SameSite) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, // #nosec G124 -- Secure follows TICKETERO_INSECURE_COOKIES (plain-HTTP development only)
		Secure: h.cfg.SecureCookies, SameSite: site})
}

type loginData struct {
	Email string
	Next  string
}

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	q := &req{Lang: h.lang(r), IP: h.clientIP(r)}
	h.showLogin(w, r, q, http.StatusOK, loginData{Next: safeNext(r.URL.Query().Get("next"))}, "")
}

// showLogin renders the sign-in form with a double-submit CSRF token. An
// existing token cookie is kept, so a second tab (or a favicon request that
// lands here) does not invalidate the form already shown.
func (h *Handler) showLogin(w http.ResponseWriter, r *http.Request, q *req, status int, d loginData, errMsg string) {
	tok := newToken()
	if c, err := r.Cookie(loginCSRF); err == nil && len(c.Value) == len(tok) {
		tok = c.Value
	}
	h.setCookie(w, loginCSRF, tok, 1800, http.SameSiteStrictMode)
	v := q.view("login", d)
	v.CSRF, v.Error = tok, errMsg
	h.render(w, status, "login", v)
}

// login checks a sign-in. Every refusal looks the same to the client (one
// message, one status) and is audited counted, never with more than an
// address-sized actor: a flood from one address adds one row a minute.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	q := &req{Lang: h.lang(r), IP: h.clientIP(r)}
	email, valid := loginEmail(r.PostFormValue("email"))
	d := loginData{Email: email, Next: safeNext(r.PostFormValue("next"))}
	c, err := r.Cookie(loginCSRF)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		h.auditCounted(r, q, cloud.AuditCSRF, "/login", "hq.csrf")
		h.showLogin(w, r, q, http.StatusForbidden, d, i18n.T(q.Lang, "hq.csrf"))
		return
	}
	if ok, _ := h.limit.Allow(q.IP); !ok {
		// The address is not recorded: it is the attacker's to choose.
		h.auditCounted(r, q, cloud.AuditLoginFailed, "", "rate limited")
		h.showLogin(w, r, q, http.StatusTooManyRequests, d, i18n.T(q.Lang, "hq.login.rate"))
		return
	}
	refuse := func(cause string) {
		h.auditCounted(r, q, cloud.AuditLoginFailed, "", cause)
		h.showLogin(w, r, q, http.StatusUnauthorized, d, i18n.T(q.Lang, "hq.login.refused"))
	}
	if !valid {
		d.Email = ""
		refuse("hq.login.invalid_email")
		return
	}
	p, err := h.store.Authenticate(r.Context(), email, r.PostFormValue("password"))
	if err != nil {
		var lr *cloud.LoginRefused
		if !errors.As(err, &lr) {
			h.fail(w, r, q, err)
			return
		}
		q.P.Email = email
		refuse(lr.Cause)
		return
	}
	tok, _, err := h.store.CreateSession(r.Context(), p.UserID, q.IP)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	q.P = p
	h.audit(r, q, cloud.AuditLogin, "", "")
	h.setCookie(w, loginCSRF, "", -1, http.SameSiteStrictMode)
	h.setCookie(w, sessionCookie, tok, int(h.store.SessionLifetime()/time.Second), http.SameSiteLaxMode)
	if p.MustChangePassword {
		d.Next = passwordPath
	}
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, q *req) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := h.store.DeleteSession(r.Context(), c.Value); err != nil {
			h.fail(w, r, q, err)
			return
		}
	}
	h.audit(r, q, cloud.AuditLogout, "", "")
	h.setCookie(w, sessionCookie, "", -1, http.SameSiteLaxMode)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// setLang is the language toggle.
func (h *Handler) setLang(w http.ResponseWriter, r *http.Request) {
	l := r.URL.Query().Get("lang")
	if l != "es" && l != "en" {
		l = "es"
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, // #nosec G124 -- Secure follows TICKETERO_INSECURE_COOKIES (plain-HTTP development only)
		Secure: h.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther) // #nosec G710 -- safeNext keeps only local paths (input.go, tested)
}

// stillAllowed re-checks a long-lived request's credential: false once the
// session ended, the user was disabled, the token revoked or the scope changed.
func (h *Handler) stillAllowed(ctx context.Context, q *req) bool {
	var (
		p   cloud.Principal
		err error
	)
	if q.API {
		p, err = h.store.TokenPrincipal(ctx, q.cred)
	} else {
		p, _, err = h.store.Session(ctx, q.cred)
	}
	if err != nil {
		return queue.ErrorCode(err) != queue.CodeUnauthorized // keep streaming through a database hiccup
	}
	return reflect.DeepEqual(p.Scope(), q.P.Scope()) && p.Role == q.P.Role
}
