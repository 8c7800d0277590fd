package queue

import (
	"errors"
	"fmt"

	"github.com/ticketero/ticketero/shared/i18n"
)

// Code is the category of an application error. Codes cross the wire; never
// rename one.
type Code string

// Application error codes.
const (
	CodeInvalid      Code = "invalid"
	CodeNotFound     Code = "not_found"
	CodeConflict     Code = "conflict"
	CodeUnauthorized Code = "unauthorized"
	CodeForbidden    Code = "forbidden"
	CodeUnavailable  Code = "unavailable"
	CodeInternal     Code = "internal"
)

// Error is the application error: a category Code, a stable Reason (a catalogue
// key such as "rut.check_digit", shown to API clients as the problem code) and the
// arguments of its message. Anything that is not an *Error is internal.
type Error struct {
	Code   Code
	Reason string
	Args   []any
}

// Errorf returns an *Error with the given code, catalogue reason and message args.
func Errorf(code Code, reason string, args ...any) *Error {
	return &Error{Code: code, Reason: reason, Args: args}
}

// Error implements error with the Spanish message and the reason.
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Reason, e.Message(i18n.ES))
}

// Message returns the human message in lang.
func (e *Error) Message(lang i18n.Lang) string {
	args := make([]any, len(e.Args))
	for i, a := range e.Args {
		if l, ok := a.(Localizer); ok {
			a = l.Localize(lang)
		}
		args[i] = a
	}
	return i18n.T(lang, e.Reason, args...)
}

// Localizer is an error argument that renders itself in the reader's language.
type Localizer interface {
	Localize(lang i18n.Lang) string
}

// ErrorCode returns the code of err: its own for an *Error in its chain, internal
// for anything else, empty for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorReason returns the stable reason of err, "internal" for a non-application error.
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return "internal"
}

// ErrorMessage returns the human message of err in lang; a non-application error
// gets the generic internal message, so internals never leak to users.
func ErrorMessage(lang i18n.Lang, err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message(lang)
	}
	return i18n.T(lang, "internal")
}
