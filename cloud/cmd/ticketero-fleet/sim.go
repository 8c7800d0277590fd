package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ticketero/ticketero/agent"
	agentmqtt "github.com/ticketero/ticketero/agent/mqtt"
	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
)

// Report is what a run measured.
type Report struct {
	Branches        int     `json:"branches"`
	Connected       int     `json:"branches_connected"`
	DurationS       float64 `json:"duration_s"`
	PeakTicketsHour float64 `json:"peak_tickets_per_branch_hour"`
	Tickets         int64   `json:"tickets"`
	Events          int64   `json:"events_in_cloud"`
	PeakEventsS     float64 `json:"peak_events_per_s"`
	OpErrors        int64   `json:"agent_op_errors"`
	Processes       int     `json:"branch_processes"`
	// Shape: "opening" (the boxes connect and the executives sign in
	// before the doors open; they leave over the closing stretch) or
	// "storm" (--storm: every branch's day starts as it connects).
	Shape string `json:"shape"`
	// Day: every event from the doors' opening to the day's end (the
	// executives' closing sign-outs included), the cut branches apart.
	DayEvents   int64   `json:"day_events"`
	DayLagP50ms float64 `json:"day_lag_p50_ms"`
	DayLagP99ms float64 `json:"day_lag_p99_ms"`
	DayLagMaxms float64 `json:"day_lag_max_ms"`
	// Before the opening: the connections' and sign-ins' events, and when
	// the last of them reached the cloud relative to the opening (negative:
	// before the doors opened).
	OnlineS      float64 `json:"online_after_s"` // start → opening: every branch online and its sign-ins in the cloud
	RampEvents   int64   `json:"ramp_events"`
	RampTickets  int64   `json:"ramp_tickets"` // issued before the opening (0 unless --storm)
	RampLagP99ms float64 `json:"ramp_lag_p99_ms"`
	RampDrainS   float64 `json:"ramp_last_commit_after_opening_s"`
	// After the doors close: the last services and the sign-outs, and when
	// the last of them committed in the cloud after the closing.
	ClosingEvents   int64   `json:"closing_events"`
	ClosingLagP99ms float64 `json:"closing_lag_p99_ms"`
	ClosingLastS    float64 `json:"closing_last_commit_after_close_s"`
	SteadyEvents    int64   `json:"steady_events"`
	SteadyLagP50ms  float64 `json:"steady_lag_p50_ms"`
	SteadyLagP99ms  float64 `json:"steady_lag_p99_ms"`
	// Settled: from 20 s after the ramp's last sign-in to the first closing
	// sign-out, once the connect storm's backlog is absorbed (the steady
	// window starts while it still drains).
	SettledEvents   int64     `json:"settled_events"`
	SettledLagP50ms float64   `json:"settled_lag_p50_ms"`
	SettledLagP99ms float64   `json:"settled_lag_p99_ms"`
	LagP50ms        float64   `json:"lag_p50_ms"`
	LagP99ms        float64   `json:"lag_p99_ms"`
	LagMaxms        float64   `json:"lag_max_ms"`
	CutLagP99ms     float64   `json:"cut_branches_lag_p99_ms"`
	Converged       bool      `json:"all_acked"`
	DrainS          float64   `json:"drain_after_day_s"`
	CloudRSSMaxMB   float64   `json:"cloud_rss_max_mb"`
	CloudCPU        float64   `json:"cloud_cpu_cores_avg"`
	PGConnsMax      int       `json:"pg_connections_max"`
	CloudMQTTConns  int       `json:"cloud_mqtt_connections"`
	SimRSSMB        float64   `json:"simulator_rss_mb"`
	OverviewHTMLms  float64   `json:"hq_overview_html_ms"`
	OverviewBytes   int       `json:"hq_overview_bytes"`
	OverviewFCPms   float64   `json:"hq_overview_first_paint_ms"`
	FloorMQTTp50ms  float64   `json:"floor_mosquitto_qos1_p50_ms"`
	FloorMQTTp99ms  float64   `json:"floor_mosquitto_qos1_p99_ms"`
	FloorPGInsertS  float64   `json:"floor_pg_autocommit_inserts_per_s"`
	LoadAvg         string    `json:"load_average_at_end"`
	Replicas        int       `json:"cloud_replicas"`
	Source          string    `json:"event_source"`
	ReplicaRSSMaxMB []float64 `json:"cloud_replica_rss_max_mb"`
	ReplicaCPU      []float64 `json:"cloud_replica_cpu_cores_avg"`
	SQSMessages     int64     `json:"sqs_messages_bridged,omitempty"`
	BridgeErrors    int64     `json:"sqs_bridge_errors,omitempty"`
	Invariant       bool      `json:"invariant_holds"`
	InvariantErrors []string  `json:"invariant_errors,omitempty"`
	Notes           []string  `json:"notes,omitempty"`

	// AgentResends are the relays' resends by reason (ack_timeout: one
	// batch, a probe; gap and idle: a rewind to the last ack).
	AgentResends map[string]uint64 `json:"agent_resends"`

	// Stages: where a batch spent its time (the cloud's histograms summed
	// over the replicas: sqs_queued, sqs_dispatch, sqs_held, sqs_handle,
	// sqs_delete, ingest, event_lag; and the bridge's MQTT receipt to
	// SendMessage done).
	Stages map[string]Stage `json:"stages,omitempty"`
}

