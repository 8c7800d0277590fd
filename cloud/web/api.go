package web

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/problem"
	"github.com/ticketero/ticketero/shared/queue"
)

// The JSON configuration API (issue 18) for the bank's own tooling, under
// /api/v1/config on the HQ web: what the configuration pages do, with the
// same store functions, guards and audit (api_ops.go), behind an API token
// (Authorization: Bearer tkt_…, made under Usuarios). A token's role scopes
// it like a user's: an admin token reads and writes every branch; a
// supervisor or viewer token only reads, within its regions and branches
// (a write answers 403 hq.api.read_only). No session cookie is taken here,
// so no CSRF token is needed. Errors are problem+json (shared/problem) with
// a stable code and a Spanish message (English with Accept-Language: en).
// Each token is rate limited (Config.APIRequestsPerMinute), and so are the
// refused credentials of a client address. The document is api_openapi.json,
// served at /api/v1/config/openapi.json.

// apiPrefix is the configuration API's root. The cloud's HTTP server
// (cloud/http) hands this prefix to the HQ web; the rest of /api is its own.
const apiPrefix = "/api/v1/config"

//go:embed api_openapi.json
var configOpenAPI []byte

var errAPINotFound = queue.Errorf(queue.CodeNotFound, "hq.api.not_found")

// isConfigAPI reports whether r is for the configuration API.
func isConfigAPI(r *http.Request) bool {
	return r.URL.Path == apiPrefix || strings.HasPrefix(r.URL.Path, apiPrefix+"/")
}

// apiRoutes adds the configuration API to m.
func (h *Handler) apiRoutes(m chi.Router) {
	read := func(method, path string, fn handlerFunc) { m.Method(method, apiPrefix+path, h.api(false, fn)) }
	write := func(method, path string, fn handlerFunc) { m.Method(method, apiPrefix+path, h.api(true, fn)) }
	m.Get(apiPrefix+"/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(configOpenAPI)
	})
	read(http.MethodGet, "/branches", h.apiBranches)
	read(http.MethodGet, "/branches/{id}", h.apiDraft)
	write(http.MethodPut, "/branches/{id}", h.apiPutBranch)
	read(http.MethodGet, "/branches/{id}/diff", h.apiDiff)
	write(http.MethodPost, "/branches/{id}/publish", h.apiPublish)
	write(http.MethodPut, "/branches/{id}/services/{code}", h.apiPutService)
	write(http.MethodPatch, "/branches/{id}/services/{code}", h.apiPatchService)
	write(http.MethodDelete, "/branches/{id}/services/{code}", h.apiDeleteService)
	write(http.MethodPut, "/branches/{id}/counters/{number}", h.apiPutCounter)
	write(http.MethodDelete, "/branches/{id}/counters/{number}", h.apiDeleteCounter)
	write(http.MethodPut, "/branches/{id}/executives/{exec}", h.apiPutExecutive)
	write(http.MethodDelete, "/branches/{id}/executives/{exec}", h.apiDeleteExecutive)
	write(http.MethodPut, "/branches/{id}/rules", h.apiPutRules)
	write(http.MethodPatch, "/branches/{id}/rules", h.apiPatchRules)
	write(http.MethodPut, "/branches/{id}/hours", h.apiPutHours)
	read(http.MethodGet, "/outcomes", h.apiOutcomes)
	write(http.MethodPut, "/outcomes/{code}", h.apiPutOutcome)
	write(http.MethodDelete, "/outcomes/{code}", h.apiDeleteOutcome)
	read(http.MethodGet, "/holidays", h.apiHolidays)
	write(http.MethodPut, "/holidays/{date}", h.apiPutHoliday)
	write(http.MethodDelete, "/holidays/{date}", h.apiDeleteHoliday)
	h.apiTemplateRoutes(read, write)
}

// apiNotFound answers an unknown path or method under the prefix, after
// authentication (the route table is not disclosed to anonymous clients).
func (h *Handler) apiNotFound() http.Handler {
	return h.api(false, func(w http.ResponseWriter, r *http.Request, q *req) { h.apiFail(w, r, q, errAPINotFound, 0) })
}

