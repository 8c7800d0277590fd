package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// MustBinary builds the real ticketero-agent once per test binary.
var buildOnce struct {
	sync.Once
	path string
	err  error
}

func MustBinary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ticketero-agent-bin")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "ticketero-agent")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(tb, buildOnce.err)
	return buildOnce.path
}

// startAgent starts the binary on data and waits for its address.
func startAgent(tb testing.TB, bin, data string) (*exec.Cmd, string) {
	tb.Helper()
	addrFile := filepath.Join(data, "http.addr")
	_ = os.Remove(addrFile)
	cmd := exec.Command(bin, "serve", "--data", data, "--http", "127.0.0.1:0", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "TICKETERO_BRANCH=SCL-001")
	require.NoError(tb, cmd.Start())
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(addrFile); err == nil && strings.HasSuffix(string(b), "\n") {
			return cmd, strings.TrimSpace(string(b))
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatal("agent did not start")
	return nil, ""
}

// TestCrashKeepsAcknowledgedTickets kills the real agent with SIGKILL while
// kiosks issue tickets, restarts it, and checks that every ticket whose 201
// was received is there and that the outbox seq is gap-free.
func TestCrashKeepsAcknowledgedTickets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := MustBinary(t)
	data := t.TempDir()
	cmd, addr := startAgent(t, bin, data)
	c := &http.Client{Timeout: 5 * time.Second}
	var mu sync.Mutex
	acked := map[string]string{} // id → number
	var n atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for k := range 6 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				svc := []string{"C", "P", "E", "G"}[(k+i)%4]
				body := fmt.Sprintf(`{"service":%q,"rut":"12.345.678-5"}`, svc)
				req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/tickets", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", fmt.Sprintf("crash-%d-%d", k, i))
				res, err := c.Do(req)
				if err != nil {
					return // the agent is gone
				}
				var tk struct{ ID, Number string }
				if res.StatusCode == 201 {
					err = jsonDecode(res, &tk)
				}
				res.Body.Close()
				if res.StatusCode == 201 && err == nil {
					mu.Lock()
					acked[tk.ID] = tk.Number
					mu.Unlock()
					n.Add(1)
				}
			}
		})
	}
	for n.Load() < 400 {
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL)) // mid-stream
	_ = cmd.Wait()
	close(stop)
	wg.Wait()
	require.GreaterOrEqual(t, len(acked), 400)

	cmd, addr = startAgent(t, bin, data)
	for id, num := range acked {
		res, err := c.Get("http://" + addr + "/api/v1/tickets/" + id)
		require.NoError(t, err)
		var tk struct{ ID, Number string }
		require.Equal(t, 200, res.StatusCode, "ticket %s (%s) acknowledged but lost", id, num)
		require.NoError(t, jsonDecode(res, &tk))
		res.Body.Close()
		assert.Equal(t, num, tk.Number)
	}
	// Issue after the restart continues the numbering.
	res, err := c.Post("http://"+addr+"/api/v1/tickets", "application/json", strings.NewReader(`{"service":"C"}`))
	require.NoError(t, err)
	require.Equal(t, 201, res.StatusCode)
	res.Body.Close()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "clean shutdown")

	db, err := sql.Open("sqlite3", "file:"+filepath.Join(data, "agent.db")+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.QueryContext(context.Background(), "SELECT seq, type FROM outbox ORDER BY seq")
	require.NoError(t, err)
	var seqs []int64
	issued := 0
	for rows.Next() {
		var s int64
		var typ string
		require.NoError(t, rows.Scan(&s, &typ))
		seqs = append(seqs, s)
		if typ == "ticket.issued" {
			issued++
		}
	}
	require.NoError(t, rows.Err())
	rows.Close()
	for i, s := range seqs {
		require.Equal(t, int64(i+1), s, "outbox seq gap at %d", i)
	}
	var tickets int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM tickets").Scan(&tickets))
	assert.Equal(t, tickets, issued, "one ticket.issued per ticket")
	assert.GreaterOrEqual(t, tickets, len(acked)+1)
	// Numbers per service are gap-free too.
	rows, err = db.Query("SELECT origin_service, COUNT(*), MAX(number) FROM tickets GROUP BY origin_service")
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var svc string
		var count, maxN int
		require.NoError(t, rows.Scan(&svc, &count, &maxN))
		assert.Equal(t, count, maxN, "numbers of %s have a gap", svc)
	}
}
