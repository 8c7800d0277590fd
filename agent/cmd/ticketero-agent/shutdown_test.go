package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCloseWithUnusedConnection: a connection that never sent a request (a
// browser's preconnect, a kiosk dialling as the agent stops) does not hold
// up the stop. http.Server.Shutdown counts such a connection as idle only
// after 5 s, Close's whole deadline: Close failed with "context deadline
// exceeded" (exit status 1 on SIGTERM), seen as BenchmarkIssueHTTPAt200
// failing on a loaded machine, whose client dials spare connections.
func TestCloseWithUnusedConnection(t *testing.T) {
	m := NewMain()
	m.Config.Data, m.Config.HTTP, m.Config.LogLevel, m.Stdout = t.TempDir(), "127.0.0.1:0", "warn", io.Discard
	require.NoError(t, m.Run(context.Background()))

	raw, err := net.Dial("tcp", m.Addr)
	require.NoError(t, err)
	defer raw.Close()
	// A request on a connection dialled after raw: the server accepts in
	// order, so raw is the server's (new, requestless) connection by now.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := c.Get("http://" + m.Addr + "/healthz")
	require.NoError(t, err)
	_ = res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)

	require.NoError(t, m.Close())
	require.NoError(t, raw.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = raw.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "the agent closed the connection")
}
