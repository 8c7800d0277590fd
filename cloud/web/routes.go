package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

func (h *Handler) routes() {
	m := chi.NewRouter()
	// Every answer forbids framing, sniffing, foreign scripts and styles and
	// cross-site referrers; malformed input is refused before any handler or
	// query runs; HEAD is answered by the GET route.
	m.Use(
		middleware.SetHeader("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'"),
		middleware.SetHeader("X-Content-Type-Options", "nosniff"),
		middleware.SetHeader("X-Frame-Options", "DENY"),
		middleware.SetHeader("Referrer-Policy", "same-origin"),
		h.checkInput, middleware.GetHead)
	// An unknown path, or a known one with a method it does not take, is the
	// same 404 page (or problem, for the API) after authentication: the
	// route table is not disclosed to anonymous clients.
	notFound := h.auth(anyone, func(w http.ResponseWriter, r *http.Request, q *req) {
		h.fail(w, r, q, errNotFound)
	})
	apiNotFound := h.apiNotFound()
	missing := func(w http.ResponseWriter, r *http.Request) {
		if isConfigAPI(r) {
			apiNotFound.ServeHTTP(w, r)
			return
		}
		notFound.ServeHTTP(w, r)
	}
	m.NotFound(missing)
	m.MethodNotAllowed(missing)
	get := func(path string, hd http.Handler) { m.Method(http.MethodGet, path, hd) }
	post := func(path string, hd http.Handler) { m.Method(http.MethodPost, path, hd) }

	m.Method(http.MethodGet, "/assets/{name}", h.assets)
	m.Get("/favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	m.Get("/login", h.loginForm)
	m.Post("/login", h.login)
	m.Get("/lang", h.setLang)
	post("/logout", h.auth(anyone, h.logout))
	get(passwordPath, h.auth(anyone, h.passwordForm))
	post(passwordPath, h.auth(anyone, h.changePassword))

	get("/", h.auth(anyone, h.overview))
	get("/live", h.auth(anyone, h.live))
	get("/tiles", h.auth(anyone, h.tilesWindow))
	get("/alerts", h.auth(anyone, h.alertsFragment))
	post("/alerts/{id}/ack", h.auth(canAck, h.ackAlert))
	get("/branches/{id}", h.auth(anyone, h.branch))
	get("/reports", h.auth(anyone, h.reports))
	get("/reports.csv", h.auth(anyone, h.reportCSV))
	get("/feedback", h.auth(anyone, h.feedback))

	get("/config", h.auth(adminOnly, h.configList))
	post("/config/branches", h.auth(adminOnly, h.configPutBranch))
	get("/config/branches/{id}", h.auth(adminOnly, h.configBranch))
	get("/config/branches/{id}/publish", h.auth(adminOnly, h.configReview))
	post("/config/branches/{id}/publish", h.auth(adminOnly, h.configPublish))
	post("/config/branches/{id}/services", h.auth(adminOnly, h.configChange(h.configServicePut)))
	post("/config/branches/{id}/services/{key}/delete", h.auth(adminOnly, h.configChange(h.configServiceDelete)))
	post("/config/branches/{id}/counters", h.auth(adminOnly, h.configChange(h.configCounterPut)))
	post("/config/branches/{id}/counters/{key}/delete", h.auth(adminOnly, h.configChange(h.configCounterDelete)))
	post("/config/branches/{id}/executives", h.auth(adminOnly, h.configChange(h.configExecutivePut)))
	post("/config/branches/{id}/executives/{key}/delete", h.auth(adminOnly, h.configChange(h.configExecutiveDelete)))
	post("/config/branches/{id}/rules", h.auth(adminOnly, h.configChange(h.configRulesPut)))
	// The network's holidays and a branch's schedule reach branches with
	// their next published config.
	get("/config/holidays", h.auth(adminOnly, h.holidays))
	post("/config/holidays", h.auth(adminOnly, h.holidayPut))
	post("/config/holidays/{date}/delete", h.auth(adminOnly, h.holidayDelete))
	get("/config/branches/{id}/hours", h.auth(adminOnly, h.branchHours))
	post("/config/branches/{id}/hours", h.auth(adminOnly, h.branchHoursPut))
	// The network's visit outcome codes (outcome.go), published likewise.
	get("/config/outcomes", h.auth(adminOnly, h.outcomesPage))
	post("/config/outcomes", h.auth(adminOnly, h.outcomePut))
	post("/config/outcomes/{code}/delete", h.auth(adminOnly, h.outcomeDelete))
	// Configuration templates, branch tags, staged bulk publications and the
	// version report (template.go, template_publish.go).
	get("/config/templates", h.auth(adminOnly, h.templatesPage))
	post("/config/templates", h.auth(adminOnly, h.templateCreate))
	get("/config/templates/{id}", h.auth(adminOnly, h.templatePage))
	post("/config/templates/{id}", h.auth(adminOnly, h.templateUpdate))
	post("/config/templates/{id}/delete", h.auth(adminOnly, h.templateDelete))
	post("/config/templates/{id}/overrides", h.auth(adminOnly, h.templateOverrides))
	get("/config/templates/{id}/preview", h.auth(adminOnly, h.templatePreview))
	post("/config/templates/{id}/publish", h.auth(adminOnly, h.templatePublish))
	get("/config/rollouts/{id}", h.auth(adminOnly, h.rolloutPage))
	post("/config/rollouts/{id}/continue", h.auth(adminOnly, h.rolloutContinue))
	post("/config/rollouts/{id}/cancel", h.auth(adminOnly, h.rolloutCancel))
	post("/config/tags", h.auth(adminOnly, h.branchTagsPut))
	get("/config/versions", h.auth(adminOnly, h.configVersions))

	get("/admin/users", h.auth(adminOnly, h.users))
	post("/admin/users", h.auth(adminOnly, h.createUser))
	post("/admin/users/{id}/unlock", h.auth(adminOnly, h.userChange("unlock", h.userUnlock)))
	post("/admin/users/{id}/disable", h.auth(adminOnly, h.userDisable))
	post("/admin/users/{id}/enable", h.auth(adminOnly, h.userChange("enable", h.userEnable)))
	post("/admin/users/{id}/password", h.auth(adminOnly, h.userChange("password", h.userPassword)))
	post("/admin/tokens", h.auth(adminOnly, h.createToken))
	post("/admin/tokens/{id}/revoke", h.auth(adminOnly, h.revokeToken))
	get("/admin/audit", h.auth(adminOnly, h.auditPage))
	get("/admin/agents", h.auth(adminOnly, h.agents)) // agents.go: remote agent updates
	get("/admin/audit.csv", h.auth(adminOnly, h.auditCSV))

	// Appointments and the virtual queue, HQ's side (appointment.go).
	h.appointmentRoutes(get, post)

	// JSON API for integrations (Bearer token or session), same scope rules.
	get("/hq/v1/overview", h.auth(anyone, h.apiOverview))
	get("/hq/v1/branches/{id}", h.auth(anyone, h.apiBranch))
	get("/hq/v1/reports", h.auth(anyone, h.apiReport))
	get("/hq/v1/alerts", h.auth(anyone, h.apiAlerts))
	get("/hq/v1/feedback", h.auth(anyone, h.apiFeedback))
	get("/hq/v1/feedback/comments", h.auth(anyone, h.apiFeedbackComments))
	// JSON configuration API for the bank's tooling (API tokens only; api.go).
	h.apiRoutes(m)
	h.router = m
}

// checkInput refuses malformed input (control characters, invalid UTF-8,
// oversized bodies: 400 or 413) before any handler or query runs.
func (h *Handler) checkInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := int64(maxFormBody)
		if r.URL.Path == "/login" {
			limit = maxLoginBody
		}
		if err := checkInput(w, r, limit); err != nil {
			q := &req{Lang: h.lang(r), IP: h.clientIP(r)}
			status := http.StatusBadRequest
			if err == errTooLarge {
				status = http.StatusRequestEntityTooLarge
			}
			if isConfigAPI(r) {
				h.apiFail(w, r, q, err, status)
				return
			}
			h.failWith(w, r, q, err, status)
			return
		}
		next.ServeHTTP(w, r)
	})
}
