// Package e2e runs the real ticketero-agent and ticketero-cloud binaries
// against a real Mosquitto (mTLS, per-branch ACL) and a real PostgreSQL, breaks
// things in between, and checks the sync invariant: the cloud's (branch, seq)
// set equals the agent's, tickets equal, no duplicate rows.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

var (
	buildOnce          sync.Once
	agentBin, cloudBin string
	buildErr           error
	binDir             string
)

// busyTests is how many of the package's busy tests run at once. The tests
// run in parallel (each its own broker, database, cloud and agents): most of
// their time goes waiting on the programs they run, so more than
// GOMAXPROCS (go test's default -parallel) fit on 2 cores, and the tests
// that mostly wait for the wall clock (a minute boundary, a slot's hour)
// should not queue behind the others.
const busyTests = 3

// busy holds a place for each busy test running.
var busy = make(chan struct{}, busyTests)

// parallel runs a busy test (issuing, serving, restarting programs) in
// parallel with the package's others once one of busyTests places is free.
func parallel(t *testing.T) {
	t.Helper()
	t.Parallel()
	busy <- struct{}{}
	t.Cleanup(func() { <-busy })
}

// parallelOnClock runs a test that mostly waits for the wall clock in
// parallel with the others at once, without a busy place.
func parallelOnClock(t *testing.T) {
	t.Helper()
	t.Parallel()
}

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		// busy limits the busy tests; go test's limit must not hold back
		// the clock-bound ones behind them.
		_ = flag.Set("test.parallel", "64")
	}
	dir, err := os.MkdirTemp("", "ticketero-e2e-bin")
	if err != nil {
		panic(err)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// binaries builds both programs once per run (TICKETERO_E2E_AGENT_BIN
// overrides the agent's).
func binaries(t *testing.T) (string, string) {
	t.Helper()
	buildOnce.Do(func() {
		root := filepath.Join("..", "..")
		for _, pkg := range []string{"./agent/cmd/ticketero-agent", "./cloud/cmd/ticketero-cloud"} {
			cmd := exec.Command("go", "build", "-o", binDir+"/", pkg)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v: %s", pkg, err, out)
				return
			}
		}
		agentBin, cloudBin = filepath.Join(binDir, "ticketero-agent"), filepath.Join(binDir, "ticketero-cloud")
		if p := os.Getenv("TICKETERO_E2E_AGENT_BIN"); p != "" {
			agentBin = p
		}
	})
	require.NoError(t, buildErr)
	return agentBin, cloudBin
}

// proc is a running program.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	log  bytes.Buffer
}

// start runs bin with this process's environment, the harness's variables
// and vars ("KEY=value", the test's own: tests run in parallel, so none
// sets the environment of the test process).
func start(t *testing.T, vars []string, name string, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(append(os.Environ(), "TICKETERO_LOG_LEVEL=info", "TICKETERO_OPS_TOKEN="+opsToken,
		"TICKETERO_ADMIN_PASSWORD=e2e-admin-password"), vars...)
	r, w := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = w, w
	require.NoError(t, p.cmd.Start())
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.log.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	go func() { _ = p.cmd.Wait(); _ = w.Close(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("---- %s log ----\n%s", name, p.output())
		}
	})
	return p
}

func (p *proc) output() string { p.mu.Lock(); defer p.mu.Unlock(); return p.log.String() }

// kill sends SIGKILL (a crash) and waits.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM (a graceful stop) and waits.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.kill()
	}
}

// env is one test's world: broker, database, cloud replicas, one agent.
type env struct {
	t      *testing.T
	broker *mqtttest.Broker
	dbURL  string
	db     *pgxpool.Pool
	clouds []*proc
	// cloudAddr is the HTTP address of the last cloud started.
	cloudAddr string
	branch    string
	data      string
	agent     *proc
	api       string
	// vars ("KEY=value") go to every program the test starts, in place of
	// t.Setenv (not allowed in a parallel test).
	vars []string
	// tickets issued (201 received), in order.
	mu      sync.Mutex
	tickets []string
	token   string
}

func newEnv(t *testing.T, branch string) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("e2e: skipped with -short")
	}
	binaries(t)
	awayFromMidnight(t)
	e := &env{t: t, broker: mqtttest.Start(t), dbURL: pgtest.New(t), branch: branch, data: t.TempDir()}
	cfg, err := pgxpool.ParseConfig(e.dbURL)
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["application_name"] = "e2e" // spared by the connection-drop fault
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	e.db = pool
	return e
}

// setenv sets environment variables (key, value, key, value ...) for the
// programs the test starts from now on.
func (e *env) setenv(kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		e.vars = append(e.vars, kv[i]+"="+kv[i+1])
	}
}

// sibling is another branch in e's world: the same broker, database, cloud
// replicas and variables, its own data folder.
func (e *env) sibling(branch string) *env {
	return &env{t: e.t, broker: e.broker, dbURL: e.dbURL, db: e.db, clouds: e.clouds, cloudAddr: e.cloudAddr,
		vars: slices.Clip(e.vars), branch: branch, data: e.t.TempDir()}
}