type branch struct {
	id     string
	store  *sqlite.Store
	relay  *agentmqtt.Relay
	cancel context.CancelFunc
	done   chan struct{}
	cut    bool
	// bell rings once for each ticket that joins the queue (issued or
	// transferred): an executive calls when the terminal shows someone
	// waiting, as people do, instead of polling an empty queue (each call
	// is a write transaction on the branch's store).
	bell chan struct{}
}

// ring tells one waiting executive that a ticket joined the queue.
func (b *branch) ring() {
	select {
	case b.bell <- struct{}{}:
	default: // a queue this long keeps every executive busy anyway
	}
}

var httpRe = regexp.MustCompile(`"http":"([^"]+)"`)

// startCloud starts replica k of the cloud and waits until it serves HTTP;
// its address is returned.
func startCloud(c Config, broker *mqtttest.Broker, dbURL string, k int, sqsEndpoint, sqsURL string, log *slog.Logger) (*exec.Cmd, string, error) {
	args := []string{"serve", "--db", dbURL, "--mqtt", broker.URL(), "--cert", broker.Cloud.CertFile,
		"--key", broker.Cloud.KeyFile, "--ca", broker.PKI.CAFile, "--http", "127.0.0.1:0", "--client-id", fmt.Sprintf("cloud-fleet-%d", k)}
	if k > 0 {
		args = append(args, "--no-migrate")
	}
	if sqsURL != "" {
		args = append(args, "--sqs-queue-url", sqsURL, "--sqs-endpoint", sqsEndpoint)
	}
	cloud := exec.Command(c.Cloud, args...) // #nosec G204 -- the benchmark's own cloud binary
	cloud.Env = append(os.Environ(), "TICKETERO_LOG_LEVEL=info", "TICKETERO_LOG_FORMAT=json", "TICKETERO_ADMIN_PASSWORD=fleet-admin-password",
		"TICKETERO_OPS_TOKEN="+opsToken)
	pr, pw := io.Pipe()
	cloud.Stdout, cloud.Stderr = pw, pw
	if err := cloud.Start(); err != nil {
		return nil, "", err
	}
	addrC := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if m := httpRe.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addrC <- m[1]:
				default:
				}
			} else if strings.Contains(sc.Text(), `"level":"ERROR"`) ||
				strings.Contains(sc.Text(), `"msg":"broker connection lost"`) || strings.Contains(sc.Text(), `"msg":"broker connected"`) {
				log.Warn("cloud", "replica", k, "line", sc.Text())
			}
		}
	}()
	select {
	case addr := <-addrC:
		return cloud, addr, nil
	case <-time.After(90 * time.Second):
		_ = cloud.Process.Kill()
		_ = cloud.Wait()
		return nil, "", fmt.Errorf("cloud replica %d did not start", k)
	}
}

