package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/queue"
)

// Request size caps. A sign-in form is a few hundred bytes; the largest HQ
// form (a branch's configuration) stays far below a megabyte.
const (
	maxLoginBody = 8 << 10
	maxFormBody  = 1 << 20
)

var (
	errBadInput = queue.Errorf(queue.CodeInvalid, "hq.input.invalid")
	errTooLarge = queue.Errorf(queue.CodeInvalid, "hq.input.too_large")
)

// safeNext returns next when it is a path on this site, "/" otherwise. The
// value is already percent-decoded (a query or form value): it must start with
// exactly one "/", hold no backslash and no control or white-space character
// (browsers drop tabs and newlines, so "/\t/evil.example" would become the
// scheme-relative "//evil.example"), and parse as a URL without scheme or host.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, `\`) || !utf8.ValidString(next) {
		return "/"
	}
	for _, r := range next {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == utf8.RuneError {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return next
}

// cleanText reports whether s is valid UTF-8 without NUL or other control
// characters (PostgreSQL refuses NUL and invalid UTF-8 in text; neither has a
// place in a filter, a path or a form field). Multi-line form fields may keep
// tabs and line breaks when multiline is true.
func cleanText(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if multiline && (r == '\t' || r == '\n' || r == '\r') {
			continue
		}
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// checkInput validates what every HQ route reads before a handler sees it:
// the decoded path, every query value and, for unsafe methods, the form (the
// body capped at limit bytes). It returns errBadInput, errTooLarge or nil.
func checkInput(w http.ResponseWriter, r *http.Request, limit int64) error {
	if !cleanText(r.URL.Path, false) {
		return errBadInput
	}
	for k, vs := range r.URL.Query() {
		if !cleanText(k, false) {
			return errBadInput
		}
		for _, v := range vs {
			if !cleanText(v, false) {
				return errBadInput
			}
		}
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errTooLarge
		}
		return errBadInput
	}
	for k, vs := range r.PostForm {
		if !cleanText(k, false) {
			return errBadInput
		}
		for _, v := range vs {
			if !cleanText(v, true) {
				return errBadInput
			}
		}
	}
	return nil
}

// loginEmail normalises a sign-in address; ok is false when it cannot be an
// account's e-mail (too long or with characters no address has), so it is
// never looked up nor stored as such.
func loginEmail(s string) (email string, ok bool) {
	email = strings.ToLower(strings.TrimSpace(s))
	if email == "" || len(email) > cloud.MaxEmailLen || !cleanText(email, false) || strings.ContainsFunc(email, unicode.IsSpace) {
		return "", false
	}
	return email, true
}
