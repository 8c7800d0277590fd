package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

// buildAgentVersion builds the real agent with version v.
func buildAgentVersion(t *testing.T, dir, v string) string {
	t.Helper()
	out := filepath.Join(dir, "ticketero-agent-"+v)
	cmd := exec.Command("go", "build", "-ldflags", "-X main.version="+v, "-o", out, "./agent/cmd/ticketero-agent")
	cmd.Dir = filepath.Join("..", "..")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", b)
	return out
}

// box is one branch box: the installed agent binary run by a supervisor that
// restarts it whenever it exits, as systemd does (Restart=always).
type box struct {
	*env
	installed string
	args      []string
	mu        sync.Mutex
	runs      []*proc
	stopped   bool
	done      chan struct{}
}

func (b *box) supervise() {
	b.done = make(chan struct{})
	go func() {
		defer close(b.done)
		for {
			b.mu.Lock()
			if b.stopped {
				b.mu.Unlock()
				return
			}
			p := start(b.t, b.vars, fmt.Sprintf("%s-run%d", b.branch, len(b.runs)), b.installed, b.args...)
			b.runs = append(b.runs, p)
			b.mu.Unlock()
			<-p.done
			time.Sleep(300 * time.Millisecond) // RestartSec
		}
	}()
}

func (b *box) stop() {
	b.mu.Lock()
	b.stopped = true
	p := b.runs[len(b.runs)-1]
	b.mu.Unlock()
	p.stop()
	<-b.done
}

func (b *box) logs() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var s strings.Builder
	for _, p := range b.runs {
		s.WriteString(p.output())
	}
	return s.String()
}

func (b *box) version() string {
	var br struct {
		AgentVersion string `json:"agent_version"`
	}
	if code, err := b.do("GET", "/api/v1/branch", "", nil, &br); err != nil || code != 200 {
		return ""
	}
	return br.AgentVersion
}

