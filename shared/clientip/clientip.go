// Package clientip finds the address a request comes from, for rate limits
// and audits. Headers are read only when the operator says which proxy in
// front of the server sets them: a header any client can send is never
// trusted.
package clientip

import (
	"net"
	"net/http"
	"strings"
)

// Proxy says which proxies in front of a server may name the client. The
// zero Proxy trusts no header: the client is the TCP peer.
type Proxy struct {
	// Header names a header a trusted proxy sets to the client's address
	// ("CloudFront-Viewer-Address": ip:port); it wins over X-Forwarded-For.
	// Only set it when nothing can reach the server without that proxy.
	Header string
	// Hops is how many proxies in front of the server append to
	// X-Forwarded-For (1: an ALB; 2: CloudFront then an ALB): the client is
	// the address that many entries from the right, which no client can
	// forge (the entries left of it are the client's to write).
	Hops int
}

// Of returns r's client address: Header's address when set and valid, else
// the address Hops from the right of X-Forwarded-For when there are that
// many valid entries, else the TCP peer (Peer).
func (p Proxy) Of(r *http.Request) string {
	if p.Header != "" {
		if ip := hostIP(r.Header.Get(p.Header)); ip != "" {
			return ip
		}
	}
	if p.Hops > 0 {
		var parts []string
		for _, v := range r.Header.Values("X-Forwarded-For") {
			parts = append(parts, strings.Split(v, ",")...)
		}
		if len(parts) >= p.Hops {
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-p.Hops])); ip != nil {
				return ip.String()
			}
		}
	}
	return Peer(r)
}

// Peer is the TCP peer's IP (r.RemoteAddr without the port), reading no
// header.
func Peer(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// hostIP reads "ip", "ip:port", "[ipv6]:port" or CloudFront's "ipv6:port"
// and returns the IP, or "" when there is none.
func hostIP(v string) string {
	v = strings.TrimSpace(v)
	if ip := net.ParseIP(v); ip != nil {
		return ip.String()
	}
	if host, _, err := net.SplitHostPort(v); err == nil {
		if ip := net.ParseIP(host); ip != nil {
			return ip.String()
		}
	}
	if i := strings.LastIndexByte(v, ':'); i > 0 {
		if ip := net.ParseIP(v[:i]); ip != nil {
			return ip.String()
		}
	}
	return ""
}
