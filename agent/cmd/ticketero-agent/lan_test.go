package main

import (
	"net/http"
	"testing"

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
