package main

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