// command is exec.Command with the environment start gives a program.
func (e *env) command(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), e.vars...)
	return cmd
}

// awayFromMidnight waits out the last three minutes of a Santiago business
// day: a test that issues tickets and reads "today" (or closes the day) would
// otherwise straddle the branch's real day rollover at midnight, which is
// behaviour, not a defect.
func awayFromMidnight(t *testing.T) {
	t.Helper()
	loc, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	now := time.Now().In(loc)
	next := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 30, 0, loc)
	if wait := next.Sub(now); wait < 3*time.Minute+30*time.Second {
		t.Logf("e2e: waiting %s for Santiago's midnight to pass", wait.Round(time.Second))
		time.Sleep(wait)
	}
}

// opsToken lets the tests read the cloud's sync API and metrics.
const opsToken = "e2e-ops-token"

var httpRe = regexp.MustCompile(`"http":"([^"]+)"`)

// startCloud starts one cloud replica and waits until it is ready.
func (e *env) startCloud() *proc {
	e.t.Helper()
	_, cloud := binaries(e.t)
	b := e.broker
	p := start(e.t, e.vars, fmt.Sprintf("cloud-%d", len(e.clouds)), cloud, "serve", "--db", e.dbURL, "--mqtt", b.URL(),
		"--cert", b.Cloud.CertFile, "--key", b.Cloud.KeyFile, "--ca", b.PKI.CAFile, "--http", "127.0.0.1:0",
		"--client-id", fmt.Sprintf("cloud-%s-%d-%d", e.branch, len(e.clouds), time.Now().UnixNano()%1e6))
	e.clouds = append(e.clouds, p)
	var addr string
	require.Eventually(e.t, func() bool {
		m := httpRe.FindStringSubmatch(p.output())
		if m == nil {
			return false
		}
		addr = m[1]
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, 90*time.Second, 50*time.Millisecond, "cloud not ready: %s", p.output())
	e.cloudAddr = addr
	return p
}

// startAgent starts (or restarts) the agent on its data folder.
func (e *env) startAgent() {
	e.t.Helper()
	agentBin, _ := binaries(e.t)
	if _, err := os.Stat(filepath.Join(e.data, "agent.db")); os.IsNotExist(err) {
		out, err := exec.Command(agentBin, "executive", "add", "--data", e.data, "--id", "E01",
			"--name", "Ana Pérez", "--pin", "240681", "--services", "C,P").CombinedOutput()
		require.NoError(e.t, err, "%s", out)
	}
	_ = os.Remove(filepath.Join(e.data, "http.addr"))
	c := e.broker.MustBranchCert(e.t, e.branch)
	e.agent = start(e.t, e.vars, "agent", agentBin, "serve", "--branch", e.branch, "--data", e.data, "--http", "127.0.0.1:0",
		"--mqtt", e.broker.URL(), "--cert", c.CertFile, "--key", c.KeyFile, "--ca", e.broker.PKI.CAFile,
		"--mqtt-ack-timeout", "2s")
	require.Eventually(e.t, func() bool {
		b, err := os.ReadFile(filepath.Join(e.data, "http.addr"))
		if err != nil || len(b) == 0 {
			return false
		}
		e.api = "http://" + strings.TrimSpace(string(b))
		return true
	}, 60*time.Second, 20*time.Millisecond, "agent did not start: %s", e.agent.output())
	e.token = ""
}

func (e *env) do(method, path, token string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.api+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		_ = json.Unmarshal(b, out)
	}
	return resp.StatusCode, nil
}

// issue issues n tickets; it returns how many got their 201 (the agent may be
// killed underneath).
func (e *env) issue(n int) int {
	ok := 0
	for i := range n {
		var tk struct {
			ID string `json:"id"`
		}
		svc := []string{"C", "P"}[i%2]
		code, err := e.do("POST", "/api/v1/tickets", "", map[string]string{"service": svc}, &tk)
		if err != nil || code != 201 {
			continue
		}
		e.mu.Lock()
		e.tickets = append(e.tickets, tk.ID)
		e.mu.Unlock()
		ok++
	}
	return ok
}

// serve logs the executive in (once per agent run) and serves up to n tickets:
// call next, start, complete.
func (e *env) serve(n int) {
	e.t.Helper()
	if e.token == "" {
		var s struct {
			Token string `json:"token"`
		}
		code, err := e.do("POST", "/api/v1/sessions", "", map[string]any{"executive": "E01", "pin": "240681", "counter": 1}, &s)
		if err != nil || (code != 201 && code != 200) {
			// Already logged in from before a crash: log out and retry once.
			return
		}
		e.token = s.Token
	}
	for range n {
		var tk struct {
			ID string `json:"id"`
		}
		code, err := e.do("POST", "/api/v1/counters/1/call-next", e.token, nil, &tk)
		if err != nil || code != 200 {
			return
		}
		e.do("POST", "/api/v1/tickets/"+tk.ID+"/start", e.token, nil, nil)
		e.do("POST", "/api/v1/tickets/"+tk.ID+"/complete", e.token, map[string]string{"outcome": "ok"}, nil)
	}
}

