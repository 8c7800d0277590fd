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

	"github.com/ticketero/ticketero/agent/backup"
	"github.com/ticketero/ticketero/agent/enroll"
)

func runOps(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

// TestInstallUnitMatchesDeploy: install writes the unit deploy/ ships,
// byte for byte.
func TestInstallUnitMatchesDeploy(t *testing.T) {
	want, err := os.ReadFile("../../../deploy/systemd/ticketero-agent.service")
	if os.IsNotExist(err) {
		t.Skip("deploy/systemd/ticketero-agent.service not in this checkout")
	}
	require.NoError(t, err)
	assert.Equal(t, string(want), agentUnit, "copy deploy/systemd/ticketero-agent.service into agent/cmd/ticketero-agent/")
}

func TestInstall(t *testing.T) {
	data := t.TempDir()
	code, _, errOut := runOps(t, nil, "install", "--data", data, "--unit-dir", t.TempDir(), "--env-file", filepath.Join(t.TempDir(), "agent.env"), "--no-enable")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no está enrolada", "install needs an enrolled box")

	st := enroll.State{Branch: "SCL-001", Cloud: "https://hq.example", Broker: "mqtts://broker.example:8883", NotAfter: time.Now().Add(90 * 24 * time.Hour)}
	b, _ := json.Marshal(st)
	require.NoError(t, os.WriteFile(enroll.Paths{Dir: data}.State(), b, 0o600))
	units := t.TempDir()
	envFile := filepath.Join(t.TempDir(), "etc", "agent.env")
	code, out, errOut := runOps(t, nil, "install", "--data", data, "--unit-dir", units, "--env-file", envFile, "--no-enable", "--lang", "en")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "systemd unit written to")
	unit, err := os.ReadFile(filepath.Join(units, "ticketero-agent.service"))
	require.NoError(t, err)
	for _, want := range []string{"Restart=always", "ProtectSystem=strict", "NoNewPrivileges=true", "EnvironmentFile=" + envFile} {
		assert.Contains(t, string(unit), want)
	}
	for _, f := range []string{"ticketero-agent-backup.service", "ticketero-agent-backup.timer", "ticketero-agent-renew.service", "ticketero-agent-renew.timer"} {
		_, err := os.Stat(filepath.Join(units, f))
		assert.NoError(t, err, f)
	}
	e, err := os.ReadFile(envFile)
	require.NoError(t, err)
	for _, want := range []string{"TICKETERO_BRANCH=SCL-001", "TICKETERO_MQTT=mqtts://broker.example:8883",
		"TICKETERO_CERT=" + filepath.Join(data, "tls", "client.pem"), "TICKETERO_DATA=" + data} {
		assert.Contains(t, string(e), want)
	}
	// The personal-data key is kept out of the data directory: beside the
	// environment file, 0600, named by TICKETERO_DATA_KEY_FILE.
	keyFile := filepath.Join(filepath.Dir(envFile), "data.key")
	assert.Contains(t, string(e), "TICKETERO_DATA_KEY_FILE="+keyFile)
	fi, err := os.Stat(keyFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assert.NoFileExists(t, filepath.Join(data, "data.key"))
	key, err := loadDataKey(keyFile, false, data)
	require.NoError(t, err)

	// A box an older version set up has its key in the data directory: install
	// moves it (same key, so its RUTs still open) and a second install keeps it.
	old := t.TempDir()
	require.NoError(t, os.WriteFile(enroll.Paths{Dir: old}.State(), b, 0o600))
	oldKey, err := loadDataKey("", false, old)
	require.NoError(t, err)
	envFile2 := filepath.Join(t.TempDir(), "agent.env")
	for range 2 {
		code, _, errOut = runOps(t, nil, "install", "--data", old, "--unit-dir", units, "--env-file", envFile2, "--no-enable")
		require.Equal(t, 0, code, errOut)
	}
	moved, err := loadDataKey(filepath.Join(filepath.Dir(envFile2), "data.key"), false, old)
	require.NoError(t, err)
	assert.Equal(t, oldKey, moved)
	assert.NotEqual(t, key, moved)
	assert.NoFileExists(t, filepath.Join(old, "data.key"))
}

// TestBackupRestoreCommands: backup while the agent runs, refusal to restore
// under a running agent, restore of the newest backup once it stopped.
func TestBackupRestoreCommands(t *testing.T) {
	m := MustMain(t)
	data := m.Config.Data
	post := func() string {
		res, err := http.Post("http://"+m.Addr+"/api/v1/tickets", "application/json", strings.NewReader(`{"service":"C"}`))
		require.NoError(t, err)
		defer res.Body.Close()
		var tk struct{ Number string }
		require.NoError(t, json.NewDecoder(res.Body).Decode(&tk))
		return tk.Number
	}
	post()
	post()
	env := map[string]string{"TICKETERO_BRANCH": "SCL-001"}
	code, out, errOut := runOps(t, env, "backup", "--data", data, "--keep", "2")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Respaldo escrito en")
	assert.Equal(t, "C-003", post(), "the agent kept serving")

	code, _, errOut = runOps(t, env, "restore", "--data", data, "--latest")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "El agente está en ejecución")

	require.NoError(t, m.Close())
	m.HTTPServer, m.Store = nil, nil
	code, _, errOut = runOps(t, env, "restore", "--data", data)
	assert.Equal(t, 2, code, "a source is required")
	assert.Contains(t, errOut, "Falta el parámetro")
	code, out, errOut = runOps(t, env, "restore", "--data", data, "--latest")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Base de datos restaurada")
	list, err := backup.List(filepath.Join(data, "backups"))
	require.NoError(t, err)
	assert.Len(t, list, 1)

	m2 := NewMain()
	m2.Config = m.Config
	m2.Stdout = m.Stdout
	require.NoError(t, m2.Run(context.Background()))
	defer m2.Close()
	m.Addr = m2.Addr
	assert.Equal(t, "C-003", post(), "back to the backup's state (C-003 was never sent to a cloud here)")

}

