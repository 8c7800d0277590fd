// Package problem writes application errors as RFC 9457 problem+json, the
// error format of every Ticketero HTTP API (agent LAN API, cloud API, enrolment):
// a stable "code" (the error's reason), the HTTP status from the one table of
// error codes, and a message in the reader's language (Spanish first).
package problem

import (
	"encoding/json"
	"net/http"

	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// TypeBase prefixes a problem's type URI; the reason completes it.
const TypeBase = "https://ticketero.cl/problems/"

// Problem is the RFC 9457 body, with the stable code as an extension member.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// statusOf is the one table from application error codes to HTTP statuses.
var statusOf = map[queue.Code]int{
	queue.CodeInvalid:      http.StatusBadRequest,
	queue.CodeNotFound:     http.StatusNotFound,
	queue.CodeConflict:     http.StatusConflict,
	queue.CodeUnauthorized: http.StatusUnauthorized,
	queue.CodeForbidden:    http.StatusForbidden,
	queue.CodeUnavailable:  http.StatusServiceUnavailable,
	queue.CodeInternal:     http.StatusInternalServerError,
}

// statusOfReason lists the few reasons that have a status of their own.
var statusOfReason = map[string]int{
	"session.locked":     http.StatusLocked,
	"request.too_large":  http.StatusRequestEntityTooLarge,
	"method.not_allowed": http.StatusMethodNotAllowed,
	"rate.limited":       http.StatusTooManyRequests,
}

// Status returns the HTTP status of an error code (500 for an unknown one).
func Status(code queue.Code) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// StatusOf returns the HTTP status of err: its reason's own, else its code's.
func StatusOf(err error) int {
	if s, ok := statusOfReason[queue.ErrorReason(err)]; ok {
		return s
	}
	return Status(queue.ErrorCode(err))
}

// New builds the problem of err in lang with the given status (0: from the
// error's code). A non-application error becomes the generic internal problem,
// so internals never reach a client; the caller logs it.
func New(lang i18n.Lang, err error, status int) Problem {
	if status == 0 {
		status = StatusOf(err)
	}
	reason := queue.ErrorReason(err)
	msg := queue.ErrorMessage(lang, err)
	return Problem{Type: TypeBase + reason, Title: msg, Status: status, Code: reason, Detail: msg}
}

// Write answers err as problem+json in the language of the request's
// Accept-Language, with the status of its code.
func Write(w http.ResponseWriter, r *http.Request, err error) {
	WriteStatus(w, r, err, 0)
}

// WriteStatus is Write with an explicit status (0: from the error's code), for
// the few reasons that have their own (429, 413, 423).
func WriteStatus(w http.ResponseWriter, r *http.Request, err error, status int) {
	lang := i18n.Parse(r.Header.Get("Accept-Language"))
	p := New(lang, err, status)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Language", string(lang))
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
