package mqtt_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent/mqtt"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/eventgen"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

var httpAddr = regexp.MustCompile(`"http":"([^"]+)"`)

// realCloud builds and starts the real ticketero-cloud against the broker and
// a fresh database; it returns the database URL.
func realCloud(tb testing.TB, b *mqtttest.Broker) string {
	tb.Helper()
	dbURL, drop, err := pgtest.Create(context.Background(), "ticketero_relay_bench")
	if err != nil {
		pgtest.Skip(tb, err)
	}
	tb.Cleanup(drop)
	bin := filepath.Join(tb.TempDir(), "ticketero-cloud")
	build := exec.Command("go", "build", "-o", bin, "./cloud/cmd/ticketero-cloud")
	build.Dir = filepath.Join("..", "..")
	out, err := build.CombinedOutput()
	require.NoError(tb, err, "%s", out)
	cmd := exec.Command(bin, "serve", "--db", dbURL, "--mqtt", b.URL(), "--cert", b.Cloud.CertFile,
		"--key", b.Cloud.KeyFile, "--ca", b.PKI.CAFile, "--http", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "TICKETERO_LOG_LEVEL=info")
	stderr, _ := cmd.StderrPipe()
	require.NoError(tb, cmd.Start())
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := httpAddr.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
			if strings.Contains(sc.Text(), `"level":"ERROR"`) {
				tb.Log(sc.Text())
			}
		}
	}()
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var a string
	select {
	case a = <-addr:
	case <-time.After(60 * time.Second):
		tb.Fatal("cloud did not start")
	}
	// Ready means connected with the shared subscription in place.
	require.Eventually(tb, func() bool {
		resp, err := http.Get("http://" + a + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, 60*time.Second, 20*time.Millisecond)
	return dbURL
}

// BenchmarkDrainBacklog50k: a branch offline for days comes back with 50,000
// events in its outbox; time until the real cloud has stored and acked them all
// (relay at its default limits: 50 publishes/s, 50 batches in flight).
func BenchmarkDrainBacklog50k(b *testing.B) {
	broker := mqtttest.Start(b)
	realCloud(b, broker)
	for i := 0; b.Loop(); i++ {
		branch := fmt.Sprintf("DRN-%03d", i)
		ob := newOutbox(b)
		ob.Append(b, eventgen.New(branch, uint64(i)).Take(50_000))
		tlsCfg, err := broker.PKI.TLSConfig(broker.MustBranchCert(b, branch))
		require.NoError(b, err)
		r, err := mqtt.New(mqtt.Config{Branch: branch, URL: broker.URL(), TLS: tlsCfg}, ob, nil, nil, nil)
		require.NoError(b, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		start := time.Now()
		go func() { _ = r.Run(ctx); close(done) }()
		for {
			s, err := ob.SyncState(context.Background())
			require.NoError(b, err)
			if s.LastAck == 50_000 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		b.ReportMetric(time.Since(start).Seconds(), "drain_s")
		cancel()
		<-done
	}
	b.ReportMetric(0, "ns/op")
}

// BenchmarkSteadyStateLag: events committed one at a time at 50/s; the lag is
// the cloud's insert time (events.received_at, clock_timestamp()) minus the
// event's time, set just before the agent's commit.
func BenchmarkSteadyStateLag(b *testing.B) {
	broker := mqtttest.Start(b)
	dbURL := realCloud(b, broker)
	conn, err := pgx.Connect(context.Background(), dbURL)
	require.NoError(b, err)
	defer conn.Close(context.Background())
	for i := 0; b.Loop(); i++ {
		branch := fmt.Sprintf("LAG-%03d", i)
		ob := newOutbox(b)
		tlsCfg, err := broker.PKI.TLSConfig(broker.MustBranchCert(b, branch))
		require.NoError(b, err)
		r, err := mqtt.New(mqtt.Config{Branch: branch, URL: broker.URL(), TLS: tlsCfg}, ob, nil, nil, nil)
		require.NoError(b, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = r.Run(ctx); close(done) }()
		require.Eventually(b, func() bool { return r.State().Connected }, 10*time.Second, 5*time.Millisecond)
		g := eventgen.New(branch, uint64(i))
		const n = 500
		for range n {
			e := g.Next()
			e.At = time.Now().UTC()
			ob.Append(b, []event.Event{e})
			time.Sleep(20 * time.Millisecond)
		}
		require.Eventually(b, func() bool { s, _ := ob.SyncState(ctx); return s.LastAck == n }, 20*time.Second, 10*time.Millisecond)
		var p50, p99, mx float64
		require.NoError(b, conn.QueryRow(context.Background(), `SELECT
			percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - at)),
			percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - at)),
			max(extract(epoch FROM received_at - at))::float8
			FROM events WHERE branch = $1`, branch).Scan(&p50, &p99, &mx))
		b.ReportMetric(p50*1000, "p50_ms")
		b.ReportMetric(p99*1000, "p99_ms")
		b.ReportMetric(mx*1000, "max_ms")
		cancel()
		<-done
	}
	b.ReportMetric(0, "ns/op")
}

// BenchmarkMosquittoQoS1RoundTrip is the floor: one QoS 1 publish to receipt
// by another client through the same mTLS broker.
func BenchmarkMosquittoQoS1RoundTrip(b *testing.B) {
	broker := mqtttest.Start(b)
	dial := func(id string, c mqtttest.Cert) paho.Client {
		cfg, err := broker.PKI.TLSConfig(c)
		require.NoError(b, err)
		cl := paho.NewClient(paho.NewClientOptions().AddBroker(broker.URL()).SetClientID(id).SetTLSConfig(cfg))
		require.True(b, cl.Connect().WaitTimeout(10*time.Second))
		b.Cleanup(func() { cl.Disconnect(100) })
		return cl
	}
	pub := dial("FLR-001", broker.MustBranchCert(b, "FLR-001"))
	sub := dial("cloud-floor", broker.Cloud)
	got := make(chan struct{}, 1)
	sub.Subscribe(event.EventsTopic("FLR-001"), 1, func(paho.Client, paho.Message) { got <- struct{}{} }).WaitTimeout(5 * time.Second)
	var mu sync.Mutex
	var lat []time.Duration
	payload := make([]byte, 400)
	for b.Loop() {
		start := time.Now()
		pub.Publish(event.EventsTopic("FLR-001"), 1, false, payload)
		<-got
		mu.Lock()
		lat = append(lat, time.Since(start))
		mu.Unlock()
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
}