func run(ctx context.Context, c Config, log *slog.Logger) (*Report, error) {
	rep := &Report{Branches: c.Branches, PeakTicketsHour: c.PeakTickets}
	dbURL, name, err := dbName(c.AdminDB, c.DBName)
	if err != nil {
		return nil, err
	}
	admin, err := pgx.Connect(ctx, c.AdminDB)
	if err != nil {
		return nil, err
	}
	_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, err
	}
	_ = admin.Close(ctx)

	if err := os.RemoveAll(c.Dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, err
	}
	defer os.RemoveAll(c.Dir)
	brokerDir := filepath.Join(c.Dir, "broker")
	_ = os.MkdirAll(brokerDir, 0o700)
	broker, err := mqtttest.New(brokerDir)
	if err != nil {
		return nil, err
	}
	if err := broker.Start(); err != nil {
		return nil, err
	}
	defer broker.Stop()

	// Floors, measured in this run.
	rep.FloorMQTTp50ms, rep.FloorMQTTp99ms, err = mqttFloor(broker)
	if err != nil {
		return nil, fmt.Errorf("mosquitto floor: %w", err)
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	if rep.FloorPGInsertS, err = pgFloor(ctx, pool); err != nil {
		return nil, fmt.Errorf("postgres floor: %w", err)
	}

	// The event path: the shared subscription (each replica consumes a share
	// of the branches' batches), or SQS on fauxqs fed by a bridge that plays
	// the AWS IoT rule's part (sqsmode.go).
	var sqsURL, sqsEndpoint string
	var br *bridge
	if c.SQS {
		var stopFauxqs func()
		if sqsEndpoint, sqsURL, stopFauxqs, err = startFauxqs(ctx, c.Fauxqs); err != nil {
			return nil, fmt.Errorf("fauxqs: %w", err)
		}
		defer stopFauxqs()
		if br, err = startBridge(ctx, broker, sqsEndpoint, sqsURL, log); err != nil {
			return nil, fmt.Errorf("bridge: %w", err)
		}
		defer br.stop()
	}
	// The cloud: --replicas processes on the same database and broker; the
	// first migrates, the others start once it serves.
	var clouds []*exec.Cmd
	defer func() {
		for _, cl := range clouds {
			_ = cl.Process.Signal(syscall.SIGTERM)
			_ = cl.Wait()
		}
	}()
	var cloudAddr string
	var addrs []string
	for k := range max(1, c.Replicas) {
		cl, addr, err := startCloud(c, broker, dbURL, k, sqsEndpoint, sqsURL, log)
		if err != nil {
			return nil, err
		}
		clouds = append(clouds, cl)
		addrs = append(addrs, addr)
		if k == 0 {
			cloudAddr = addr
		}
		log.Info("cloud serving", "replica", k, "http", addr)
	}

	// Branches run in child processes of this program (each branch holds
	// about 7 file descriptors: two SQLite connections with their WAL and
	// shared memory, and its TLS socket), --per-process branches each.
	nCut := int(float64(c.Branches)*c.CutShare + 0.5)
	r0 := rand.New(rand.NewPCG(1, 2)) // #nosec G404 -- a reproducible simulation
	var specs []childSpec
	for i := range c.Branches {
		k := i / c.PerProcess
		if k == len(specs) {
			specs = append(specs, childSpec{CA: broker.PKI.CAFile, URL: broker.URL(), Dir: filepath.Join(c.Dir, fmt.Sprintf("p%d", k)),
				Ramp: c.Ramp, Duration: c.Duration, PeakTickets: c.PeakTickets, Executives: c.Executives, Storm: c.Storm})
		}
		id := fmt.Sprintf("FLT-%05d", i+1)
		cert, err := broker.BranchCert(id)
		if err != nil {
			return nil, err
		}
		sp := &specs[k]
		sp.Branches = append(sp.Branches, branchSpec{ID: id, Cert: cert.CertFile, Key: cert.KeyFile, Cut: i < nCut,
			Delay: time.Duration(float64(c.Ramp) * float64(i) / float64(c.Branches)), Seed: r0.Uint64()})
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var children []*exec.Cmd
	var gos []io.WriteCloser
	var readies []*bufio.Reader
	for k, sp := range specs {
		f := filepath.Join(c.Dir, fmt.Sprintf("child-%d.json", k))
		raw, _ := json.Marshal(sp)
		if err := os.WriteFile(f, raw, 0o600); err != nil {
			return nil, err
		}
		ch := exec.Command(self) // #nosec G204 -- this program itself
		ch.Env = append(os.Environ(), childEnv+"="+f)
		ch.Stderr = os.Stderr
		in, err := ch.StdinPipe()
		if err != nil {
			return nil, err
		}
		out, err := ch.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := ch.Start(); err != nil {
			return nil, err
		}
		children, gos, readies = append(children, ch), append(gos, in), append(readies, bufio.NewReader(out))
	}
	// Every process has opened its stores: one start time for all.
	setupFrom := time.Now()
	for k, r := range readies {
		if line, err := r.ReadString('\n'); err != nil || strings.TrimSpace(line) != "ready" {
			return nil, fmt.Errorf("branch process %d did not get ready: %q %v", k, line, err)
		}
	}
	start := time.Now().Add(time.Second)
	for _, w := range gos {
		fmt.Fprintln(w, start.UnixNano())
	}
	log.Info("branches ready", "processes", len(children), "branches", c.Branches, "setup", time.Since(setupFrom).Round(time.Second))

	// Sample the cloud, PostgreSQL and the branch processes while the day runs.
	var rssMax, simRSS float64
	var pgMax int
	repRSS := make([]float64, len(clouds))
	sampCtx, stopSamp := context.WithCancel(ctx)
	defer stopSamp()
	sampled := make(chan struct{})
	cpu0 := make([]float64, len(clouds))
	for k, cl := range clouds {
		cpu0[k] = procCPU(cl.Process.Pid)
	}
	go func() {
		defer close(sampled)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			var rss float64
			for k, cl := range clouds {
				r := procRSS(cl.Process.Pid)
				repRSS[k] = max(repRSS[k], r)
				rss += r
			}
			rssMax = max(rssMax, rss)
			var sim float64
			for _, ch := range children {
				sim += procRSS(ch.Process.Pid)
			}
			simRSS = max(simRSS, sim)
			var n int
			if pool.QueryRow(sampCtx, `SELECT count(*) FROM pg_stat_activity WHERE datname = $1`, name).Scan(&n) == nil {
				pgMax = max(pgMax, n-1) // minus this sampler's own
			}
			select {
			case <-sampCtx.Done():
				return
			case <-t.C:
			}
		}
	}()
	// The doors open at the ramp's end for --storm; otherwise once every
	// branch is online with its executives' sign-ins committed in the cloud
	// (the connect storm's backlog absorbed), as a network whose boxes run
	// all night opens its doors.
	opening := start.Add(c.Ramp)
	if !c.Storm {
		if opening, err = waitOnline(ctx, pool, start, c.Branches*c.Executives, 5*time.Minute); err != nil {
			rep.Notes = append(rep.Notes, err.Error())
		}
	}
	for _, w := range gos {
		fmt.Fprintln(w, opening.UnixNano())
		_ = w.Close()
	}
	dayStart, dayEnd := opening, opening.Add(c.Duration)
	rep.OnlineS = opening.Sub(start).Seconds()
	log.Info("doors open", "after_start", opening.Sub(start).Round(time.Second))
	rep.Converged = true
	var states []branchState
	for k, ch := range children {
		if err := ch.Wait(); err != nil {
			return nil, fmt.Errorf("branch process %d: %w", k, err)
		}
		var cr childReport
		raw, err := os.ReadFile(filepath.Join(c.Dir, fmt.Sprintf("child-%d.json.out", k)))
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(raw, &cr); err != nil {
			return nil, err
		}
		rep.Tickets += cr.Tickets
		rep.OpErrors += cr.OpErrors
		rep.Connected += cr.Connected
		rep.Converged = rep.Converged && cr.Converged
		rep.DrainS = max(rep.DrainS, cr.DrainS)
		for reason, n := range cr.Resends {
			if rep.AgentResends == nil {
				rep.AgentResends = map[string]uint64{}
			}
			rep.AgentResends[reason] += n
		}
		states = append(states, cr.States...)
	}
	rep.DurationS = time.Since(start).Seconds()
	if rep.Stages, err = cloudStages(ctx, addrs); err != nil {
		rep.Notes = append(rep.Notes, "cloud stages not read: "+err.Error())
	}
	for k, cl := range clouds {
		cpu := (procCPU(cl.Process.Pid) - cpu0[k]) / time.Since(start).Seconds()
		rep.CloudCPU += cpu
		rep.ReplicaCPU = append(rep.ReplicaCPU, cpu)
	}
	stopSamp()
	<-sampled
	rep.CloudRSSMaxMB, rep.SimRSSMB, rep.PGConnsMax, rep.CloudMQTTConns = rssMax, simRSS, pgMax, len(clouds)
	rep.Replicas, rep.ReplicaRSSMaxMB = len(clouds), repRSS
	if br != nil {
		rep.Source, rep.SQSMessages = "sqs", br.sent.Load()
		rep.BridgeErrors = br.errs.Load()
		if rep.Stages == nil {
			rep.Stages = map[string]Stage{}
		}
		rep.Stages["bridge"] = br.wait.stage()
	} else {
		rep.Source = "mqtt-shared"
	}
	if rep.InvariantErrors, err = checkInvariant(ctx, pool, states); err != nil {
		return nil, fmt.Errorf("invariant: %w", err)
	}
	rep.Invariant = len(rep.InvariantErrors) == 0 && len(states) == c.Branches
	rep.Processes = len(children)

	// Lag: agent commit (the event's time) → cloud commit (received_at).
	cut := make([]string, 0, nCut)
	for i := range nCut {
		cut = append(cut, fmt.Sprintf("FLT-%05d", i+1))
	}
	// Steady state: from 10 s after the last branch connected to the day's
	// end (the connect storm and the closing sign-outs are measured apart).
	steadyFrom, steadyTo := dayStart.Add(min(10*time.Second, c.Duration/4)), dayEnd
	if err := pool.QueryRow(ctx, `SELECT count(*),
			coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - at)) * 1000, 0),
			coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - at)) * 1000, 0)
		FROM events WHERE NOT branch = ANY($1) AND at >= $2 AND at < $3`, cut, steadyFrom, steadyTo).Scan(
		&rep.SteadyEvents, &rep.SteadyLagP50ms, &rep.SteadyLagP99ms); err != nil {
		return nil, err
	}
	if err := pool.QueryRow(ctx, `WITH w AS (SELECT max(at) FILTER (WHERE type = 'executive.logged_in') + interval '20 s' AS t0,
				min(at) FILTER (WHERE type = 'executive.logged_out') AS t1 FROM events WHERE at >= $2)
		SELECT count(*),
			coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - at)) * 1000, 0),
			coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - at)) * 1000, 0)
		FROM events, w WHERE NOT branch = ANY($1) AND at >= w.t0 AND at < w.t1`, cut, start).Scan(
		&rep.SettledEvents, &rep.SettledLagP50ms, &rep.SettledLagP99ms); err != nil {
		return nil, err
	}
	if err := pool.QueryRow(ctx, `SELECT count(*),
			coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - at)) * 1000, 0),
			coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - at)) * 1000, 0),
			coalesce(max(extract(epoch FROM received_at - at)) * 1000, 0)
		FROM events WHERE NOT branch = ANY($1) AND type <> 'executive.admin' AND at >= $2`, cut, start).Scan(&rep.Events, &rep.LagP50ms, &rep.LagP99ms, &rep.LagMaxms); err != nil {
		return nil, err
	}
	rep.Shape = "opening"
	if c.Storm {
		rep.Shape = "storm"
	}
	// The day, the ramp before it and the closing after it (every event
	// has committed by now).
	day, err := measureWindow(ctx, pool, cut, dayStart, dayEnd)
	if err != nil {
		return nil, err
	}
	ramp, err := measureWindow(ctx, pool, cut, start, dayStart)
	if err != nil {
		return nil, err
	}
	closed, err := measureWindow(ctx, pool, cut, dayEnd, time.Now().Add(time.Minute))
	if err != nil {
		return nil, err
	}
	rep.DayEvents, rep.DayLagP50ms, rep.DayLagP99ms, rep.DayLagMaxms = day.n, day.p50, day.p99, day.max
	rep.RampEvents, rep.RampTickets, rep.RampLagP99ms, rep.RampDrainS = ramp.n, ramp.issued, ramp.p99, ramp.lastAfter(dayStart)
	rep.ClosingEvents, rep.ClosingLagP99ms, rep.ClosingLastS = closed.n, closed.p99, closed.lastAfter(dayEnd)
	var cutEvents int64
	_ = pool.QueryRow(ctx, `SELECT count(*), coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - at)) * 1000, 0)
		FROM events WHERE branch = ANY($1) AND type <> 'executive.admin' AND at >= $2`, cut, start).Scan(&cutEvents, &rep.CutLagP99ms)
	rep.Events += cutEvents // the day's events (the executives' setup excluded)
	var peak float64
	_ = pool.QueryRow(ctx, `SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM events GROUP BY date_trunc('second', received_at)) s`).Scan(&peak)
	rep.PeakEventsS = peak

	// HQ's overview at this many branches.
	rep.OverviewHTMLms, rep.OverviewBytes, rep.OverviewFCPms, err = overview(ctx, cloudAddr, pool, c.Browser)
	if err != nil {
		rep.Notes = append(rep.Notes, "overview: "+err.Error())
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		rep.LoadAvg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return rep, nil
}

func (b *branch) startRelay(log *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel, b.done = cancel, make(chan struct{})
	go func() {
		defer close(b.done)
		if err := b.relay.Run(ctx); err != nil {
			log.Warn("relay", "branch", b.id, "err", err)
		}
	}()
}

func (b *branch) stopRelay() {
	if b.cancel != nil {
		b.cancel()
		<-b.done
		b.cancel = nil
	}
}

// day runs the branch's compressed day: arrivals on the day curve, each
// executive calling, serving (5 % of visits transferred to the other
// service) and calling again; a cut branch loses its WAN for the middle
// fifth of the day.
func (b *branch) day(ctx context.Context, c Config, seed uint64, d *doors, tickets, errs *atomic.Int64) {
	r := rand.New(rand.NewPCG(seed, 7)) // #nosec G404 -- a reproducible simulation
	b.bell = make(chan struct{}, 1024)
	peak := c.PeakTickets / 3600
	var wg sync.WaitGroup
	for k := range c.Executives {
		wg.Add(1)
		r := rand.New(rand.NewPCG(seed, uint64(k)+100)) // #nosec G404 -- a reproducible simulation
		// Executives stay after the doors close (the day's context ends
		// --duration after the opening), serve who is still waiting and sign
		// out over the closing stretch, not all at once (--storm: all at the
		// day's end).
		base := ctx
		if !c.Storm {
			base = context.WithoutCancel(ctx)
		}
		ectx, leave := context.WithCancel(base)
		if !c.Storm {
			away := time.Duration(r.Float64() * float64(closing(c.Duration)))
			context.AfterFunc(ctx, func() { time.AfterFunc(away, leave) })
		}
		go func() {
			defer wg.Done()
			defer leave()
			b.executive(ectx, c, k, r, errs)
		}()
	}
	opening, ok := d.known(ctx)
	if !ok {
		wg.Wait()
		return
	}
	frac := func() float64 { return min(1, max(0, time.Since(opening).Seconds()/c.Duration.Seconds())) }
	if b.cut {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(opening.Add(c.Duration * 2 / 5))):
			}
			b.stopRelay()
			select {
			case <-ctx.Done():
			case <-time.After(c.Duration / 5):
			}
			b.startRelay(slog.New(slog.DiscardHandler))
		}()
	}
	if !c.Storm {
		// The doors open now: the box connected and its executives signed
		// in before.
		select {
		case <-ctx.Done():
		case <-time.After(time.Until(opening)):
		}
	}
	for poisson(ctx, r, peak, func() float64 { return peak * dayRate(frac()) }) {
		svc := "C"
		if r.Float64() < 0.2 {
			svc = "P"
		}
		if _, _, err := b.store.Issue(ctx, agent.TicketRequest{Service: svc, Channel: "kiosk"}); err != nil {
			errs.Add(1)
			continue
		}
		tickets.Add(1)
		b.ring()
	}
	wg.Wait()
}