// api wraps a configuration API handler: the Bearer token (401 without a
// valid one), the token's rate limit (429), and for writes the admin role
// (403 hq.api.read_only, audited as a denied access).
func (h *Handler) api(write bool, fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := &req{Lang: h.lang(r), IP: h.clientIP(r), Path: r.URL.RequestURI(), API: true}
		bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		var err error
		if !ok {
			err = queue.Errorf(queue.CodeUnauthorized, "hq.api.token_required")
		} else {
			q.P, err = h.store.TokenPrincipal(r.Context(), strings.TrimSpace(bearer))
		}
		if err != nil {
			// Refused credentials count against the client address: a
			// client guessing tokens is slowed down before the database.
			if queue.ErrorCode(err) == queue.CodeUnauthorized && !h.apiAllow(w, r, q, "ip:"+q.IP) {
				return
			}
			h.apiFail(w, r, q, err, 0)
			return
		}
		if !h.apiAllow(w, r, q, "token:"+q.P.Token) {
			return
		}
		if write && !q.P.IsAdmin() {
			h.apiFail(w, r, q, queue.Errorf(queue.CodeForbidden, "hq.api.read_only"), 0)
			return
		}
		fn(w, r, q)
	})
}

// apiAllow takes a request from key's budget; when there is none left it
// answers 429 with Retry-After and returns false.
func (h *Handler) apiAllow(w http.ResponseWriter, r *http.Request, q *req, key string) bool {
	ok, wait := h.apiLimit.Allow(key)
	if ok {
		return true
	}
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", fmt.Sprint(secs))
	h.apiFail(w, r, q, queue.Errorf(queue.CodeUnavailable, "hq.api.rate_limited", secs), http.StatusTooManyRequests)
	return false
}

// apiFail answers err as problem+json (status 0: from its code). A refusal
// of an authenticated token (403) is audited like the pages' refusals;
// internal errors are logged here, once, and answered generically.
func (h *Handler) apiFail(w http.ResponseWriter, r *http.Request, q *req, err error, status int) {
	switch {
	case status != 0:
	case err == errTooLarge:
		status = http.StatusRequestEntityTooLarge
	default:
		status = httpStatus(err)
	}
	if status == http.StatusForbidden && q.P.Actor() != "" {
		h.auditCounted(r, q, cloud.AuditDenied, r.URL.Path, queue.ErrorReason(err))
	}
	if status >= 500 {
		h.log.Error("config api failed", "path", r.URL.Path, "err", err)
	}
	p := problem.New(q.Lang, err, status)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Language", string(q.Lang))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// apiJSON answers v as JSON with status.
func apiJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decodeBody reads a JSON request body into v: Content-Type
// application/json, one object, no unknown field, and no string (key or
// value) with control characters or invalid UTF-8 — the pages' input rule
// (checkInput), which a JSON escape such as \u0000 would otherwise pass.
// Errors: invalid hq.api.content_type, hq.api.body, hq.input.invalid,
// hq.input.too_large.
func decodeBody(r *http.Request, v any) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return queue.Errorf(queue.CodeInvalid, "hq.api.content_type")
	}
	raw, err := io.ReadAll(r.Body) // capped by checkInput (maxFormBody)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errTooLarge
		}
		return errBadInput
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return jsonError(err)
	}
	if !cleanJSON(doc) {
		return errBadInput
	}
	if _, ok := doc.(map[string]any); !ok {
		return queue.Errorf(queue.CodeInvalid, "hq.api.object")
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	return nil
}

// jsonError is a decoding error as a refusal naming the field (or the byte
// where the syntax broke), never the whole input echoed back. Errors:
// invalid hq.api.unknown_field, hq.api.field_type, hq.api.body.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return queue.Errorf(queue.CodeInvalid, "hq.api.field_type", clipText(te.Field, 64), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return queue.Errorf(queue.CodeInvalid, "hq.api.body", se.Offset)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return queue.Errorf(queue.CodeInvalid, "hq.api.unknown_field", clipText(f, 64))
	}
	return queue.Errorf(queue.CodeInvalid, "hq.api.body", 0)
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// cleanJSON reports whether every string of a decoded JSON value, keys
// included, passes cleanText.
func cleanJSON(v any) bool {
	switch x := v.(type) {
	case string:
		return cleanText(x, false)
	case []any:
		for _, e := range x {
			if !cleanJSON(e) {
				return false
			}
		}
	case map[string]any:
		for k, e := range x {
			if !cleanText(k, false) || !cleanJSON(e) {
				return false
			}
		}
	}
	return true
}

// required is the refusal of a body without a required field.
func required(field string) error {
	return queue.Errorf(queue.CodeInvalid, "hq.api.field_required", field)
}
