package deploytest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/testpki"
)

const mosquittoPath = "/usr/sbin/mosquitto"

// testCA is a test certificate authority (shared testpki) for one test:
// it issues the broker's and clients' certificates and writes CRLs.
type testCA struct {
	*testpki.PKI
	pool *x509.CertPool
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	p, err := testpki.New(t.TempDir(), name)
	require.NoError(t, err)
	return &testCA{PKI: p, pool: p.Pool()}
}

// issue signs a certificate for cn; server adds 127.0.0.1 and serverAuth.
func (ca *testCA) issue(t *testing.T, cn string, server bool) (tls.Certificate, testpki.Cert) {
	t.Helper()
	c, err := ca.Issue(strings.ReplaceAll(cn, "+", "plus"), cn, server)
	require.NoError(t, err)
	pair, err := c.KeyPair()
	require.NoError(t, err)
	return pair, c
}

func (ca *testCA) crl(t *testing.T, revoked ...testpki.Cert) []byte {
	t.Helper()
	serials := make([]*big.Int, len(revoked))
	for i, c := range revoked {
		serials[i] = c.Serial
	}
	crl, err := ca.CRL(serials...)
	require.NoError(t, err)
	return crl
}

// prodBroker runs Mosquitto with deploy/mosquitto/mosquitto.conf, acl and
// cloud-acl, changed only where a test must: paths into a temp dir, free
// loopback ports, log to stderr, and `user root` (Mosquitto started as root
// would otherwise drop to the mosquitto user, who cannot read the temp dir).
// addr is the branch listener (8883), cloudAddr the cloud's (8884).
type prodBroker struct {
	addr, cloudAddr string
	ca              *testCA
	log             *bytes.Buffer
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

func startProdBroker(t *testing.T, ca, cloudCA *testCA, crl []byte, server testpki.Cert) *prodBroker {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "data"), 0o700))
	files := map[string][]byte{
		"ca.pem": testpki.PEM("CERTIFICATE", ca.CA.Raw), "cloud-ca.pem": testpki.PEM("CERTIFICATE", cloudCA.CA.Raw),
		"broker.pem": server.CertPEM, "broker-key.pem": server.KeyPEM, "crl.pem": crl,
	}
	for _, name := range []string{"acl", "cloud-acl"} {
		acl, err := os.ReadFile(deployDir + "/mosquitto/" + name)
		require.NoError(t, err)
		files[name] = acl
	}
	for name, b := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	raw, err := os.ReadFile(deployDir + "/mosquitto/mosquitto.conf")
	require.NoError(t, err)
	port, cloudPort := freePort(t), freePort(t)
	conf := string(raw)
	for old, repl := range map[string]string{
		"/etc/mosquitto/ticketero/": dir + "/",
		"/var/lib/mosquitto/":       dir + "/data/",
		"listener 8883\n":           fmt.Sprintf("listener %d 127.0.0.1\n", port),
		"listener 8884\n":           fmt.Sprintf("listener %d 127.0.0.1\n", cloudPort),
		"log_dest syslog\n":         "log_dest stderr\n",
	} {
		require.Contains(t, conf, old, "deploy/mosquitto/mosquitto.conf changed: update this test")
		conf = strings.ReplaceAll(conf, old, repl)
	}
	confPath := filepath.Join(dir, "mosquitto.conf")
	require.NoError(t, os.WriteFile(confPath, []byte("user root\n"+conf), 0o600))

	b := &prodBroker{addr: fmt.Sprintf("127.0.0.1:%d", port), cloudAddr: fmt.Sprintf("127.0.0.1:%d", cloudPort),
		ca: ca, log: &bytes.Buffer{}}
	var mu sync.Mutex
	cmd := exec.Command(mosquittoPath, "-c", confPath)
	cmd.Stderr = writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return b.log.Write(p) })
	cmd.Stdout = cmd.Stderr
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			mu.Lock()
			t.Logf("mosquitto log:\n%s", b.log.String())
			mu.Unlock()
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-done:
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("mosquitto exited with the production config: %s", b.log.String())
		default:
		}
		c, err := net.DialTimeout("tcp", b.addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			if c, err = net.DialTimeout("tcp", b.cloudAddr, 200*time.Millisecond); err == nil {
				_ = c.Close()
				return b
			}
		}
		require.True(t, time.Now().Before(deadline), "mosquitto did not listen on %s", b.addr)
		time.Sleep(20 * time.Millisecond)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// connect opens an MQTT 3.1.1 session over TLS to the branch listener (or
