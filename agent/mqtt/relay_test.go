package mqtt_test

import (
	"context"
	"crypto/tls"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	_ "github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/agent/mqtt"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/testkit/eventgen"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
	"github.com/ticketero/ticketero/shared/testkit/syncbuf"
)

// sqliteOutbox is a minimal agent.Outbox over a real SQLite file, so the relay
// is tested independently of the agent's store.
type sqliteOutbox struct {
	db      *sql.DB
	written chan struct{}
}

func newOutbox(t testing.TB) *sqliteOutbox {
	t.Helper()
	db, err := sql.Open("sqlite3", filepath.Join(t.TempDir(), "outbox.db")+"?_journal_mode=WAL&_busy_timeout=5000")
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	_, err = db.Exec(`CREATE TABLE outbox (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);
		CREATE TABLE acked (seq INTEGER NOT NULL); INSERT INTO acked VALUES (0);`)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return &sqliteOutbox{db: db, written: make(chan struct{}, 1)}
}

func (o *sqliteOutbox) Append(t testing.TB, evs []event.Event) {
	t.Helper()
	tx, err := o.db.Begin()
	require.NoError(t, err)
	for _, e := range evs {
		b, _ := json.Marshal(e)
		_, err := tx.Exec(`INSERT INTO outbox (seq, body) VALUES (?, ?)`, e.Seq, string(b))
		require.NoError(t, err)
	}
	require.NoError(t, tx.Commit())
	select {
	case o.written <- struct{}{}:
	default:
	}
}

