package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/cloud/postgres/postgrestest"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

func TestParseWebEnvSecurity(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := ParseWebEnv(env(nil))
	require.NoError(t, err)
	assert.Equal(t, 0, c.ProxyHops, "the peer address unless told")
	c, err = ParseWebEnv(env(map[string]string{"TICKETERO_TRUST_PROXY": "true"}))
	require.NoError(t, err)
	assert.Equal(t, 1, c.ProxyHops, "the old switch is one hop")
	c, err = ParseWebEnv(env(map[string]string{"TICKETERO_TRUSTED_PROXY_HOPS": "2", "TICKETERO_CLIENT_IP_HEADER": "CloudFront-Viewer-Address"}))
	require.NoError(t, err)
	assert.Equal(t, 2, c.ProxyHops)
	assert.Equal(t, "CloudFront-Viewer-Address", c.ClientIPHeader)
	for k, v := range map[string]string{"TICKETERO_TRUSTED_PROXY_HOPS": "-1", "TICKETERO_CLIENT_IP_HEADER": "X: y", "TICKETERO_ADMIN_PASSWORD": "short"} {
		_, err = ParseWebEnv(env(map[string]string{k: v}))
		assert.ErrorContains(t, err, k)
	}
	f := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(f, []byte("from-a-secret-file\n"), 0o600))
	c, err = ParseWebEnv(env(map[string]string{"TICKETERO_ADMIN_PASSWORD_FILE": f}))
	require.NoError(t, err)
	assert.Equal(t, "from-a-secret-file", c.AdminPassword)
}

// Issue 13: the first admin's password went to stdout (CloudWatch on ECS).
// Now it goes to a 0600 file (or comes from the environment) and stdout only
// says where; the admin must change it at first sign-in.
func TestBootstrapAdminPasswordNotOnStdout(t *testing.T) {
	ctx := context.Background()
	open := func() *hq.Store {
		pool := postgrestest.MustPool(t)
		s := hq.New(pool, time.Now)
		s.BcryptCost = 4
		return s
	}
	t.Run("generated", func(t *testing.T) {
		s := open()
		out := filepath.Join(t.TempDir(), "admin-password")
		require.NoError(t, os.WriteFile(out, []byte("stale"), 0o644))
		var stdout bytes.Buffer
		handed, err := bootstrapAdmin(ctx, s, WebConfig{AdminPasswordOut: out}, &stdout)
		require.NoError(t, err)
		st, err := os.Stat(out)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		pw := string(bytes.TrimSpace(b))
		assert.GreaterOrEqual(t, len(pw), 20)
		assert.NotContains(t, stdout.String(), pw)
		assert.Contains(t, stdout.String(), out)
		p, err := s.Authenticate(ctx, cloud.BootstrapEmail, pw)
		require.NoError(t, err)
		assert.True(t, p.MustChangePassword)

		// The file outlives nobody's change but the first admin's own.
		forget := handed.forget(slog.New(slog.DiscardHandler))
		require.NotNil(t, forget)
		forget("someone.else@banco.cl")
		assert.FileExists(t, out)
		forget(cloud.BootstrapEmail)
		assert.NoFileExists(t, out)
	})
	t.Run("default file", func(t *testing.T) {
		s := open()
		var stdout bytes.Buffer
		_, err := bootstrapAdmin(ctx, s, WebConfig{}, &stdout)
		require.NoError(t, err)
		m := regexp.MustCompile(`its password is in (\S+) `).FindStringSubmatch(stdout.String())
		require.NotNil(t, m, stdout.String())
		t.Cleanup(func() { _ = os.Remove(m[1]) })
		st, err := os.Stat(m[1])
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	})
	t.Run("from env", func(t *testing.T) {
		s := open()
		var stdout bytes.Buffer
		handed, err := bootstrapAdmin(ctx, s, WebConfig{AdminPassword: "operator-chosen-pass"}, &stdout)
		require.NoError(t, err)
		assert.Nil(t, handed.forget(slog.New(slog.DiscardHandler)), "no file was handed over")
		assert.NotContains(t, stdout.String(), "operator-chosen-pass")
		_, err = s.Authenticate(ctx, cloud.BootstrapEmail, "operator-chosen-pass")
		require.NoError(t, err)
	})
	t.Run("undeliverable", func(t *testing.T) {
		s := open()
		_, err := bootstrapAdmin(ctx, s, WebConfig{AdminPasswordOut: filepath.Join(t.TempDir(), "no", "such", "dir")}, &bytes.Buffer{})
		require.Error(t, err)
		users, err := s.Users(ctx)
		require.NoError(t, err)
		assert.Empty(t, users, "no admin whose password nobody has")
	})
}

// The real program keeps /metrics and the sync API from the internet: 401
// without the ops token on the public listener, open on the internal one.
func TestServeOpsEndpointsGuarded(t *testing.T) {
	broker := mqtttest.Start(t)
	m := NewMain(envConfig(t, Config{DB: pgtest.New(t), MQTT: broker.URL(), Cert: broker.Cloud.CertFile, Key: broker.Cloud.KeyFile,
		CA: broker.PKI.CAFile, HTTP: "127.0.0.1:0", InternalHTTP: "127.0.0.1:0", Workers: 2, OpsToken: testOpsToken}), nil)
	require.NoError(t, m.Run(context.Background()))
	t.Cleanup(func() { _ = m.Close() })
	base := "http://" + m.HTTPAddr()
	status := func(url string) int {
		res, err := http.Get(url)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	assert.Equal(t, http.StatusUnauthorized, status(base+"/metrics"))
	assert.Equal(t, http.StatusUnauthorized, status(base+"/api/v1/branches/SRV-001/sync"))
	assert.Equal(t, http.StatusOK, status(base+"/healthz"))
	assert.Contains(t, getBody(t, base+"/metrics"), "go_goroutines", "with the ops token")
	internal := "http://" + m.HTTP.InternalAddr()
	assert.Equal(t, http.StatusOK, status(internal+"/metrics"))
	assert.Equal(t, http.StatusNotFound, status(internal+"/login"))
}