// the cloud's, see connectAt); cert may be nil (none sent).
func (b *prodBroker) connect(t *testing.T, clientID string, cert *tls.Certificate, roots *x509.CertPool) (mqtt.Client, error) {
	t.Helper()
	return b.connectAt(t, b.addr, clientID, cert, roots, nil)
}

// connectAt connects to addr; lost, if not nil, receives the error when the
// broker drops the session.
func (b *prodBroker) connectAt(t *testing.T, addr, clientID string, cert *tls.Certificate, roots *x509.CertPool, lost chan<- error) (mqtt.Client, error) {
	t.Helper()
	cfg := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	opts := mqtt.NewClientOptions().AddBroker("ssl://" + addr).SetClientID(clientID).SetTLSConfig(cfg).
		SetProtocolVersion(4).SetCleanSession(true).SetAutoReconnect(false).SetConnectRetry(false).
		SetConnectTimeout(5 * time.Second).SetKeepAlive(30 * time.Second)
	if lost != nil {
		opts.SetConnectionLostHandler(func(_ mqtt.Client, err error) { lost <- err })
	}
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return nil, fmt.Errorf("connect %s: timeout", clientID)
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c, nil
}

func (b *prodBroker) mustConnect(t *testing.T, clientID string, cert tls.Certificate) mqtt.Client {
	t.Helper()
	c, err := b.connect(t, clientID, &cert, b.ca.pool)
	require.NoError(t, err, "connect %s", clientID)
	return c
}

type received struct{ topic, payload string }

// subscribe asks for filters at QoS 1 and returns what SUBACK granted per
// filter (1 granted, 0x80 refused) and a channel of the messages.
func subscribe(t *testing.T, c mqtt.Client, filters ...string) (map[string]byte, chan received) {
	t.Helper()
	ch := make(chan received, 64)
	want := map[string]byte{}
	for _, f := range filters {
		want[f] = 1
	}
	tok := c.SubscribeMultiple(want, func(_ mqtt.Client, m mqtt.Message) {
		ch <- received{m.Topic(), string(m.Payload())}
	})
	require.True(t, tok.WaitTimeout(5*time.Second))
	require.NoError(t, tok.Error())
	return tok.(*mqtt.SubscribeToken).Result(), ch
}

func publish(t *testing.T, c mqtt.Client, topic, payload string, retained bool) {
	t.Helper()
	tok := c.Publish(topic, 1, retained, payload)
	require.True(t, tok.WaitTimeout(5*time.Second))
	require.NoError(t, tok.Error())
}

func next(t *testing.T, ch chan received) received {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5 s")
		return received{}
	}
}