// lagWindow is what the cloud holds of the events written in a window, the
// cut branches and the executives' setup apart: how many (tickets issued
// among them), their lag (agent commit → cloud commit, ms) and the last
// commit.
type lagWindow struct {
	n, issued     int64
	p50, p99, max float64
	last          *time.Time
}

// lastAfter is the last commit's time after t, in seconds (0: no event).
func (w lagWindow) lastAfter(t time.Time) float64 {
	if w.last == nil {
		return 0
	}
	return w.last.Sub(t).Seconds()
}

// measureWindow reads the events written in [from, to).
func measureWindow(ctx context.Context, pool *pgxpool.Pool, cut []string, from, to time.Time) (lagWindow, error) {
	var w lagWindow
	err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE type = 'ticket.issued'),
			coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - at)) * 1000, 0),
			coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - at)) * 1000, 0),
			coalesce(max(extract(epoch FROM received_at - at)) * 1000, 0), max(received_at)
		FROM events WHERE NOT branch = ANY($1) AND type <> 'executive.admin' AND at >= $2 AND at < $3`, cut, from, to).Scan(
		&w.n, &w.issued, &w.p50, &w.p99, &w.max, &w.last)
	return w, err
}

// waitOnline waits until the cloud holds n sign-ins since start, and returns
// the opening a second later; after limit it opens anyway and says so.
func waitOnline(ctx context.Context, pool *pgxpool.Pool, start time.Time, n int, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for {
		var got int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE type = 'executive.logged_in' AND at >= $1`, start).Scan(&got); err != nil {
			return time.Now().Add(time.Second), fmt.Errorf("waiting for the sign-ins: %w", err)
		}
		if got >= n {
			return time.Now().Add(time.Second), nil
		}
		if time.Now().After(deadline) {
			return time.Now().Add(time.Second), fmt.Errorf("doors opened after %s with %d of %d sign-ins in the cloud", limit, got, n)
		}
		select {
		case <-ctx.Done():
			return time.Now(), ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// executive signs in and serves: call next when the bell rings (or every 30 s
// in case a ring went to a colleague who found the queue empty), start,
// complete (or transfer), with a service time of about a third of the peak's
// inter-arrival time per counter, so the queue drains.
func (b *branch) executive(ctx context.Context, c Config, k int, r *rand.Rand, errs *atomic.Int64) {
	token, _, err := b.store.Login(ctx, fmt.Sprintf("E%02d", k+1), pin(k), k+1, "127.0.0.1")
	if err != nil {
		errs.Add(1)
		return
	}
	defer func() {
		if err := b.store.Logout(context.Background(), token); err != nil {
			errs.Add(1)
		}
	}()
	serve := time.Duration(float64(c.Executives) / (c.PeakTickets / 3600) * 0.5 * float64(time.Second))
	sleep := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
			return
		case <-b.bell:
		case <-time.After(30 * time.Second):
		}
		t, err := b.store.CallNext(ctx, token, k+1)
		if err != nil || t == nil {
			continue
		}
		if _, err := b.store.Act(context.Background(), token, agent.Act{Ticket: t.ID, Action: queue.ActionStart}); err != nil {
			errs.Add(1)
		}
		// Leaving cuts the service short but still closes it: the agent
		// refuses a sign-out with a customer at the counter.
		staying := sleep(time.Duration(r.ExpFloat64() * float64(serve)))
		a := agent.Act{Ticket: t.ID, Action: queue.ActionComplete}
		if r.Float64() < 0.05 {
			to := "P"
			if t.Service == "P" {
				to = "C"
			}
			a = agent.Act{Ticket: t.ID, Action: queue.ActionTransfer, To: to}
		}
		if _, err := b.store.Act(context.Background(), token, a); err != nil {
			errs.Add(1)
		} else if a.Action == queue.ActionTransfer {
			b.ring()
		}
		if !staying {
			return
		}
	}
}

func procRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// procCPU is the process's user + system CPU seconds.
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / 100 // USER_HZ
}
