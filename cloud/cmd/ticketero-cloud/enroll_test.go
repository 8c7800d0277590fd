package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/enroll"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
	"github.com/ticketero/ticketero/shared/testkit/testpki"
)

// writeLocalCA makes a CA for the local-ca provisioner and returns its files.
func writeLocalCA(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	ca, err := testpki.New(dir, "Enrol CA")
	require.NoError(t, err)
	key, err := ca.KeyPEM()
	require.NoError(t, err)
	keyFile = filepath.Join(dir, "ca-key.pem")
	require.NoError(t, os.WriteFile(keyFile, key, 0o600))
	return ca.CAFile, keyFile
}

func csrFor(t *testing.T, cn string) string {
	t.Helper()
	csr, err := testpki.CSR(cn)
	require.NoError(t, err)
	return csr
}

// The real program serves field enrolment when a provisioner is configured:
// only an HQ admin's token creates codes, and a code enrols one box once.
func TestServeEnrolment(t *testing.T) {
	broker := mqtttest.Start(t)
	db := pgtest.New(t)
	caCert, caKey := writeLocalCA(t)
	t.Setenv("TICKETERO_ENROLL_PROVISIONER", "local-ca")
	t.Setenv("TICKETERO_ENROLL_CA_CERT", caCert)
	t.Setenv("TICKETERO_ENROLL_CA_KEY", caKey)
	t.Setenv("TICKETERO_ENROLL_BROKER", broker.URL())
	m := NewMain(envConfig(t, Config{DB: db, MQTT: broker.URL(), Cert: broker.Cloud.CertFile, Key: broker.Cloud.KeyFile,
		CA: broker.PKI.CAFile, HTTP: "127.0.0.1:0", Workers: 2}), nil)
	require.NoError(t, m.Run(context.Background()))
	t.Cleanup(func() { _ = m.Close() })
	base := "http://" + m.HTTPAddr()
	ctx := context.Background()

	store := hq.New(m.Pool, time.Now)
	admin, err := store.CreateToken(ctx, "ops", cloud.RoleAdmin, nil, nil)
	require.NoError(t, err)
	viewer, err := store.CreateToken(ctx, "bi", cloud.RoleViewer, nil, nil)
	require.NoError(t, err)

	post := func(path, token string, body any) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}

	_, err = m.Pool.Exec(ctx, `INSERT INTO branches (id, name) VALUES ('ENR-001', 'Enrol'), ('ENR-002', 'Enrol 2')`)
	require.NoError(t, err)

	st, p := post("/api/v1/branches/ENR-001/enroll-codes", "", map[string]any{})
	assert.Equal(t, http.StatusUnauthorized, st)
	assert.Equal(t, "enroll.admin_required", p["code"])
	st, _ = post("/api/v1/branches/ENR-001/enroll-codes", viewer, map[string]any{})
	assert.Equal(t, http.StatusForbidden, st)

	st, p = post("/api/v1/branches/ENR-001/enroll-codes", admin, map[string]any{"ttl_s": 3600})
	require.Equal(t, http.StatusCreated, st, p)
	code, _ := p["code"].(string)
	require.NotEmpty(t, code)

	st, p = post("/api/v1/enroll", "", enroll.EnrollRequest{Code: code, CSR: csrFor(t, "ENR-001")})
	require.Equal(t, http.StatusCreated, st, p)
	assert.Equal(t, "ENR-001", p["branch"])
	assert.Equal(t, broker.URL(), p["broker"])
	assert.True(t, strings.HasPrefix(p["certificate"].(string), "-----BEGIN CERTIFICATE-----"))

	st, _ = post("/api/v1/enroll", "", enroll.EnrollRequest{Code: code, CSR: csrFor(t, "ENR-001")})
	assert.GreaterOrEqual(t, st, 400, "a code enrols one box once")
	assert.Less(t, st, 500)

	// The admin subcommand prints a fresh code.
	var out, errb bytes.Buffer
	require.NoError(t, run(ctx, []string{"enroll-code", "create", "--db", db, "--branch", "ENR-002", "--ttl", "2h"}, &out, &errb))
	assert.Contains(t, out.String(), "ENR-002")
	assert.Error(t, run(ctx, []string{"enroll-code", "create", "--db", db, "--branch", "bad branch"}, &out, &errb))
}
