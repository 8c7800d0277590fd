package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	agenthttp "github.com/ticketero/ticketero/agent/http"
)

func TestRateConfigFromFlagsAndEnv(t *testing.T) {
	c := DefaultConfig()
	env := map[string]string{"TICKETERO_RATE_SIGNIN": "1/10s:5", "TICKETERO_RATE_EXEMPT_LOOPBACK": "false"}
	require.NoError(t, c.Parse([]string{"--rate-issue", "10/s:50", "--rate-read", "off"}, func(k string) string { return env[k] }, io.Discard))
	l, err := c.Rate.Limits()
	require.NoError(t, err)
	assert.Equal(t, agenthttp.Limits{
		Issue:   agenthttp.Limit{Every: 100 * time.Millisecond, Burst: 50},
		SignIn:  agenthttp.Limit{Every: 10 * time.Second, Burst: 5},
		Action:  agenthttp.DefaultLimits().Action,
		CheckIn: agenthttp.DefaultLimits().CheckIn,
	}, l)
	d, err := DefaultConfig().Rate.Limits()
	require.NoError(t, err)
	assert.Equal(t, agenthttp.DefaultLimits(), d, "the defaults are the library's")
	for _, flag := range []string{"--rate-issue", "--rate-signin", "--rate-action", "--rate-read", "--rate-checkin"} {
		c := DefaultConfig()
		err := c.Parse([]string{flag, "lots"}, func(string) string { return "" }, io.Discard)
		require.Error(t, err, flag)
		assert.Contains(t, err.Error(), flag[2:], "names the field")
		assert.Contains(t, err.Error(), "lots", "names the value")
	}
}

// TestRateLimitRealProgram: the real program limits sign-ins per address
// over TCP (loopback exemption off, as behind a proxy on the box).
func TestRateLimitRealProgram(t *testing.T) {
	m := NewMain()
	m.Config.Data, m.Config.HTTP, m.Config.LogLevel, m.Stdout = t.TempDir(), "127.0.0.1:0", "warn", io.Discard
	m.Config.Rate.ExemptLoopback = false
	m.Config.Rate.SignIn = "1/1m:3"
	require.NoError(t, m.Run(context.Background()))
	t.Cleanup(func() { assert.NoError(t, m.Close()) })
	c := newClient(t, m.Addr)
	codes := []int{}
	for range 5 {
		codes = append(codes, c.do("POST", "/api/v1/sessions", `{"executive":"E01","pin":"9999","counter":1}`,
			"X-Forwarded-For", "10.1.2.3").status)
	}
	assert.NotContains(t, codes[:3], 429)
	assert.Equal(t, []int{429, 429}, codes[3:])
	r := c.do("POST", "/api/v1/sessions", `{"executive":"E01","pin":"9999","counter":1}`)
	assert.Equal(t, "60", r.header.Get("Retry-After"))
	assert.Equal(t, 201, c.do("POST", "/api/v1/tickets", `{"service":"C"}`).status, "issue has its own budget")
}
