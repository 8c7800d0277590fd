package clientip_test

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ticketero/ticketero/shared/clientip"
)

func TestOf(t *testing.T) {
	const cf = "CloudFront-Viewer-Address"
	tests := []struct {
		name   string
		proxy  clientip.Proxy
		peer   string
		header map[string][]string
		want   string
	}{
		{"peer", clientip.Proxy{}, "192.0.2.1:5555", nil, "192.0.2.1"},
		{"untrusted forwarded-for", clientip.Proxy{}, "192.0.2.1:5555", map[string][]string{"X-Forwarded-For": {"198.51.100.7"}}, "192.0.2.1"},
		{"untrusted header", clientip.Proxy{}, "192.0.2.1:5555", map[string][]string{cf: {"198.51.100.7:1"}, "X-Real-Ip": {"198.51.100.8"}}, "192.0.2.1"},
		{"one hop", clientip.Proxy{Hops: 1}, "10.0.0.2:80", map[string][]string{"X-Forwarded-For": {"6.6.6.6, 203.0.113.8"}}, "203.0.113.8"},
		{"two hops", clientip.Proxy{Hops: 2}, "10.0.0.2:80", map[string][]string{"X-Forwarded-For": {"6.6.6.6, 203.0.113.7, 130.176.0.1"}}, "203.0.113.7"},
		{"two hops, two headers", clientip.Proxy{Hops: 2}, "10.0.0.2:80", map[string][]string{"X-Forwarded-For": {"6.6.6.6, 203.0.113.7", "130.176.0.1"}}, "203.0.113.7"},
		{"too few hops", clientip.Proxy{Hops: 2}, "10.0.0.2:80", map[string][]string{"X-Forwarded-For": {"203.0.113.9"}}, "10.0.0.2"},
		{"garbage", clientip.Proxy{Hops: 1}, "10.0.0.2:80", map[string][]string{"X-Forwarded-For": {"not-an-ip"}}, "10.0.0.2"},
		{"no forwarded-for", clientip.Proxy{Hops: 1}, "10.0.0.2:80", nil, "10.0.0.2"},
		{"cloudfront v4", clientip.Proxy{Header: cf}, "10.0.0.2:80", map[string][]string{cf: {"203.0.113.10:46532"}}, "203.0.113.10"},
		{"cloudfront v6", clientip.Proxy{Header: cf}, "10.0.0.2:80", map[string][]string{cf: {"2001:db8::7:46532"}}, "2001:db8::7"},
		{"bracketed v6", clientip.Proxy{Header: cf}, "10.0.0.2:80", map[string][]string{cf: {"[2001:db8::8]:443"}}, "2001:db8::8"},
		{"header wins", clientip.Proxy{Header: cf, Hops: 1}, "10.0.0.2:80", map[string][]string{cf: {"203.0.113.11"}, "X-Forwarded-For": {"203.0.113.12"}}, "203.0.113.11"},
		{"bad header, hops", clientip.Proxy{Header: cf, Hops: 1}, "10.0.0.2:80", map[string][]string{cf: {"nope"}, "X-Forwarded-For": {"203.0.113.12"}}, "203.0.113.12"},
		{"peer without port", clientip.Proxy{}, "192.0.2.9", nil, "192.0.2.9"},
		{"v6 peer", clientip.Proxy{}, "[2001:db8::1]:5555", nil, "2001:db8::1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for k, vs := range tc.header {
				for _, v := range vs {
					r.Header.Add(k, v)
				}
			}
			assert.Equal(t, tc.want, tc.proxy.Of(r))
		})
	}
}