// kiosk issues tickets with Idempotency-Keys, retrying each until answered,
// as the kiosk UI does across an agent restart.
func (b *box) kiosk(ctx context.Context, wg *sync.WaitGroup, byKey map[string]string, mu *sync.Mutex) {
	defer wg.Done()
	c := &http.Client{Timeout: 2 * time.Second}
	for i := 0; ctx.Err() == nil; i++ {
		key := fmt.Sprintf("%s-%05d", b.branch, i)
		for attempt := 0; ; attempt++ {
			req, _ := http.NewRequest("POST", b.api+"/api/v1/tickets", strings.NewReader(`{"service":"C"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", key)
			res, err := c.Do(req)
			if err == nil {
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode == 201 || res.StatusCode == 200 {
					var tk struct{ ID string }
					_ = json.Unmarshal(body, &tk)
					mu.Lock()
					if prev, ok := byKey[key]; ok && prev != tk.ID {
						b.t.Errorf("key %s answered with two tickets %s and %s", key, prev, tk.ID)
					}
					byKey[key] = tk.ID
					mu.Unlock()
					if res.StatusCode == 201 {
						b.env.mu.Lock()
						b.tickets = append(b.tickets, tk.ID)
						b.env.mu.Unlock()
					}
					break
				}
			}
			if attempt > 1500 {
				b.t.Errorf("%s: key %s never issued", b.branch, key)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(40 * time.Millisecond)
	}
}

// TestAgentRemoteUpdate (issue 18): HQ publishes signed agent releases to
// S3 and rolls them out by ring; two real boxes update v1 → v2 (canary
// first, then all) while kiosks issue tickets, refuse a tampered binary, and
// roll a crashing v3 back by themselves. No ticket is lost or doubled, and
// HQ sees each box's version and update state.
func TestAgentRemoteUpdate(t *testing.T) {
	parallel(t)
	if testing.Short() {
		t.Skip("e2e: skipped with -short")
	}
	_, cloudBin := binaries(t)
	dir := t.TempDir()
	var v1, v2, v21 string
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); v1 = buildAgentVersion(t, dir, "1.0.0") }()
	go func() { defer wg.Done(); v2 = buildAgentVersion(t, dir, "2.0.0") }()
	go func() { defer wg.Done(); v21 = buildAgentVersion(t, dir, "2.1.0") }()
	wg.Wait()
	bad := filepath.Join(dir, "badagent")
	out, err := exec.Command("go", "build", "-ldflags", "-X main.version=3.0.0", "-o", bad, "./testdata/badagent").CombinedOutput()
	require.NoError(t, err, "%s", out)

	// S3: an in-process S3-compatible server (the AWS API is the one fake).
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	// What every program of the test gets in its environment.
	e0 := &env{t: t, branch: "UPD-HQ", data: t.TempDir()}
	e0.setenv("AWS_ACCESS_KEY_ID", "AKID", "AWS_SECRET_ACCESS_KEY", "secret", "AWS_REGION", "us-east-1",
		"TICKETERO_RELEASE_BUCKET", "ticketero-releases", "TICKETERO_RELEASE_S3_ENDPOINT", srv.URL,
		"TICKETERO_ROLLOUT_EVERY", "300ms")
	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, nil
		})})
	_, err = s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("ticketero-releases")})
	require.NoError(t, err)

	broker := mqtttest.Start(t)
	dbURL := pgtest.New(t)
	pool, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	e0.setenv("TICKETERO_DB", dbURL)
	e0.broker, e0.dbURL, e0.db = broker, dbURL, pool
	cloudCmd := func(args ...string) string {
		t.Helper()
		out, err := e0.command(cloudBin, args...).CombinedOutput()
		require.NoError(t, err, "ticketero-cloud %v: %s", args, out)
		return strings.TrimSpace(string(out))
	}

	// Offline: the signing key and the signatures.
	privFile := filepath.Join(dir, "release.key")
	pub := cloudCmd("release", "keygen", "--private", privFile)
	sign := func(bin, v string) string {
		cloudCmd("release", "sign", "--key", privFile, "--version", v, "--arch", "amd64", "--bin", bin)
		return bin + ".sig.json"
	}
	publish := func(bin, v string) {
		sig := sign(bin, v)
		cloudCmd("release", "publish", "--version", v, "--arch", "amd64", "--bin", bin, "--sig", sig, "--public-key", pub)
	}

	e0.startCloud()

	// Two boxes; the canary takes the one with the lower bucket for 2.0.0.
	names := []string{"UPD-001", "UPD-002"}
	if postgres.Canary(names[0], "2.0.0") > postgres.Canary(names[1], "2.0.0") {
		names[0], names[1] = names[1], names[0]
	}
	require.NotEqual(t, postgres.Canary(names[0], "2.0.0"), postgres.Canary(names[1], "2.0.0"))
	var boxes []*box
	agentBin, _ := binaries(t)
	for _, name := range names {
		data := t.TempDir()
		out, err := e0.command(agentBin, "executive", "add", "--data", data, "--id", "E01",
			"--name", "Ana Pérez", "--pin", "240681", "--services", "C,P").CombinedOutput()
		require.NoError(t, err, "%s", out)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		l.Close()
		c := broker.MustBranchCert(t, name)
		installed := filepath.Join(t.TempDir(), "ticketero-agent")
		require.NoError(t, copyFile(v1, installed))
		be := e0.sibling(name)
		be.data, be.api = data, "http://"+addr
		b := &box{env: be,
			installed: installed,
			args: []string{"serve", "--branch", name, "--data", data, "--http", addr, "--mqtt", broker.URL(),
				"--cert", c.CertFile, "--key", c.KeyFile, "--ca", broker.PKI.CAFile, "--mqtt-ack-timeout", "2s",
				"--update-key", pub, "--update-health-timeout", "30s"}}
		b.supervise()
		boxes = append(boxes, b)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, b := range boxes {
				t.Logf("---- %s ----\n%s", b.branch, b.logs())
			}
		}
	})
	for _, b := range boxes {
		require.Eventually(t, func() bool { return b.version() == "1.0.0" }, 60*time.Second, 50*time.Millisecond)
		require.Eventually(t, func() bool {
			var n int
			_ = pool.QueryRow(context.Background(), `SELECT count(*) FROM branches WHERE id = $1`, b.branch).Scan(&n)
			return n == 1
		}, 30*time.Second, 50*time.Millisecond, "cloud knows %s", b.branch)
	}

	ctx, stopKiosks := context.WithCancel(context.Background())
	var kwg sync.WaitGroup
	var kmu sync.Mutex
	byKey := map[string]string{}
	for _, b := range boxes {
		kwg.Add(1)
		go b.kiosk(ctx, &kwg, byKey, &kmu)
	}
	time.Sleep(500 * time.Millisecond)

	lastStep := func(branch string) (state, version, reason string) {
		_ = pool.QueryRow(context.Background(), `SELECT data->>'state', data->>'version', coalesce(data->>'reason', '')
			FROM events WHERE branch = $1 AND type = 'agent.update' ORDER BY seq DESC LIMIT 1`, branch).Scan(&state, &version, &reason)
		return
	}
	waitStep := func(b *box, state, version string) {
		t.Helper()
		require.Eventually(t, func() bool {
			s, v, _ := lastStep(b.branch)
			return s == state && v == version
		}, 90*time.Second, 100*time.Millisecond, "%s: %s %s", b.branch, state, version)
	}

	// 1. v2 to the canary: only the first box updates.
	publish(v2, "2.0.0")
	pct := postgres.Canary(names[0], "2.0.0") + 1
	cloudCmd("release", "rollout", "--version", "2.0.0", "--ring", "canary", "--percent", fmt.Sprint(pct), "--window", "always")
	waitStep(boxes[0], "updated", "2.0.0")
	assert.Equal(t, "2.0.0", boxes[0].version())
	time.Sleep(time.Second) // a few rollout rounds
	assert.Equal(t, "1.0.0", boxes[1].version(), "outside the canary")
	// 2. Then everyone.
	cloudCmd("release", "rollout", "--version", "2.0.0", "--ring", "all", "--window", "always")
	waitStep(boxes[1], "updated", "2.0.0")
	for _, b := range boxes {
		assert.Equal(t, "2.0.0", b.version())
	}

	// 3. A tampered binary: 2.1.0 is signed and published, then its S3
	// object is replaced. Every box refuses it and keeps 2.0.0.
	publish(v21, "2.1.0")
	tampered, err := os.ReadFile(v21)
	require.NoError(t, err)
	tampered[len(tampered)/2] ^= 0xff
	_, err = s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("ticketero-releases"),
		Key: aws.String("agent-releases/2.1.0/linux-amd64/ticketero-agent"), Body: strings.NewReader(string(tampered))})
	require.NoError(t, err)
	cloudCmd("release", "rollout", "--version", "2.1.0", "--ring", "all", "--window", "always")
	for _, b := range boxes {
		waitStep(b, "refused", "2.1.0")
		_, _, reason := lastStep(b.branch)
		assert.Contains(t, reason, "sha256")
		assert.Equal(t, "2.0.0", b.version())
	}

	// 4. A crashing v3: installed, started, crashed; the service manager
	// starts the launcher, which rolls back to 2.0.0 by itself.
	publish(bad, "3.0.0")
	cloudCmd("release", "rollout", "--version", "3.0.0", "--ring", "all", "--window", "always")
	for _, b := range boxes {
		waitStep(b, "rolled_back", "3.0.0")
		require.Eventually(t, func() bool { return b.version() == "2.0.0" }, 30*time.Second, 50*time.Millisecond)
	}
	time.Sleep(2 * time.Second) // the v3 offer stays retained: it is not retried
	for _, b := range boxes {
		s, v, _ := lastStep(b.branch)
		assert.Equal(t, "rolled_back 3.0.0", s+" "+v, "%s does not retry a rolled-back version", b.branch)
		assert.Equal(t, "2.0.0", b.version())
	}

	// 5. A stopped rollout: 4.0.0 is offered with a window that is closed
	// now, then stopped. Its retained offer is cleared, each box drops the
	// offer it held (it never starts it), and HQ sees "stopped". The earlier
	// rollouts are stopped first, newest last, so none takes over (the
	// latest active rollout covering a branch replaces a stopped offer).
	for _, v := range []string{"2.0.0", "2.1.0", "3.0.0"} {
		cloudCmd("release", "stop", "--version", v)
	}
	publish(v21, "4.0.0") // never downloaded: any signed binary will do
	santiago, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	later := time.Now().In(santiago).Add(3 * time.Hour)
	closed := later.Format("15:04") + "-" + later.Add(time.Hour).Format("15:04")
	cloudCmd("release", "rollout", "--version", "4.0.0", "--ring", "all", "--window", closed)
	status := func() map[string]cloud.BoxState {
		var bs []cloud.BoxState
		require.NoError(t, json.Unmarshal([]byte(cloudCmd("release", "status", "--json")), &bs))
		m := map[string]cloud.BoxState{}
		for _, s := range bs {
			m[s.Branch] = s
		}
		return m
	}
	require.Eventually(t, func() bool {
		st := status()
		return st[names[0]].Offered == "4.0.0" && st[names[1]].Offered == "4.0.0"
	}, 30*time.Second, 200*time.Millisecond, "4.0.0 offered to both")
	time.Sleep(500 * time.Millisecond) // the retained offers reach the boxes
	assert.Contains(t, cloudCmd("release", "stop", "--version", "4.0.0"), "1 rollout(s) of 4.0.0 stopped")
	require.Eventually(t, func() bool {
		st := status()
		return st[names[0]].Stopped == "4.0.0" && st[names[1]].Stopped == "4.0.0" &&
			st[names[0]].Offered == "" && st[names[1]].Offered == ""
	}, 30*time.Second, 200*time.Millisecond, "HQ sees both offers withdrawn")
	for _, b := range boxes {
		require.Eventually(t, func() bool {
			return withdrawnRE.MatchString(b.logs())
		}, 30*time.Second, 100*time.Millisecond, "%s drops the offer", b.branch)
		assert.Equal(t, "2.0.0", b.version())
	}

	stopKiosks()
	kwg.Wait()
	// No ticket lost or doubled across every restart, and the cloud has
	// exactly the boxes' events.
	for _, b := range boxes {
		require.NotEmpty(t, b.tickets)
		b.checkInvariant()
	}
	// HQ sees each box's version and last step.
	var boxesSeen []cloud.BoxState
	require.NoError(t, json.Unmarshal([]byte(cloudCmd("release", "status", "--json")), &boxesSeen))
	seen := map[string]cloud.BoxState{}
	for _, s := range boxesSeen {
		seen[s.Branch] = s
	}
	for _, b := range boxes {
		assert.Equal(t, "2.0.0", seen[b.branch].Running, b.branch)
		assert.Equal(t, "rolled_back", seen[b.branch].Last.State, b.branch)
	}
	for _, b := range boxes {
		rows, err := pool.Query(context.Background(), `SELECT data->>'state', data->>'version', data->>'running'
			FROM events WHERE branch = $1 AND type = 'agent.update' ORDER BY seq`, b.branch)
		require.NoError(t, err)
		var steps []string
		for rows.Next() {
			var st, v, r string
			require.NoError(t, rows.Scan(&st, &v, &r))
			steps = append(steps, st+" "+v+" (running "+r+")")
		}
		rows.Close()
		b.mu.Lock()
		runs := len(b.runs)
		b.mu.Unlock()
		t.Logf("%s: %d tickets; steps: %s; started by the supervisor %d times", b.branch, len(b.tickets), strings.Join(steps, ", "), runs)
		assert.Equal(t, []string{"trial 2.0.0 (running 2.0.0)", "updated 2.0.0 (running 2.0.0)", "refused 2.1.0 (running 2.0.0)",
			"rolled_back 3.0.0 (running 2.0.0)"}, steps)
		assert.Equal(t, 2, runs, "v1 → v2 in place (exec); the crash of v3 is the only restart")
	}
	for _, b := range boxes {
		b.stop()
	}
}

var withdrawnRE = regexp.MustCompile(`agent release offer withdrawn.*4\.0\.0`)

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}