func (o *sqliteOutbox) Pending(ctx context.Context, after uint64, limit int) ([]event.Event, error) {
	rows, err := o.db.QueryContext(ctx, `SELECT body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []event.Event
	for rows.Next() {
		var b string
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		var e event.Event
		if err := json.Unmarshal([]byte(b), &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (o *sqliteOutbox) Ack(ctx context.Context, seq uint64) error {
	s, err := o.SyncState(ctx)
	if err != nil {
		return err
	}
	if seq > s.LastSeq {
		return fmt.Errorf("ack %d beyond %d", seq, s.LastSeq)
	}
	_, err = o.db.ExecContext(ctx, `UPDATE acked SET seq = max(seq, ?)`, seq)
	return err
}

func (o *sqliteOutbox) SyncState(ctx context.Context) (agent.SyncState, error) {
	var s agent.SyncState
	err := o.db.QueryRowContext(ctx, `SELECT coalesce((SELECT max(seq) FROM outbox), 0), (SELECT seq FROM acked)`).
		Scan(&s.LastSeq, &s.LastAck)
	return s, err
}

func (o *sqliteOutbox) Written() <-chan struct{} { return o.written }

// configs records applied snapshots, never going back to an older version.
type configs struct {
	mu       sync.Mutex
	version  int64
	applied  []int64
	commands []string
	targets  map[string]int
}

func (c *configs) ServiceTargets(context.Context) map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.targets
}

func (c *configs) ApplyConfig(_ context.Context, cfg event.Config) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cfg.Version <= c.version {
		return nil
	}
	c.version = cfg.Version
	c.applied = append(c.applied, cfg.Version)
	c.targets = map[string]int{}
	for _, sv := range cfg.Services {
		c.targets[sv.Code] = sv.TargetWaitS
	}
	return nil
}

func (c *configs) ConfigVersion(context.Context) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version, nil
}

func (c *configs) ApplyCommand(_ context.Context, cmd event.Command) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.commands = append(c.commands, cmd.ID)
	return nil
}

// fakeCloud is the cloud side of the protocol reduced to its rule: store
// batches in a set, ack the contiguous high-water mark. It can drop acks.
type fakeCloud struct {
	t       *testing.T
	client  paho.Client
	mu      sync.Mutex
	seen    map[uint64]int // seq -> times received
	batches int
	applied uint64
	noAck   bool
	dropAck int // acks to drop
	lose    int // batches to lose entirely (never stored)
}

func startCloud(t *testing.T, b *mqtttest.Broker, branch string) *fakeCloud {
	t.Helper()
	cfg, err := b.PKI.TLSConfig(b.Cloud)
	require.NoError(t, err)
	fc := &fakeCloud{t: t, seen: map[uint64]int{}}
	opts := paho.NewClientOptions().AddBroker(b.URL()).SetClientID("cloud-" + branch).SetTLSConfig(cfg).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(200 * time.Millisecond).
		SetMaxReconnectInterval(time.Second).SetOnConnectHandler(func(c paho.Client) {
		c.Subscribe(event.EventsTopic(branch), 1, fc.onBatch)
	})
	fc.client = paho.NewClient(opts)
	tok := fc.client.Connect()
	require.True(t, tok.WaitTimeout(10*time.Second))
	require.NoError(t, tok.Error())
	t.Cleanup(func() { fc.client.Disconnect(100) })
	time.Sleep(50 * time.Millisecond)
	return fc
}

func (fc *fakeCloud) onBatch(c paho.Client, m paho.Message) {
	b, err := event.DecodeBatch(m.Topic(), m.Payload())
	if err != nil {
		fc.t.Errorf("bad batch: %v", err)
		return
	}
	fc.mu.Lock()
	fc.batches++
	if fc.lose > 0 {
		fc.lose--
		fc.mu.Unlock()
		return
	}
	for _, e := range b.Events {
		fc.seen[e.Seq]++
	}
	for fc.seen[fc.applied+1] > 0 {
		fc.applied++
	}
	ack := event.Ack{V: 1, Branch: b.Branch, Seq: fc.applied}
	if fc.seen[fc.applied+1] == 0 && len(fc.seen) > int(fc.applied) {
		ack.Gap = fc.applied + 1
	}
	skip := fc.noAck || fc.dropAck > 0
	if fc.dropAck > 0 {
		fc.dropAck--
	}
	fc.mu.Unlock()
	if !skip {
		p, _ := json.Marshal(ack)
		c.Publish(event.AckTopic(b.Branch), 1, false, p)
	}
}

func (fc *fakeCloud) stats() (batches int, applied uint64, dups int) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	for _, n := range fc.seen {
		dups += n - 1
	}
	return fc.batches, fc.applied, dups
}

func startRelay(t *testing.T, b *mqtttest.Broker, branch string, ob agent.Outbox, cs *configs, mod func(*mqtt.Config)) *mqtt.Relay {
	t.Helper()
	tlsCfg, err := b.PKI.TLSConfig(b.MustBranchCert(t, branch))
	require.NoError(t, err)
	cfg := mqtt.Config{Branch: branch, URL: b.URL(), TLS: tlsCfg, AgentVersion: "test", AckTimeout: 2 * time.Second,
		MaxBackoff: 2 * time.Second, PublishRate: 1000}
	if mod != nil {
		mod(&cfg)
	}
	var cfgStore agent.ConfigStore
	var cmdStore agent.CommandStore
	if cs != nil {
		cfgStore, cmdStore = cs, cs
	}
	r, err := mqtt.New(cfg, ob, cfgStore, cmdStore, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

func waitAcked(t *testing.T, ob *sqliteOutbox, seq uint64, within time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool {
		s, err := ob.SyncState(context.Background())
		return err == nil && s.LastAck == seq
	}, within, 20*time.Millisecond, "outbox acked up to %d", seq)
}

func TestRelayDrainsAndReleasesOnAck(t *testing.T) {
	b := mqtttest.Start(t)
	fc := startCloud(t, b, "RLY-001")
	ob := newOutbox(t)
	g := eventgen.New("RLY-001", 1)
	ob.Append(t, g.Take(3000))
	r := startRelay(t, b, "RLY-001", ob, nil, nil)
	waitAcked(t, ob, 3000, 20*time.Second)
	assert.True(t, r.State().Connected)
	assert.Equal(t, "mqtt", r.State().Mode)
	assert.False(t, r.State().LastAckAt.IsZero())

	// New commits are relayed without polling.
	ob.Append(t, g.Take(5))
	waitAcked(t, ob, 3005, 5*time.Second)
	batches, applied, _ := fc.stats()
	assert.Equal(t, uint64(3005), applied)
	assert.Greater(t, batches, 3, "3,000 events need several 128 KB batches")
}

func TestRelayNeverReleasesWithoutAck(t *testing.T) {
	b := mqtttest.Start(t)
	fc := startCloud(t, b, "RLY-002")
	fc.noAck = true
	ob := newOutbox(t)
	ob.Append(t, eventgen.New("RLY-002", 2).Take(200))
	startRelay(t, b, "RLY-002", ob, nil, func(c *mqtt.Config) {
		c.BatchBytes = 2000 // many small batches
		c.MaxInFlight = 5
		c.AckTimeout = time.Hour
	})
	require.Eventually(t, func() bool { n, _, _ := fc.stats(); return n >= 5 }, 5*time.Second, 10*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	n, _, _ := fc.stats()
	assert.Equal(t, 5, n, "no more than MaxInFlight batches unacknowledged")
	s, err := ob.SyncState(context.Background())
	require.NoError(t, err)
	assert.Zero(t, s.LastAck, "a delivered publish is no receipt: nothing released without the cloud's ack")
}

func TestRelayResendsAfterLostAck(t *testing.T) {
	b := mqtttest.Start(t)
	fc := startCloud(t, b, "RLY-003")
	fc.dropAck = 1000 // every ack of the first pass is lost
	ob := newOutbox(t)
	ob.Append(t, eventgen.New("RLY-003", 3).Take(100))
	startRelay(t, b, "RLY-003", ob, nil, func(c *mqtt.Config) { c.AckTimeout = 300 * time.Millisecond })
	require.Eventually(t, func() bool { n, _, _ := fc.stats(); return n >= 1 }, 5*time.Second, 10*time.Millisecond)
	fc.mu.Lock()
	fc.dropAck = 0
	fc.mu.Unlock()
	waitAcked(t, ob, 100, 10*time.Second)
	_, _, dups := fc.stats()
	assert.Positive(t, dups, "the unacked batch was resent (the cloud deduplicates)")
}

// Batches the cloud never stores are sent again. A lost batch followed by
// later ones: the cloud's ack reports the gap and the relay resends from the
// last ack without waiting for its (here endless) ack timeout. A lost window:
// no ack comes and no gap either; the ack timeout sends one batch, the probe
// (the newest in flight), whose ack reports the gap before it.
func TestRelayResendsLostBatches(t *testing.T) {
	for _, tc := range []struct {
		name, branch string
		lose         int // the first batches lost
		ackTimeout   time.Duration
		reasons      []string // resends counted
	}{
		{"gap", "RLY-007", 1, time.Hour, []string{"gap"}},
		{"window", "RLY-010", 4, 300 * time.Millisecond, []string{"ack_timeout", "gap"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := mqtttest.Start(t)
			fc := startCloud(t, b, tc.branch)
			fc.lose = tc.lose
			ob := newOutbox(t)
			ob.Append(t, eventgen.New(tc.branch, 7).Take(100))
			r := startRelay(t, b, tc.branch, ob, nil, func(c *mqtt.Config) {
				c.BatchBytes = 4000
				c.MaxInFlight = 4
				c.AckTimeout = tc.ackTimeout
				c.GapGrace = 100 * time.Millisecond
			})
			waitAcked(t, ob, 100, 10*time.Second)
			_, applied, _ := fc.stats()
			assert.Equal(t, uint64(100), applied)
			for _, reason := range tc.reasons {
				assert.Positive(t, r.State().Resends[reason], reason)
			}
		})
	}
}

func TestRelayBrokerRestart(t *testing.T) {
	b := mqtttest.Start(t)
	fc := startCloud(t, b, "RLY-004")
	ob := newOutbox(t)
	g := eventgen.New("RLY-004", 4)
	ob.Append(t, g.Take(50))
	r := startRelay(t, b, "RLY-004", ob, nil, nil)
	waitAcked(t, ob, 50, 10*time.Second)

	stopped := time.Now()
	b.Stop()
	require.Eventually(t, func() bool { return !r.State().Connected }, 5*time.Second, 10*time.Millisecond)
	down := r.State().Since
	assert.False(t, down.Before(stopped), "down since the cut (the branch page's 'sin conexión desde')")
	ob.Append(t, g.Take(50)) // committed while the broker is down
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, b.Start())
	waitAcked(t, ob, 100, 20*time.Second)
	assert.True(t, r.State().Connected)
	assert.True(t, r.State().Since.After(down), "up since the reconnection")
	_, applied, _ := fc.stats()
	assert.Equal(t, uint64(100), applied)
}

func TestRelayStatusConfigAndCommands(t *testing.T) {
	b := mqtttest.Start(t)
	cloudCfg, err := b.PKI.TLSConfig(b.Cloud)
	require.NoError(t, err)
	cloud := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("cloud-cfg").SetTLSConfig(cloudCfg))
	require.True(t, cloud.Connect().WaitTimeout(10*time.Second))
	defer cloud.Disconnect(100)

	pub := func(topic string, retained bool, v any) {
		p, _ := json.Marshal(v)
		require.True(t, cloud.Publish(topic, 1, retained, p).WaitTimeout(5*time.Second))
	}
	cfg := func(v int64) event.Config {
		return event.Config{V: 1, Branch: "RLY-005", Version: v, TimeZone: "America/Santiago", Rules: event.DefaultRules(),
			Services: []queue.Service{{Code: "C", Name: "Caja", TargetWaitS: 300 + int(v), MeanServiceS: 300, Priority: 1}}}
	}
	pub(event.ConfigTopic("RLY-005"), true, cfg(3)) // retained before the agent connects

	statuses := make(chan event.Status, 32)
	cloud.Subscribe(event.StatusTopic("RLY-005"), 1, func(_ paho.Client, m paho.Message) {
		var st event.Status
		if json.Unmarshal(m.Payload(), &st) == nil {
			statuses <- st
		}
	}).WaitTimeout(5 * time.Second)

	ob := newOutbox(t)
	cs := &configs{}
	r := startRelay(t, b, "RLY-005", ob, cs, nil)
	require.Eventually(t, func() bool { v, _ := cs.ConfigVersion(context.Background()); return v == 3 }, 10*time.Second, 10*time.Millisecond)

	pub(event.ConfigTopic("RLY-005"), true, cfg(2)) // older: ignored
	bad := cfg(9)
	bad.TimeZone = "Mars/Olympus"
	pub(event.ConfigTopic("RLY-005"), true, bad) // invalid: ignored
	pub(event.ConfigTopic("RLY-005"), true, cfg(4))
	require.Eventually(t, func() bool { v, _ := cs.ConfigVersion(context.Background()); return v == 4 }, 5*time.Second, 10*time.Millisecond)
	cs.mu.Lock()
	assert.Equal(t, []int64{3, 4}, cs.applied)
	cs.mu.Unlock()

	pub(event.CommandsTopic("RLY-005"), false, event.Command{V: 1, Branch: "RLY-005", ID: "c1", Type: event.CommandCancelTicket, Ticket: "t1"})
	require.Eventually(t, func() bool { cs.mu.Lock(); defer cs.mu.Unlock(); return len(cs.commands) == 1 }, 5*time.Second, 10*time.Millisecond)

	// The status reports online and the config version; the last will says offline.
	deadline := time.After(10 * time.Second)
	for done := false; !done; {
		select {
		case st := <-statuses:
			if st.Online && st.ConfigVersion == 4 {
				assert.Equal(t, "test", st.AgentVersion)
				assert.Equal(t, map[string]int{"C": 304}, st.Targets, "the targets the branch runs, for HQ's service level")
				done = true
			}
		case <-deadline:
			t.Fatal("no online status with config version 4")
		}
	}
	_ = r
}

func TestRelayGracefulStopAndWillSayOffline(t *testing.T) {
	b := mqtttest.Start(t)
	cloudCfg, err := b.PKI.TLSConfig(b.Cloud)
	require.NoError(t, err)
	cloud := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("cloud-will").SetTLSConfig(cloudCfg))
	require.True(t, cloud.Connect().WaitTimeout(10*time.Second))
	defer cloud.Disconnect(100)
	statuses := make(chan event.Status, 32)
	cloud.Subscribe(event.StatusTopic("RLY-006"), 1, func(_ paho.Client, m paho.Message) {
		var st event.Status
		if json.Unmarshal(m.Payload(), &st) == nil {
			statuses <- st
		}
	}).WaitTimeout(5 * time.Second)
	tlsCfg, err := b.PKI.TLSConfig(b.MustBranchCert(t, "RLY-006"))
	require.NoError(t, err)
	ob := newOutbox(t)
	ob.Append(t, eventgen.New("RLY-006", 6).Take(7))
	r, err := mqtt.New(mqtt.Config{Branch: "RLY-006", URL: b.URL(), TLS: tlsCfg}, ob, nil, nil, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	next := func() event.Status {
		select {
		case st := <-statuses:
			return st
		case <-time.After(10 * time.Second):
			t.Fatal("no status")
		}
		return event.Status{}
	}
	st := next()
	assert.True(t, st.Online)
	assert.Equal(t, uint64(7), st.LastSeq)
	cancel()
	<-done
	st = next()
	assert.False(t, st.Online, "a graceful stop publishes offline (retained)")
	assert.False(t, r.State().Connected)
}

func TestConfigValidateAndALPN(t *testing.T) {
	b := mqtttest.Start(t)
	c := b.MustBranchCert(t, "ALP-001")
	for _, bad := range []mqtt.Config{
		{URL: b.URL(), CertFile: c.CertFile, KeyFile: c.KeyFile, CAFile: b.PKI.CAFile},
		{Branch: "ALP-001", URL: "tcp://127.0.0.1:1883", CertFile: c.CertFile, KeyFile: c.KeyFile, CAFile: b.PKI.CAFile},
		{Branch: "ALP-001", URL: b.URL()},
	} {
		assert.Error(t, bad.Validate())
	}
	cfg, err := mqtt.TLSConfig("ssl://example-ats.iot.us-east-1.amazonaws.com:443", c.CertFile, c.KeyFile, b.PKI.CAFile)
	require.NoError(t, err)
	assert.Equal(t, []string{"x-amzn-mqtt-ca"}, cfg.NextProtos, "AWS IoT Core on 443 needs ALPN")
	assert.Equal(t, "example-ats.iot.us-east-1.amazonaws.com", cfg.ServerName)
	cfg, err = mqtt.TLSConfig(b.URL(), c.CertFile, c.KeyFile, b.PKI.CAFile)
	require.NoError(t, err)
	assert.Empty(t, cfg.NextProtos)
	require.Len(t, cfg.Certificates, 1)
}

// silentOutbox never signals Written: the relay must still send what is
// committed (its idle safety net), never leaving events unsent forever.
type silentOutbox struct{ *sqliteOutbox }

func (silentOutbox) Written() <-chan struct{} { return nil }

func TestRelaySendsWithoutWrittenSignal(t *testing.T) {
	b := mqtttest.Start(t)
	startCloud(t, b, "RLY-009")
	ob := newOutbox(t)
	g := eventgen.New("RLY-009", 9)
	ob.Append(t, g.Take(10))
	startRelay(t, b, "RLY-009", silentOutbox{ob}, nil, func(c *mqtt.Config) { c.AckTimeout = 300 * time.Millisecond })
	waitAcked(t, ob, 10, 10*time.Second)
	ob.Append(t, g.Take(5)) // committed with no signal reaching the relay
	waitAcked(t, ob, 15, 10*time.Second)
}

// TestRelayLogsTheBranchOnce: the relay's lines carry the caller's branch
// once (the agent's root logger names it), in JSON as a log reader takes it.
func TestRelayLogsTheBranchOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nobody listens there: the relay logs its retries
	var buf syncbuf.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil)).With("branch", "RLY-LOG")
	r, err := mqtt.New(mqtt.Config{Branch: "RLY-LOG", URL: "mqtts://" + addr, TLS: &tls.Config{MinVersion: tls.VersionTLS12}},
		newOutbox(t), nil, nil, log)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	require.Eventually(t, func() bool { return strings.Contains(buf.String(), "broker unreachable") }, 10*time.Second, 20*time.Millisecond)
	cancel()
	<-done
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if strings.Contains(line, `"component":"relay"`) {
			assert.Equal(t, 1, strings.Count(line, `"branch":`), line)
		}
	}
}
