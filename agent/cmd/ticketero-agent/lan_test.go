package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent/lantls"
)

// TestLANRefusesForeignHost: the real program answers its own names,
// localhost and addresses, and refuses a name it was not given (a DNS
// rebinding page reading the queue through a browser on the LAN).
func TestLANRefusesForeignHost(t *testing.T) {
	m := MustMain(t)
	get := func(host string) int {
		req, err := http.NewRequest("GET", "http://"+m.Addr+"/api/v1/queues", nil)
		require.NoError(t, err)
		req.Host = host
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = res.Body.Close()
		return res.StatusCode
	}
	assert.Equal(t, 421, get("rebind.evil.example"))
	assert.Equal(t, 200, get(m.Addr))
	assert.Equal(t, 200, get("localhost"))
	for _, h := range m.Config.LAN.Hosts() {
		assert.Equal(t, 200, get(h), h)
	}
	c := newClient(t, m.Addr)
	r := c.do("POST", "/api/v1/tickets", `{"service":"C"}`, "Content-Type", "text/plain")
	assert.Equal(t, 415, r.status, string(r.body))
}

func TestSessionLimitFlags(t *testing.T) {
	c := DefaultConfig()
	require.NoError(t, c.Parse([]string{"--session-idle", "30m", "--session-max", "off"}, func(string) string { return "" }, io.Discard))
	lim, err := c.LAN.Sessions()
	require.NoError(t, err)
	assert.Equal(t, 30*time.Minute, lim.Idle)
	assert.Negative(t, lim.Max, "off")
	c = DefaultConfig()
	err = c.Parse([]string{"--session-idle", "5s"}, func(string) string { return "" }, io.Discard)
	assert.ErrorContains(t, err, `session-idle: "5s"`)
	c = DefaultConfig()
	require.NoError(t, c.Parse(nil, func(k string) string { return map[string]string{"TICKETERO_SESSION_MAX": "8h"}[k] }, io.Discard))
	lim, _ = c.LAN.Sessions()
	assert.Equal(t, 8*time.Hour, lim.Max)
	assert.Equal(t, 2*time.Hour, lim.Idle, "default")
}

// TestLANServedOverTLS: on a LAN address the real program serves the API
// over TLS with a certificate from the box's own CA (made at first start,
// kept across restarts, keys 0600); plain HTTP is refused there, and served
// only with --plain-http or on loopback.
func TestLANServedOverTLS(t *testing.T) {
	data := t.TempDir()
	start := func(plain bool) *Main {
		m := NewMain()
		m.Config.Data, m.Config.HTTP, m.Config.LogLevel, m.Stdout = data, "0.0.0.0:0", "warn", io.Discard
		m.Config.LAN.PlainHTTP = plain
		require.NoError(t, m.Run(context.Background()))
		return m
	}
	m := start(false)
	_, port, _ := net.SplitHostPort(m.Addr)
	require.True(t, strings.HasPrefix(m.URL, "https://"), m.URL)

	dir := filepath.Join(data, "lan-tls")
	pool, err := lantls.CAPool(dir)
	require.NoError(t, err)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	res, err := c.Get("https://127.0.0.1:" + port + "/api/v1/branch")
	require.NoError(t, err, "the box's CA vouches for its address")
	_ = res.Body.Close()
	assert.Equal(t, 200, res.StatusCode)
	assert.Equal(t, uint16(tls.VersionTLS13), res.TLS.Version)
	res, err = c.Get("https://localhost:" + port + "/healthz")
	require.NoError(t, err, "and for localhost")
	_ = res.Body.Close()

	res, err = http.Get("http://127.0.0.1:" + port + "/api/v1/branch")
	require.NoError(t, err)
	_ = res.Body.Close()
	assert.Equal(t, 400, res.StatusCode, "no PIN or RUT in clear on the LAN")
	for _, k := range []string{"ca-key.pem", "lan-key.pem"} {
		fi, err := os.Stat(filepath.Join(dir, k))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), k)
	}
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	ca, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	require.NoError(t, err)
	// The doctor asks the agent over TLS, trusting the box's CA.
	code, out, errOut := runOps(t, map[string]string{"TICKETERO_BRANCH": "SCL-001"}, "doctor", "--data", data, "--json")
	require.Equal(t, 0, code, out+errOut)
	var r struct {
		Checks []struct{ Check, Status string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	lan := ""
	for _, c := range r.Checks {
		if c.Check == "lan" {
			lan = c.Status
		}
	}
	assert.Equal(t, "pass", lan)
	require.NoError(t, m.Close())

	m = start(true)
	assert.True(t, strings.HasPrefix(m.URL, "http://"))
	_, port, _ = net.SplitHostPort(m.Addr)
	res, err = http.Get("http://127.0.0.1:" + port + "/healthz")
	require.NoError(t, err)
	_ = res.Body.Close()
	assert.Equal(t, 200, res.StatusCode, "--plain-http")
	require.NoError(t, m.Close())
	m = start(false)
	require.NoError(t, m.Close())
	again, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	require.NoError(t, err)
	assert.Equal(t, ca, again, "the CA the terminals trust is kept")
}