func TestDoctorCommand(t *testing.T) {
	m := MustMain(t)
	code, out, errOut := runOps(t, map[string]string{"TICKETERO_BRANCH": "SCL-001"}, "doctor", "--data", m.Config.Data, "--json")
	require.Equal(t, 0, code, out+errOut)
	var r struct {
		OK     bool
		Checks []struct{ Check, Status string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	assert.True(t, r.OK)
	got := map[string]string{}
	for _, c := range r.Checks {
		got[c.Check] = c.Status
	}
	assert.Equal(t, map[string]string{"config": "pass", "cert": "skip", "broker": "skip", "cloud": "skip",
		"disk": "pass", "sqlite": "pass", "outbox": "pass", "lan": "pass"}, got)

	// Without --branch or TICKETERO_BRANCH on an agent that was never enrolled,
	// doctor reads the branch the agent recorded in its database.
	code, out, errOut = runOps(t, nil, "doctor", "--data", m.Config.Data, "--json")
	require.Equal(t, 0, code, out+errOut)
	var r2 struct {
		OK     bool
		Branch string
	}
	require.NoError(t, json.Unmarshal([]byte(out), &r2))
	assert.True(t, r2.OK, out)
	assert.Equal(t, m.Config.Branch, r2.Branch)

	require.NoError(t, m.Close())
	m.HTTPServer, m.Store = nil, nil
	code, out, _ = runOps(t, map[string]string{"TICKETERO_BRANCH": "SCL-001"}, "doctor", "--data", m.Config.Data, "--lang", "en")
	assert.Equal(t, 1, code, "the LAN port is down")
	assert.Contains(t, out, "[FAIL] LAN port")
	assert.Contains(t, out, "fix: start the service")
}
