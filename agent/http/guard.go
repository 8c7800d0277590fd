package http

import (
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/ticketero/ticketero/shared/problem"
	"github.com/ticketero/ticketero/shared/queue"
)

// guard refuses what a web page on another site could make a branch
// browser send to the agent:
//
//   - a Host the box does not answer to (DNS rebinding: a name the attacker
//     controls resolving to the box): 421 request.host_invalid. Allowed are
//     localhost, any IP literal (a rebinding needs a name, and a browser that
//     typed an address sends it as the Host) and the names in
//     Config.AllowedHosts; a nil list checks nothing (embedders, tests).
//   - a state-changing request whose Origin is another site (or "null"), or
//     that the browser marks Sec-Fetch-Site: cross-site: 403
//     request.cross_origin. Clients that send no Origin (kiosks from other
//     vendors, curl, the simulator) are not browsers on another site.
//   - a request body that is not application/json on the API (a cross-site
//     form or fetch can send text/plain without a CORS preflight): 415
//     request.unsupported_media_type. Bodyless POSTs (call-next, resume) pass.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r.Host) {
			problem.WriteStatus(w, r, queue.Errorf(queue.CodeInvalid, "request.host_invalid", truncate(r.Host)), http.StatusMisdirectedRequest)
			return
		}
		if stateChanging(r.Method) {
			if crossOrigin(r) {
				s.problem(w, r, queue.Errorf(queue.CodeForbidden, "request.cross_origin"))
				return
			}
			if strings.HasPrefix(r.URL.Path, "/api/") && hasBody(r) && !isJSON(r.Header.Get("Content-Type")) {
				problem.WriteStatus(w, r, queue.Errorf(queue.CodeInvalid, "request.unsupported_media_type"), http.StatusUnsupportedMediaType)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func stateChanging(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

func hasBody(r *http.Request) bool {
	return r.ContentLength != 0 || len(r.TransferEncoding) > 0
}

func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// crossOrigin reports a browser request from another origin: an Origin whose
// host differs from the request's Host, an opaque "null" origin, or
// Sec-Fetch-Site cross-site.
func crossOrigin(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return true
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return false
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return true // "null" and anything unparsable
	}
	return !strings.EqualFold(u.Host, r.Host)
}

func (s *Server) hostAllowed(hostport string) bool {
	if s.cfg.AllowedHosts == nil {
		return true
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if host == "" {
		return false
	}
	if net.ParseIP(host) != nil || strings.EqualFold(host, "localhost") {
		return true
	}
	for _, h := range s.cfg.AllowedHosts {
		if strings.EqualFold(host, strings.TrimSuffix(h, ".")) {
			return true
		}
	}
	return false
}
