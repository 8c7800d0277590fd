package web

import "net/http"

func (h *Handler) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /assets/{name}", h.assetsHandler)
	m.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	m.HandleFunc("GET /login", h.loginForm)
	m.HandleFunc("POST /login", h.login)
	m.HandleFunc("GET /lang", h.setLang)
	m.Handle("POST /logout", h.auth(anyone, h.logout))
	m.Handle("GET "+passwordPath, h.auth(anyone, h.passwordForm))
	m.Handle("POST "+passwordPath, h.auth(anyone, h.changePassword))

	m.Handle("GET /{$}", h.auth(anyone, h.overview))
	m.Handle("GET /live", h.auth(anyone, h.live))
	m.Handle("GET /alerts", h.auth(anyone, h.alertsFragment))
	m.Handle("POST /alerts/{id}/ack", h.auth(canAck, h.ackAlert))
	m.Handle("GET /branches/{id}", h.auth(anyone, h.branch))
	m.Handle("GET /reports", h.auth(anyone, h.reports))
	m.Handle("GET /reports.csv", h.auth(anyone, h.reportCSV))

	m.Handle("GET /config", h.auth(adminOnly, h.configList))
	m.Handle("POST /config/branches", h.auth(adminOnly, h.configPutBranch))
	m.Handle("GET /config/branches/{id}", h.auth(adminOnly, h.configBranch))
	m.Handle("GET /config/branches/{id}/publish", h.auth(adminOnly, h.configReview))
	m.Handle("POST /config/branches/{id}/{what}", h.auth(adminOnly, h.configPost))
	m.Handle("POST /config/branches/{id}/{what}/{key}/{op}", h.auth(adminOnly, h.configPost))
	h.hoursRoutes(m)

	m.Handle("GET /admin/users", h.auth(adminOnly, h.users))
	m.Handle("POST /admin/users", h.auth(adminOnly, h.createUser))
	m.Handle("POST /admin/users/{id}/{op}", h.auth(adminOnly, h.userAction))
	m.Handle("POST /admin/tokens", h.auth(adminOnly, h.createToken))
	m.Handle("POST /admin/tokens/{id}/revoke", h.auth(adminOnly, h.revokeToken))
	m.Handle("GET /admin/audit", h.auth(adminOnly, h.auditPage))
	m.Handle("GET /admin/audit.csv", h.auth(adminOnly, h.auditCSV))

	// JSON API for integrations (Bearer token or session), same scope rules.
	m.Handle("GET /hq/v1/overview", h.auth(anyone, h.apiOverview))
	m.Handle("GET /hq/v1/branches/{id}", h.auth(anyone, h.apiBranch))
	m.Handle("GET /hq/v1/reports", h.auth(anyone, h.apiReport))
	m.Handle("GET /hq/v1/alerts", h.auth(anyone, h.apiAlerts))

	m.Handle("/", h.auth(anyone, func(w http.ResponseWriter, r *http.Request, q *req) {
		h.fail(w, r, q, errNotFound)
	}))
	h.mux = m
}
