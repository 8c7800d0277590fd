package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildVersion builds the agent with version v into dir.
func buildVersion(tb testing.TB, dir, v string) string {
	tb.Helper()
	out := filepath.Join(dir, "ticketero-agent-"+v)
	b, err := exec.Command("go", "build", "-ldflags", "-X main.version="+v, "-o", out, ".").CombinedOutput()
	require.NoError(tb, err, string(b))
	return out
}

// startOn starts bin serving data on addr and waits until /readyz answers.
func startOn(tb testing.TB, bin, data, addr string) *exec.Cmd {
	tb.Helper()
	cmd := exec.Command(bin, "serve", "--data", data, "--http", addr, "--log-level", "warn")
	cmd.Env = append(os.Environ(), "TICKETERO_BRANCH=SCL-001")
	require.NoError(tb, cmd.Start())
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	c := &http.Client{Timeout: 200 * time.Millisecond}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := c.Get("http://" + addr + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return cmd
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	tb.Fatal("agent did not start")
	return nil
}

// TestUpgradeWithoutInterruption replaces the running agent's binary with a
// new version while three kiosks issue tickets with Idempotency-Keys and
// retry (as a real kiosk does): the old process stops gracefully (SIGTERM),
// the new one starts on the same port and data. The LAN API is unavailable
// for under 2 s and no ticket is doubled or lost.
func TestUpgradeWithoutInterruption(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary twice")
	}
	dir := t.TempDir()
	oldBin := buildVersion(t, dir, "1.0.0")
	newBin := buildVersion(t, dir, "1.1.0")
	installed := filepath.Join(dir, "ticketero-agent")
	require.NoError(t, copyExec(oldBin, installed))
	data := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	old := startOn(t, installed, data, addr)
	base := "http://" + addr
	assert.Equal(t, "1.0.0", agentVersion(t, base))

	type result struct {
		key, id, number string
		dup             bool
	}
	var mu sync.Mutex
	var results []result
	var successes []time.Time
	retries := 0
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for k := 0; k < 3; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			c := &http.Client{Timeout: 2 * time.Second}
			svc := []string{"C", "P", "E"}[k]
			for i := 0; ctx.Err() == nil; i++ {
				key := fmt.Sprintf("kiosk%d-%05d", k, i)
				for attempt := 0; ; attempt++ {
					req, _ := http.NewRequest("POST", base+"/api/v1/tickets", strings.NewReader(`{"service":"`+svc+`"}`))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Idempotency-Key", key)
					res, err := c.Do(req)
					if err == nil {
						body, _ := io.ReadAll(res.Body)
						res.Body.Close()
						if res.StatusCode == 201 || res.StatusCode == 200 {
							var tk struct{ ID, Number string }
							require.NoError(t, json.Unmarshal(body, &tk))
							mu.Lock()
							results = append(results, result{key, tk.ID, tk.Number, res.StatusCode == 200})
							successes = append(successes, time.Now())
							retries += attempt
							mu.Unlock()
							break
						}
					}
					if attempt > 500 {
						t.Errorf("kiosk %d: key %s never issued", k, key)
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}(k)
	}
	time.Sleep(time.Second)

	// The upgrade, as a package manager and systemd do it: the new binary
	// replaces the file atomically, then the service restarts (SIGTERM, wait,
	// start on the same port and data).
	t0 := time.Now()
	require.NoError(t, copyExec(newBin, installed+".new"))
	require.NoError(t, os.Rename(installed+".new", installed))
	require.NoError(t, old.Process.Signal(syscall.SIGTERM))
	_, _ = old.Process.Wait()
	stopped := time.Since(t0)
	startOn(t, installed, data, addr)
	restarted := time.Since(t0)
	time.Sleep(time.Second)
	stop()
	wg.Wait()

	assert.Equal(t, "1.1.0", agentVersion(t, base))
	mu.Lock()
	defer mu.Unlock()
	sort.Slice(successes, func(i, j int) bool { return successes[i].Before(successes[j]) })
	var gap time.Duration
	for i := 1; i < len(successes); i++ {
		gap = max(gap, successes[i].Sub(successes[i-1]))
	}
	t.Logf("upgrade: old stopped in %v, new serving after %v; longest gap between issued tickets %v; %d tickets, %d retries",
		stopped, restarted, gap, len(results), retries)
	assert.Less(t, gap, 2*time.Second, "LAN API gap")
	if f := os.Getenv("TICKETERO_UPGRADE_REPORT"); f != "" {
		_ = os.WriteFile(f, []byte(fmt.Sprintf("stop=%v restart=%v gap=%v tickets=%d retries=%d\n", stopped, restarted, gap, len(results), retries)), 0o644)
	}

	byKey := map[string]string{}
	ids := map[string]bool{}
	for _, r := range results {
		_, seen := byKey[r.key]
		require.False(t, seen, "key %s answered twice", r.key)
		byKey[r.key] = r.id
		require.False(t, ids[r.id], "ticket %s given to two keys", r.id)
		ids[r.id] = true
	}
	// The database holds exactly the tickets the kiosks got, numbers gap-free.
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(data, "agent.db")+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM tickets").Scan(&n))
	assert.Equal(t, len(results), n, "no ticket doubled or lost")
	rows, err := db.Query("SELECT origin_service, count(*), max(number) FROM tickets GROUP BY origin_service")
	require.NoError(t, err)
	for rows.Next() {
		var s string
		var c, m int
		require.NoError(t, rows.Scan(&s, &c, &m))
		assert.Equal(t, c, m, "service %s numbers gap-free", s)
	}
	var seqs, maxSeq int
	require.NoError(t, db.QueryRow("SELECT count(*), max(seq) FROM outbox").Scan(&seqs, &maxSeq))
	assert.Equal(t, seqs, maxSeq, "outbox seq gap-free")
}

func agentVersion(t *testing.T, base string) string {
	t.Helper()
	res, err := http.Get(base + "/api/v1/branch")
	require.NoError(t, err)
	defer res.Body.Close()
	var b struct {
		AgentVersion string `json:"agent_version"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&b))
	return b.AgentVersion
}

func copyExec(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}