// day simulates a busy stretch of a branch day.
func (e *env) day(rounds int) {
	for range rounds {
		e.issue(10)
		e.serve(6)
	}
}

type syncState struct {
	Mode      string `json:"mode"`
	Connected bool   `json:"connected"`
	LastSeq   uint64 `json:"last_seq"`
	LastAck   uint64 `json:"last_ack"`
	Backlog   uint64 `json:"backlog"`
}

func (e *env) agentSync() syncState {
	var s syncState
	_, _ = e.do("GET", "/api/v1/sync", "", nil, &s)
	return s
}

// converge waits until the agent's outbox is fully acked.
func (e *env) converge(within time.Duration) syncState {
	e.t.Helper()
	var s syncState
	require.Eventually(e.t, func() bool {
		s = e.agentSync()
		return s.LastSeq > 0 && s.LastAck == s.LastSeq
	}, within, 50*time.Millisecond, "agent not fully acked: %+v", s)
	return s
}

// checkInvariant: the cloud's (branch, seq) set equals the agent's (1..last
// seq: the outbox is gap-free), no duplicate rows, tickets equal.
func (e *env) checkInvariant() {
	e.t.Helper()
	s := e.converge(120 * time.Second)
	ctx := context.Background()
	var n, distinct, minSeq, maxSeq int64
	require.NoError(e.t, e.db.QueryRow(ctx, `SELECT count(*), count(DISTINCT seq), coalesce(min(seq), 0), coalesce(max(seq), 0)
		FROM events WHERE branch = $1`, e.branch).Scan(&n, &distinct, &minSeq, &maxSeq))
	assert.Equal(e.t, int64(s.LastSeq), n, "cloud rows = agent's events")
	assert.Equal(e.t, n, distinct, "no duplicate rows")
	assert.Equal(e.t, int64(1), minSeq)
	assert.Equal(e.t, int64(s.LastSeq), maxSeq)
	var applied int64
	require.NoError(e.t, e.db.QueryRow(ctx, `SELECT applied_seq FROM branch_sync WHERE branch = $1`, e.branch).Scan(&applied))
	assert.Equal(e.t, int64(s.LastSeq), applied, "every event projected")

	// Tickets: the agent's current state of every ticket equals the cloud's.
	rows, err := e.db.Query(ctx, `SELECT id, status FROM tickets WHERE branch = $1`, e.branch)
	require.NoError(e.t, err)
	cloud := map[string]string{}
	for rows.Next() {
		var id, st string
		require.NoError(e.t, rows.Scan(&id, &st))
		cloud[id] = st
	}
	rows.Close()
	e.mu.Lock()
	ids := append([]string(nil), e.tickets...)
	e.mu.Unlock()
	require.NotEmpty(e.t, ids)
	for _, id := range ids {
		var tk struct {
			Status string `json:"status"`
		}
		code, err := e.do("GET", "/api/v1/tickets/"+id, "", nil, &tk)
		require.NoError(e.t, err)
		require.Equal(e.t, 200, code, "agent lost ticket %s whose 201 was received", id)
		assert.Equal(e.t, tk.Status, cloud[id], "ticket %s", id)
	}
	var total int
	require.NoError(e.t, e.db.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE branch = $1`, e.branch).Scan(&total))
	var issued int
	require.NoError(e.t, e.db.QueryRow(ctx, `SELECT count(*) FROM events WHERE branch = $1 AND type = 'ticket.issued'`, e.branch).Scan(&issued))
	assert.Equal(e.t, issued, total, "one ticket row per ticket.issued event")
	e.t.Logf("invariant holds: %d events, %d tickets", n, total)
}

// publishConfig publishes cfg as HQ does: retained on the branch's config
// topic, with the cloud's certificate.
func (e *env) publishConfig(cfg event.Config) {
	e.t.Helper()
	raw, err := json.Marshal(cfg)
	require.NoError(e.t, err)
	tlsCfg, err := e.broker.PKI.TLSConfig(e.broker.Cloud)
	require.NoError(e.t, err)
	hq := paho.NewClient(paho.NewClientOptions().AddBroker(e.broker.URL()).SetClientID(fmt.Sprintf("hq-%d", time.Now().UnixNano()%1e6)).SetTLSConfig(tlsCfg))
	require.True(e.t, hq.Connect().WaitTimeout(10*time.Second))
	defer hq.Disconnect(100)
	tok := hq.Publish(event.ConfigTopic(e.branch), 1, true, raw)
	require.True(e.t, tok.WaitTimeout(10*time.Second))
	require.NoError(e.t, tok.Error())
}
