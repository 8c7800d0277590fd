package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/testkit/syncbuf"
)

// agentBin is the ticketero-agent binary TestMain builds; agentBinNext is the
// same program reporting another version, an upgrade.
var agentBin, agentBinNext string

// buildAgent compiles the real agent command into dir under name, with extra
// go build flags.
func buildAgent(dir, name string, flags ...string) (string, error) {
	bin := filepath.Join(dir, name)
	args := append(append([]string{"build", "-o", bin}, flags...), "github.com/ticketero/ticketero/agent/cmd/ticketero-agent")
	cmd := exec.Command("go", args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ticketero-agent: %w", err)
	}
	return bin, nil
}

// agent is one running ticketero-agent process.
type agent struct {
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	data string
	addr string // host:port it listens on
	done chan struct{}
}

// URL returns the agent's base URL.
func (a *agent) URL() string { return "http://" + a.addr }

var listenAddr = regexp.MustCompile(`(127\.0\.0\.1:[0-9]+)`)

// startAgent runs `ticketero-agent serve` on addr (":0" style for a free port)
// with its data in dir, and waits until it answers /readyz.
func startAgent(t *testing.T, dir, addr string) *agent {
	t.Helper()
	return startAgentBin(t, agentBin, dir, addr)
}

// startAgentBin is startAgent with another binary and extra serve flags.
func startAgentBin(t *testing.T, bin, dir, addr string, extra ...string) *agent {
	t.Helper()
	a := &agent{out: &syncbuf.Buffer{}, data: dir, done: make(chan struct{})}
	_ = os.Remove(filepath.Join(dir, "http.addr"))
	a.cmd = exec.Command(bin, append([]string{"serve", "--branch", "SCL-001", "--data", dir, "--http", addr, "--log-format", "text",
		"--telegram-bot", "SucursalBot"}, extra...)...)
	a.cmd.Stdout, a.cmd.Stderr = a.out, a.out
	a.cmd.Env = append(os.Environ(), "TICKETERO_TELEGRAM_BOT=SucursalTestBot")
	require.NoError(t, a.cmd.Start())
	go func() { _ = a.cmd.Wait(); close(a.done) }()
	t.Cleanup(a.kill)

	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-a.done:
			t.Fatalf("agent exited at start:\n%s", a.out.String())
		default:
		}
		if a.addr == "" {
			if b, err := os.ReadFile(filepath.Join(dir, "http.addr")); err == nil && len(bytes.TrimSpace(b)) > 0 {
				a.addr = strings.TrimSpace(string(b))
			} else if m := listenAddr.FindStringSubmatch(a.out.String()); m != nil && !strings.HasSuffix(m[1], ":0") {
				a.addr = m[1]
			}
		}
		if a.addr != "" {
			if res, err := http.Get(a.URL() + "/readyz"); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					return a
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("agent not ready after 20 s (addr %q):\n%s", a.addr, a.out.String())
	return nil
}

// kill ends the agent abruptly, as a power cut would.
func (a *agent) kill() {
	if a.cmd.Process == nil {
		return
	}
	_ = a.cmd.Process.Kill()
	<-a.done
}

// agentCLI runs an admin subcommand of the agent, e.g. executive add.
func agentCLI(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(agentBin, args...).CombinedOutput()
	require.NoError(t, err, "ticketero-agent %s:\n%s", strings.Join(args, " "), out)
}

// call does one LAN API request and decodes the JSON answer into out (if not nil).
func call(t *testing.T, a *agent, method, path, token string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, a.URL()+"/api/v1"+path, r)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Less(t, res.StatusCode, 300, "%s %s: %s", method, path, b)
	if out != nil && len(b) > 0 {
		require.NoError(t, json.Unmarshal(b, out), string(b))
	}
	return res.StatusCode
}
