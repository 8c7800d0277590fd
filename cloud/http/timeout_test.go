package http_test

import (
	"context"
	"io"
	"net"
	nethttp "net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	cloudhttp "github.com/ticketero/ticketero/cloud/http"
)

func serve(t *testing.T, s *cloudhttp.Server) {
	t.Helper()
	require.NoError(t, s.Listen("127.0.0.1:0"))
	go func() { _ = s.Serve() }()
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
}

// Issue 13: the server had no read or write timeout: a client that sends its
// body (or headers) slowly held a connection for ever.
func TestSlowClientsAreCut(t *testing.T) {
	ui := nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) { _, _ = io.Copy(io.Discard, r.Body) })
	s := &cloudhttp.Server{UI: ui, Timeouts: cloudhttp.Timeouts{ReadHeader: 200 * time.Millisecond, Read: 300 * time.Millisecond}}
	serve(t, s)
	for name, req := range map[string]string{
		"body":    "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nab",
		"headers": "GET /x HTTP/1.1\r\nHost: a\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := net.Dial("tcp", s.Addr())
			require.NoError(t, err)
			defer c.Close()
			_, err = c.Write([]byte(req))
			require.NoError(t, err)
			require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
			_, err = io.ReadAll(c) // returns when the server closes the connection
			var ne net.Error
			if err != nil && assert.ErrorAs(t, err, &ne) {
				assert.False(t, ne.Timeout(), "the server, not our 5 s deadline, ended it")
			}
		})
	}
	d := cloudhttp.DefaultTimeouts()
	assert.Positive(t, d.ReadHeader)
	assert.Positive(t, d.Read)
	assert.Positive(t, d.Write)
	assert.Positive(t, d.Idle)
	assert.Positive(t, d.MaxHeaderBytes)
}

// Metrics and the sync API sit behind OpsGuard on the public listener, open
// on the internal one; the internal listener serves nothing else.
func TestOpsGuardAndInternalListener(t *testing.T) {
	deny := func(nethttp.Handler) nethttp.Handler {
		return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, _ *nethttp.Request) { w.WriteHeader(nethttp.StatusUnauthorized) })
	}
	ui := nethttp.HandlerFunc(func(w nethttp.ResponseWriter, _ *nethttp.Request) { _, _ = w.Write([]byte("ui")) })
	s := &cloudhttp.Server{Sync: syncs{"SCL-001": {Branch: "SCL-001"}}, UI: ui, OpsGuard: deny}
	require.NoError(t, s.Listen("127.0.0.1:0"))
	require.NoError(t, s.ListenInternal("127.0.0.1:0"))
	go func() { _ = s.Serve() }()
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	status := func(addr, path string) int {
		res, err := nethttp.Get("http://" + addr + path)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	assert.Equal(t, 401, status(s.Addr(), "/metrics"))
	assert.Equal(t, 401, status(s.Addr(), "/api/v1/branches/SCL-001/sync"))
	assert.Equal(t, 200, status(s.Addr(), "/healthz"))
	assert.Equal(t, 200, status(s.Addr(), "/"))
	assert.Equal(t, 200, status(s.InternalAddr(), "/metrics"))
	assert.Equal(t, 200, status(s.InternalAddr(), "/api/v1/branches/SCL-001/sync"))
	assert.Equal(t, 404, status(s.InternalAddr(), "/"), "no HQ web on the internal listener")
}
