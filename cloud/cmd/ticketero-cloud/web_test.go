package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

func TestUserAndTokenCommands(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	var out bytes.Buffer
	err := run(ctx, []string{"user", "create", "--db", db, "--email", "sup@bank.cl", "--role", "supervisor", "--regions", "RM"}, &out, io.Discard)
	require.NoError(t, err)
	assert.Contains(t, out.String(), "created supervisor user sup@bank.cl")
	assert.Regexp(t, `password: \S{20}`, out.String(), "generated password printed once")

	err = run(ctx, []string{"user", "create", "--db", db, "--email", "sup@bank.cl", "--role", "supervisor", "--regions", "RM"}, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "Ya existe un usuario")
	err = run(ctx, []string{"user", "create", "--db", db, "--email", "x@bank.cl", "--role", "root"}, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "hq.role.invalid")

	out.Reset()
	require.NoError(t, run(ctx, []string{"token", "create", "--db", db, "--name", "bi", "--role", "viewer"}, &out, io.Discard))
	assert.Regexp(t, `^tkt_\S{40,}\n$`, out.String())
	err = run(ctx, []string{"token", "create", "--db", db, "--name", "bi", "--role", "viewer"}, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "Ya existe un token")
}

func TestParseWebEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := ParseWebEnv(env(nil))
	require.NoError(t, err)
	assert.False(t, c.InsecureCookies)
	_, err = ParseWebEnv(env(map[string]string{"TICKETERO_INSECURE_COOKIES": "maybe"}))
	assert.ErrorContains(t, err, "TICKETERO_INSECURE_COOKIES")
}

func TestParseAlertEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := ParseAlertEnv(env(nil))
	require.NoError(t, err)
	assert.Equal(t, 5*time.Minute, c.Rules.OfflineAfter)
	assert.Equal(t, 5*time.Minute, c.Rules.StalledAfter)
	assert.Equal(t, 5*time.Second, c.Every)
	c, err = ParseAlertEnv(env(map[string]string{"TICKETERO_ALERT_OFFLINE_MINUTES": "2", "TICKETERO_ALERT_STALLED_AFTER": "7m30s"}))
	require.NoError(t, err)
	assert.Equal(t, 2*time.Minute, c.Rules.OfflineAfter)
	assert.Equal(t, 7*time.Minute+30*time.Second, c.Rules.StalledAfter)
	_, err = ParseAlertEnv(env(map[string]string{"TICKETERO_ALERT_OFFLINE_MINUTES": "0"}))
	assert.ErrorContains(t, err, "TICKETERO_ALERT_OFFLINE_MINUTES")
	_, err = ParseAlertEnv(env(map[string]string{"TICKETERO_ALERT_EVERY": "soon"}))
	assert.ErrorContains(t, err, "TICKETERO_ALERT_EVERY")
}

// The real program serves the HQ web at "/" beside the sync API, with the
// first-run admin created.
func TestServeHQWeb(t *testing.T) {
	broker := mqtttest.Start(t)
	db := pgtest.New(t)
	m := NewMain(envConfig(t, Config{DB: db, MQTT: broker.URL(), Cert: broker.Cloud.CertFile, Key: broker.Cloud.KeyFile,
		CA: broker.PKI.CAFile, HTTP: "127.0.0.1:0", Workers: 2}), nil)
	require.NoError(t, m.Run(context.Background()))
	t.Cleanup(func() { _ = m.Close() })
	base := "http://" + m.HTTPAddr()
	var body string
	require.Eventually(t, func() bool {
		res, err := http.Get(base + "/login")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		body = string(b)
		return res.StatusCode == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond)
	assert.Contains(t, body, "Ingreso a casa matriz")
	var n int
	require.NoError(t, m.Pool.QueryRow(context.Background(), `SELECT count(*) FROM hq_users WHERE role = 'admin'`).Scan(&n))
	assert.Equal(t, 1, n, "bootstrap admin")
	res, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, "sync server routes still answer")
	res, err = http.Get(base + "/hq/v1/overview")
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.True(t, strings.Contains(string(b), "hq.session.invalid"))
}
