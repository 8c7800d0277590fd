package web

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/ticketero/ticketero/shared/queue"
)

// OpsGuard protects the cloud's operations endpoints (Prometheus metrics, a
// branch's sync state) served on the same listener as the HQ web: a request
// passes with the Bearer opsToken (when not empty; for a scraper), or as an
// HQ admin (session cookie or API token). Anything else gets a 401 (403 for
// a signed-in non-admin, audited) problem.
func (h *Handler) OpsGuard(opsToken string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := &req{Lang: h.lang(r), IP: h.clientIP(r), API: true}
			bearer, isBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			bearer = strings.TrimSpace(bearer)
			if isBearer && opsToken != "" && subtle.ConstantTimeCompare([]byte(bearer), []byte(opsToken)) == 1 {
				next.ServeHTTP(w, r)
				return
			}
			var err error
			switch {
			case isBearer:
				q.P, err = h.store.TokenPrincipal(r.Context(), bearer)
			default:
				c, cerr := r.Cookie(sessionCookie)
				if cerr != nil || c.Value == "" {
					err = queue.Errorf(queue.CodeUnauthorized, "hq.ops.unauthorized")
					break
				}
				q.P, _, err = h.store.Session(r.Context(), c.Value)
			}
			if queue.ErrorCode(err) == queue.CodeUnauthorized {
				h.fail(w, r, q, queue.Errorf(queue.CodeUnauthorized, "hq.ops.unauthorized"))
				return
			}
			if err != nil {
				h.fail(w, r, q, err)
				return
			}
			if !q.P.IsAdmin() || q.P.MustChangePassword {
				h.fail(w, r, q, queue.Errorf(queue.CodeForbidden, "hq.ops.unauthorized")) // audited by fail
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
