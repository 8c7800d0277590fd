package main

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
)

func TestMain(m *testing.M) {
	if f := os.Getenv(childEnv); f != "" { // a branch process of the smoke test
		if err := runChild(f); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestDayCurve(t *testing.T) {
	assert.InDelta(t, 1, dayRate(0.2), 0.05, "morning peak")
	assert.InDelta(t, 1, dayRate(0.55), 0.05, "lunch peak")
	assert.Less(t, dayRate(0.38), 0.7, "between the peaks")
	assert.Less(t, dayRate(0.95), 0.35, "closing")
}

// TestFleetSmoke runs the simulator for a few seconds with 12 branches in two
// branch processes against the real cloud, PostgreSQL and Mosquitto: every
// branch connects, issues and serves, and every event reaches the cloud.
func TestFleetSmoke(t *testing.T) {
	if testing.Short() || !mqtttest.Available() {
		t.Skip("needs Mosquitto, PostgreSQL and the cloud binary")
	}
	dir := t.TempDir()
	cloud := filepath.Join(dir, "ticketero-cloud")
	out, err := exec.Command("go", "build", "-o", cloud, "../ticketero-cloud").CombinedOutput()
	require.NoError(t, err, "%s", out)
	db := os.Getenv("TICKETERO_TEST_DATABASE_URL")
	if db == "" {
		db = "postgres://postgres@127.0.0.1:5432/ticketero_test?sslmode=disable"
	}
	rep, err := run(context.Background(), Config{Branches: 12, PerProcess: 6, Duration: 8 * time.Second, Ramp: time.Second,
		PeakTickets: 3600, Executives: 2, CutShare: 0.1, Cloud: cloud, AdminDB: db, Dir: filepath.Join(dir, "fleet"),
		DBName: "ticketero_fleet_smoke"}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Logf("%+v", *rep)
	assert.Equal(t, 12, rep.Connected)
	assert.True(t, rep.Converged, "every outbox acked")
	assert.Positive(t, rep.Tickets)
	assert.Zero(t, rep.OpErrors)
	assert.Greater(t, rep.Events, rep.Tickets*2, "issued, called, started, completed reach the cloud")
	assert.Positive(t, rep.SteadyEvents)
	assert.Positive(t, rep.OverviewBytes)
}