// TestMosquittoProductionConfig runs the on-premises broker configuration
// for real. A refused publish is silent under MQTT 3.1.1, so each refusal is
// proven with a sentinel: the refused message is PUBACKed (Mosquitto has
// routed or dropped it) before an allowed one is sent, and Mosquitto routes in
// arrival order, so the observer's first message must be the allowed one.
func TestMosquittoProductionConfig(t *testing.T) {
	if _, err := os.Stat(mosquittoPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mosquitto is required in CI: %v", err)
		}
		t.Skip("mosquitto not installed (apt-get install mosquitto)")
	}
	ca := newTestCA(t, "Ticketero Test CA")
	cloudCA := newTestCA(t, "Ticketero Test Cloud Client CA")
	_, server := ca.issue(t, "localhost", true)
	cloudCert, _ := cloudCA.issue(t, "ticketero-cloud", false)
	scl1, _ := ca.issue(t, "SCL-001", false)
	scl2, _ := ca.issue(t, "SCL-002", false)
	revoked, revokedCert := ca.issue(t, "SCL-003", false)
	scl4, _ := ca.issue(t, "SCL-004", false)
	plus, _ := ca.issue(t, "+", false)
	b := startProdBroker(t, ca, cloudCA, ca.crl(t, revokedCert), server)

	cloudLost := make(chan error, 1)
	cloud, err := b.connectAt(t, b.cloudAddr, "ticketero-cloud-1", &cloudCert, ca.pool, cloudLost)
	require.NoError(t, err)
	granted, cloudIn := subscribe(t, cloud, event.SharedEventsFilter, event.StatusFilter)
	assert.Equal(t, map[string]byte{event.SharedEventsFilter: 1, event.StatusFilter: 1}, granted)

	branch := b.mustConnect(t, "SCL-001", scl1)
	own := []string{event.AckTopic("SCL-001"), event.ConfigTopic("SCL-001"), event.CommandsTopic("SCL-001")}
	granted, branchIn := subscribe(t, branch, own...)
	assert.Equal(t, map[string]byte{own[0]: 1, own[1]: 1, own[2]: 1}, granted)

	t.Run("branch publishes its events and status", func(t *testing.T) {
		publish(t, branch, event.EventsTopic("SCL-001"), "e1", false)
		assert.Equal(t, received{event.EventsTopic("SCL-001"), "e1"}, next(t, cloudIn))
		publish(t, branch, event.StatusTopic("SCL-001"), "online", true)
		assert.Equal(t, received{event.StatusTopic("SCL-001"), "online"}, next(t, cloudIn))
	})

	t.Run("branch cannot publish as another branch", func(t *testing.T) {
		publish(t, branch, event.EventsTopic("SCL-002"), "forged", false)
		publish(t, branch, event.StatusTopic("SCL-002"), "forged", false)
		publish(t, branch, event.EventsTopic("SCL-001"), "sentinel", false)
		assert.Equal(t, received{event.EventsTopic("SCL-001"), "sentinel"}, next(t, cloudIn))
	})

	t.Run("cloud acks, configures and commands a branch", func(t *testing.T) {
		publish(t, cloud, event.AckTopic("SCL-001"), "ack", false)
		assert.Equal(t, received{event.AckTopic("SCL-001"), "ack"}, next(t, branchIn))
		publish(t, cloud, event.ConfigTopic("SCL-001"), "config v2", true)
		assert.Equal(t, received{event.ConfigTopic("SCL-001"), "config v2"}, next(t, branchIn))
		publish(t, cloud, event.CommandsTopic("SCL-001"), "cancel", false)
		assert.Equal(t, received{event.CommandsTopic("SCL-001"), "cancel"}, next(t, branchIn))
		// A box that connects later gets its retained config.
		publish(t, cloud, event.ConfigTopic("SCL-004"), "config v1", true)
		later := b.mustConnect(t, "SCL-004", scl4)
		_, in := subscribe(t, later, event.ConfigTopic("SCL-004"))
		assert.Equal(t, received{event.ConfigTopic("SCL-004"), "config v1"}, next(t, in))
	})

	t.Run("branch cannot forge its own acks, config or commands", func(t *testing.T) {
		for _, topic := range own {
			publish(t, branch, topic, "forged", false)
		}
		publish(t, cloud, event.AckTopic("SCL-001"), "real ack", false)
		assert.Equal(t, received{event.AckTopic("SCL-001"), "real ack"}, next(t, branchIn))
	})

	t.Run("cloud cannot forge branch events", func(t *testing.T) {
		publish(t, cloud, event.EventsTopic("SCL-001"), "forged by cloud", false)
		publish(t, branch, event.EventsTopic("SCL-001"), "sentinel 2", false)
		assert.Equal(t, received{event.EventsTopic("SCL-001"), "sentinel 2"}, next(t, cloudIn))
	})

	// Mosquitto 2.0 grants every SUBSCRIBE and applies the read ACL when it
	// delivers (IoT Core refuses the SUBSCRIBE itself), so what counts is
	// which messages arrive.
	t.Run("branch cannot read other topics", func(t *testing.T) {
		other := b.mustConnect(t, "SCL-002", scl2)
		_, in := subscribe(t, other, "#", "ticketero/#", "ticketero/v1/branches/+/ack", event.AckTopic("SCL-001"),
			event.ConfigTopic("SCL-001"), event.CommandsTopic("SCL-001"), event.EventsTopic("SCL-002"), event.StatusFilter)
		publish(t, branch, event.EventsTopic("SCL-001"), "not for SCL-002", false)
		publish(t, branch, event.StatusTopic("SCL-001"), "not for SCL-002", true)
		publish(t, cloud, event.AckTopic("SCL-001"), "not for SCL-002", false)
		publish(t, cloud, event.ConfigTopic("SCL-001"), "not for SCL-002", true)
		publish(t, cloud, event.CommandsTopic("SCL-001"), "not for SCL-002", false)
		publish(t, cloud, event.AckTopic("SCL-002"), "sentinel", false)
		want := received{event.AckTopic("SCL-002"), "sentinel"}
		assert.Equal(t, want, next(t, in))
		// Overlapping subscriptions may bring the sentinel more than once, nothing else.
		for len(in) > 0 {
			assert.Equal(t, want, <-in)
		}
		// The cloud did get SCL-001's events and status.
		assert.Equal(t, received{event.EventsTopic("SCL-001"), "not for SCL-002"}, next(t, cloudIn))
		assert.Equal(t, received{event.StatusTopic("SCL-001"), "not for SCL-002"}, next(t, cloudIn))
		for _, topic := range own { // SCL-001 itself got its ack, config and command
			assert.Equal(t, received{topic, "not for SCL-002"}, next(t, branchIn))
		}
	})

	// Pattern ACLs substitute the CN; Mosquitto refuses a CN with + or #
	// there (CVE-2017-7650), so a certificate named "+" reads nothing. The CA
	// must still never sign such a name (enrolment checks the branch ID).
	t.Run("a wildcard CN does not widen the pattern", func(t *testing.T) {
		c := b.mustConnect(t, "plus", plus)
		_, in := subscribe(t, c, "ticketero/v1/branches/+/ack", "ticketero/v1/branches/+/commands")
		publish(t, cloud, event.AckTopic("SCL-001"), "ack", false)
		publish(t, cloud, event.CommandsTopic("SCL-001"), "command", false)
		// Its own QoS 1 publish is acknowledged after anything routed to it
		// before; the short wait only covers paho's hand-off to the handler.
		publish(t, c, event.EventsTopic("SCL-001"), "forged", false)
		select {
		case m := <-in:
			t.Fatalf("CN + received %v", m)
		case <-time.After(300 * time.Millisecond):
		}
		publish(t, branch, event.EventsTopic("SCL-001"), "sentinel 3", false)
		assert.Equal(t, received{event.EventsTopic("SCL-001"), "sentinel 3"}, next(t, cloudIn))
		// SCL-001 itself got the ack and the command.
		assert.Equal(t, received{event.AckTopic("SCL-001"), "ack"}, next(t, branchIn))
		assert.Equal(t, received{event.CommandsTopic("SCL-001"), "command"}, next(t, branchIn))
	})

	// A box's client ID is its certificate's CN, whatever ID it sends, and
	// the cloud replicas sit on a listener branch certificates cannot reach:
	// a branch can take over neither another branch's session nor a cloud
	// replica's, however often it tries (before, each try kicked the victim).
	t.Run("no client ID takeover", func(t *testing.T) {
		victimLost := make(chan error, 1)
		victim, err := b.connectAt(t, b.addr, "SCL-002", &scl2, ca.pool, victimLost)
		require.NoError(t, err)
		_, victimIn := subscribe(t, victim, event.AckTopic("SCL-002"))
		attacker, _ := ca.issue(t, "SCL-009", false)
		for i := 0; i < 3; i++ {
			for _, id := range []string{"SCL-002", "ticketero-cloud-1"} {
				c, err := b.connect(t, id, &attacker, ca.pool)
				require.NoError(t, err, "a valid branch certificate connects, as its own branch")
				subscribe(t, c, event.AckTopic("SCL-009")) // a round trip: the broker has handled the CONNECT
				c.Disconnect(0)
			}
		}
		publish(t, cloud, event.AckTopic("SCL-002"), "still connected", false)
		assert.Equal(t, received{event.AckTopic("SCL-002"), "still connected"}, next(t, victimIn))
		select {
		case err := <-victimLost:
			t.Fatalf("SCL-002 was kicked off: %v", err)
		case err := <-cloudLost:
			t.Fatalf("the cloud replica was kicked off: %v", err)
		default:
		}
		assert.True(t, victim.IsConnectionOpen())
		assert.True(t, cloud.IsConnectionOpen())
		// The same branch's certificate does replace its own session: one
		// certificate, one session (a box that reconnects takes its place).
		c, err := b.connect(t, "anything", &scl2, ca.pool)
		require.NoError(t, err)
		select {
		case <-victimLost:
		case <-time.After(5 * time.Second):
			t.Fatal("a second session with SCL-002's certificate did not take SCL-002's client ID")
		}
		c.Disconnect(0)
	})

	t.Run("refused connections", func(t *testing.T) {
		foreign := newTestCA(t, "Someone Else's CA")
		impostor, _ := foreign.issue(t, "SCL-001", false)
		for name, tc := range map[string]struct {
			id   string
			cert *tls.Certificate
		}{
			"no certificate":      {"SCL-001", nil},
			"unknown CA":          {"SCL-001", &impostor},
			"revoked certificate": {"SCL-003", &revoked},
		} {
			_, err := b.connect(t, tc.id+"-"+strings.ReplaceAll(name, " ", "-"), tc.cert, ca.pool)
			assert.Error(t, err, name)
		}
		// Each listener trusts only its own CA.
		_, err := b.connectAt(t, b.cloudAddr, "ticketero-cloud-2", &scl1, ca.pool, nil)
		assert.Error(t, err, "a branch certificate on the cloud listener")
		_, err = b.connect(t, "ticketero-cloud-2", &cloudCert, ca.pool)
		assert.Error(t, err, "a cloud certificate on the branch listener")
	})
}
