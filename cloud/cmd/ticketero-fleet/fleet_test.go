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
// branch connects, issues and serves, and every event reaches the cloud with
// the sync invariant intact.
func TestFleetSmoke(t *testing.T) {
	smoke(t, Config{})
}

// TestFleetSmokeReplicas: two cloud replicas share the load through the MQTT
// shared subscription; the invariant holds and both replicas did work. The day
// has the connect storm's shape (tickets from each branch's connection).
func TestFleetSmokeReplicas(t *testing.T) {
	rep := smoke(t, Config{Replicas: 2, Storm: true})
	assert.Equal(t, "storm", rep.Shape)
	assert.Equal(t, 2, rep.Replicas)
	require.Len(t, rep.ReplicaCPU, 2)
	assert.Positive(t, rep.ReplicaCPU[1], "the second replica consumed")
}

// TestFleetSmokeSQS: the events reach the cloud through an SQS queue on
// fauxqs, fed by the bridge that plays the IoT rule, with two replicas.
func TestFleetSmokeSQS(t *testing.T) {
	if _, err := fauxqsBin(""); err != nil {
		t.Skip(err)
	}
	rep := smoke(t, Config{Replicas: 2, SQS: true})
	assert.Equal(t, "sqs", rep.Source)
	assert.Positive(t, rep.SQSMessages)
}

func smoke(t *testing.T, c Config) *Report {
	t.Helper()
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
	c.Branches, c.PerProcess, c.Duration, c.Ramp = 12, 6, 8*time.Second, time.Second
	c.PeakTickets, c.Executives, c.CutShare, c.Cloud, c.AdminDB = 3600, 2, 0.1, cloud, db
	c.Dir, c.DBName = filepath.Join(dir, "fleet"), "ticketero_fleet_smoke"
	rep, err := run(context.Background(), c, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Logf("%+v", *rep)
	assert.Equal(t, 12, rep.Connected)
	assert.True(t, rep.Converged, "every outbox acked")
	assert.Positive(t, rep.Tickets)
	assert.Zero(t, rep.OpErrors, "every call, service and sign-out accepted")
	assert.Greater(t, rep.Events, rep.Tickets*2, "issued, called, started, completed reach the cloud")
	assert.Positive(t, rep.SteadyEvents)
	assert.Positive(t, rep.DayEvents)
	if !c.Storm {
		assert.Equal(t, "opening", rep.Shape)
		assert.Zero(t, rep.RampTickets, "no ticket before the doors open")
		assert.Positive(t, rep.RampEvents, "the executives sign in before the opening")
		assert.Positive(t, rep.ClosingEvents, "the executives sign out after the closing")
	}
	assert.Positive(t, rep.OverviewBytes)
	assert.True(t, rep.Invariant, "sync invariant: %v", rep.InvariantErrors)
	return rep
}
