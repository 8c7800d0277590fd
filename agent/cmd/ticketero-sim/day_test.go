package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/testkit/syncbuf"
)

// TestBoundedDay drives 8 simulated hours (and the closing half hour) against
// the real agent program, twice in a row (day rollover: the second day starts
// on the first day's sessions), with a third day cut in the middle of visits:
// no answer 5xx, every executive signed out at the end of each day, and the
// queue drains (arrivals fit the staff).
func TestBoundedDay(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the agent")
	}
	bin := filepath.Join(t.TempDir(), "ticketero-agent")
	build := exec.Command("go", "build", "-o", bin, "../ticketero-agent")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	data := t.TempDir()
	for _, x := range []struct{ id, name, pin, svcs string }{
		{"E01", "Ana Pérez", "135790", "C,P"}, {"E02", "Bruno Soto", "246801", "C,E"}, {"E03", "Carla Muñoz", "370415", "P,E,G"},
	} {
		out, err := exec.Command(bin, "executive", "add", "--data", data, "--id", x.id, "--name", x.name,
			"--pin", x.pin, "--services", x.svcs).CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	agent := exec.Command(bin, "serve", "--branch", "SCL-001", "--data", data, "--http", "127.0.0.1:0")
	var log syncbuf.Buffer
	agent.Stdout, agent.Stderr = &log, &log
	require.NoError(t, agent.Start())
	t.Cleanup(func() {
		_ = agent.Process.Signal(os.Interrupt)
		_ = agent.Wait()
		if t.Failed() {
			t.Logf("agent log:\n%s", log.String())
		}
	})
	var base string
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(filepath.Join(data, "http.addr"))
		base = "http://" + strings.TrimSpace(string(b))
		return err == nil && len(b) > 0
	}, 60*time.Second, 20*time.Millisecond)

	cfg, err := parseFlags([]string{"--agent", "SCL-001=" + base, "--speed", "1500", "--seed", "7"})
	require.NoError(t, err)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()

	waiting := func() int {
		var qs struct {
			Queues []struct {
				Waiting int `json:"waiting"`
			} `json:"queues"`
		}
		_, err := newClient(base).do(ctx, http.MethodGet, "/api/v1/queues", "", nil, &qs, nil)
		require.NoError(t, err)
		n := 0
		for _, q := range qs.Queues {
			n += q.Waiting
		}
		return n
	}
	for day := 1; day <= 2; day++ {
		// The agent's queue is not closed between runs: a day is judged on
		// what it adds to the queue, not on the leftovers of the day before.
		before := waiting()
		sum, err := Run(ctx, cfg, logger)
		require.NoError(t, err)
		left := waiting() - before
		t.Logf("day %d: %+v, waiting at close %d (%d before it)", day, sum, left+before, before)
		assert.Zero(t, sum.ServerErrors, "day %d: 5xx answers", day)
		assert.Zero(t, sum.Stuck, "day %d: executives left signed in", day)
		assert.Greater(t, sum.Issued, int64(cfg.Tickets/2), "day %d: arrivals", day)
		assert.Greater(t, sum.Served+sum.NoShows, sum.Issued*7/10, "day %d: served most", day)
		// A fifth: the clock runs 1,500 times faster than the executives'
		// requests can when the machine is busy (9 of 83 left at load 22).
		assert.LessOrEqual(t, left, int(sum.Issued/5), "day %d: the queue drains", day)
	}

	// A run stopped mid-day (Ctrl-C): visits in hand are finished, executives
	// signed out, and the next run starts cleanly.
	cut := cfg
	cut.Duration = 4 * time.Second
	sum, err := Run(ctx, cut, logger)
	require.NoError(t, err)
	assert.Zero(t, sum.ServerErrors)
	assert.Zero(t, sum.Stuck, "executives left signed in after a cut")
	// Signed out for real: each can sign in at another counter (a live session
	// would answer session.executive_busy).
	for i, x := range cfg.Executives {
		_, err := newClient(base).do(ctx, http.MethodPost, "/api/v1/sessions", "", map[string]any{
			"executive": x.ID, "pin": x.PIN, "counter": 4 + i}, nil, nil)
		assert.NoError(t, err, "executive %s", x.ID)
	}
}
