package e2e

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/enroll"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
	"github.com/ticketero/ticketero/shared/testkit/testpki"
)

// enrolmentCA makes the local CA the cloud's enrolment signs branch
// certificates with (PEM certificate and key).
func enrolmentCA(t *testing.T) ([]byte, []byte) {
	t.Helper()
	ca, err := testpki.NewValid(t.TempDir(), "Ticketero Enrolment CA", 5*365*24*time.Hour)
	require.NoError(t, err)
	key, err := ca.KeyPEM()
	require.NoError(t, err)
	return ca.CertPEM(), key
}

// startEnrolled starts the agent with the certificate enrolment wrote.
func (e *env) startEnrolled() {
	e.t.Helper()
	agentBin, _ := binaries(e.t)
	_ = os.Remove(filepath.Join(e.data, "http.addr"))
	var st struct{ Broker string }
	b, err := os.ReadFile(filepath.Join(e.data, "enroll.json"))
	require.NoError(e.t, err)
	require.NoError(e.t, json.Unmarshal(b, &st))
	tls := filepath.Join(e.data, "tls")
	e.agent = start(e.t, e.vars, "agent", agentBin, "serve", "--branch", e.branch, "--data", e.data, "--http", "127.0.0.1:0",
		"--mqtt", st.Broker, "--cert", filepath.Join(tls, "client.pem"), "--key", filepath.Join(tls, "client-key.pem"),
		"--ca", filepath.Join(tls, "ca.pem"), "--mqtt-ack-timeout", "2s")
	require.Eventually(e.t, func() bool {
		b, err := os.ReadFile(filepath.Join(e.data, "http.addr"))
		if err != nil || len(b) == 0 {
			return false
		}
		e.api = "http://" + strings.TrimSpace(string(b))
		return true
	}, 30*time.Second, 20*time.Millisecond, "agent did not start: %s", e.agent.output())
	e.token = ""
}

// TestFieldEnrolDoctorReplace is the field technician's day with the real
// binaries (issue 8): HQ creates a one-time code; the box enrols (its key made
// locally, the cloud's local CA signs the CSR), serves with that certificate
// through the real broker to the real cloud; doctor passes every check; the
// nightly backup runs; the box issues more and dies. A replacement box enrols
// with a new code, restores the backup and resumes from the cloud, and goes
// on: the cloud's events equal the new box's (seq 1..N, no gap, no
// duplicate), every ticket is on the new box, no number is given twice.
func TestFieldEnrolDoctorReplace(t *testing.T) {
	parallel(t)
	if testing.Short() {
		t.Skip("e2e: skipped with -short")
	}
	agentBin, _ := binaries(t)
	ctx := context.Background()
	b, err := mqtttest.New(t.TempDir())
	require.NoError(t, err)
	caPEM, caKeyPEM := enrolmentCA(t)
	// The broker trusts client certificates of the enrolment CA too.
	f, err := os.OpenFile(b.PKI.CAFile, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write(caPEM)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	brokerCA, err := os.ReadFile(b.PKI.CAFile)
	require.NoError(t, err)
	if !mqtttest.Available() {
		t.Skip("mosquitto not installed")
	}
	require.NoError(t, b.Start())
	t.Cleanup(b.Stop)

	e := &env{t: t, broker: b, dbURL: pgtest.New(t), branch: "E2E-FIELD", data: t.TempDir()}
	pool, err := pgxpool.New(ctx, e.dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	e.db = pool
	e.startCloud() // migrates the database
	_, err = pool.Exec(ctx, `INSERT INTO branches (id, name) VALUES ('E2E-FIELD', 'Sucursal de prueba') ON CONFLICT DO NOTHING`)
	require.NoError(t, err)
	ca, err := enroll.NewLocalCA(caPEM, caKeyPEM, b.URL())
	require.NoError(t, err)
	ca.CAPEM = string(brokerCA)
	store := &postgres.EnrollStore{Pool: pool}
	hq := httptest.NewServer(&enroll.Handler{Store: store, Provisioner: ca})
	t.Cleanup(hq.Close)
	agent := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(agentBin, args...).CombinedOutput()
		require.NoError(t, err, "ticketero-agent %s: %s", strings.Join(args, " "), out)
		return string(out)
	}

	// Day one: enrol, serve, diagnose, back up.
	code, err := store.CreateCode(ctx, "E2E-FIELD", "admin@hq", time.Hour)
	require.NoError(t, err)
	out := agent("enroll", "--cloud", hq.URL, "--code", code.Code, "--data", e.data)
	assert.Contains(t, out, "Sucursal E2E-FIELD enrolada")
	agent("executive", "add", "--data", e.data, "--id", "E01", "--name", "Ana Pérez", "--pin", "240681", "--services", "C,P")
	e.startEnrolled()
	e.day(3)
	e.converge(30 * time.Second)

	out = agent("doctor", "--data", e.data, "--json", "--cloud", "http://"+e.cloudAddr)
	var rep struct {
		OK     bool `json:"ok"`
		Checks []struct{ Check, Status, Detail string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	for _, c := range rep.Checks {
		assert.Equal(t, "pass", c.Status, "%s: %s", c.Check, c.Detail)
	}
	assert.True(t, rep.OK)
	assert.Len(t, rep.Checks, 8)

	agent("backup", "--data", e.data)
	backups, err := filepath.Glob(filepath.Join(e.data, "backups", "agent-*.db"))
	require.NoError(t, err)
	require.Len(t, backups, 1)
	require.Equal(t, 8, e.issue(8), "tickets after the backup")
	e.converge(30 * time.Second)
	e.agent.kill() // the box dies

	// The replacement box.
	code2, err := store.CreateCode(ctx, "E2E-FIELD", "admin@hq", time.Hour)
	require.NoError(t, err)
	e.data = t.TempDir()
	out = agent("enroll", "--cloud", hq.URL, "--code", code2.Code, "--data", e.data)
	assert.Contains(t, out, "Estado retomado", "seeded from the cloud at enrolment")
	out = agent("restore", "--data", e.data, "--from", backups[0], "--resume")
	assert.Contains(t, out, "Base de datos restaurada")
	assert.Contains(t, out, "Estado retomado")
	e.startEnrolled()
	require.Equal(t, 6, e.issue(6), "the new box issues")
	e.checkInvariant()
	var n, distinct int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT (origin_service, number)) FROM tickets WHERE branch = 'E2E-FIELD'`).Scan(&n, &distinct))
	assert.Equal(t, n, distinct, "no number given twice")
	assert.Equal(t, len(e.tickets), n)
	var used int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM enroll_codes WHERE branch = 'E2E-FIELD' AND used_at IS NOT NULL`).Scan(&used))
	assert.Equal(t, 2, used)
}
