// Package mqtttest starts a real Mosquitto for tests, configured as production's
// broker: mTLS only (a client without a certificate is refused), the certificate's
// CN is the username, and a per-branch ACL lets a branch touch only
// ticketero/v1/branches/<CN>/#. The PKI (CA, broker, cloud and branch
// certificates) is testpki's, generated into a temp folder. It depends only on
// the standard library and testpki so both modules can use it.
package mqtttest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ticketero/ticketero/shared/testkit/testpki"
)

// MosquittoPath is where Debian installs the broker.
const MosquittoPath = "/usr/sbin/mosquitto"

// CloudCN is the CN of the cloud's certificate, granted every ticketero topic.
const CloudCN = "ticketero-cloud"

// PKI is the test certificate authority (testpki.PKI): the broker's CA.
type PKI = testpki.PKI

// Cert is a certificate and key pair on disk (testpki.Cert).
type Cert = testpki.Cert

// NewPKI makes a CA in dir.
func NewPKI(dir string) (*PKI, error) { return testpki.New(dir, "Ticketero Test CA") }

// ACL is the broker's access list: the cloud may use every ticketero topic, a
// branch only its own (CN = username = branch ID). deploy/ ships the same rule.
const ACL = `user ` + CloudCN + `
topic readwrite ticketero/#

pattern readwrite ticketero/v1/branches/%u/#
`

// Broker is a running Mosquitto.
type Broker struct {
	PKI   *PKI
	Dir   string
	Port  int
	Cloud Cert // a certificate with CN CloudCN

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	log    *bytes.Buffer
	branch map[string]Cert
}

// Available reports whether the mosquitto binary exists.
func Available() bool { _, err := os.Stat(MosquittoPath); return err == nil }

// Start generates a PKI and starts a broker on a free loopback port; it is
// stopped at the end of the test. Without mosquitto the test is skipped (failed
// when CI=true).
func Start(tb testing.TB) *Broker {
	tb.Helper()
	if !Available() {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("mqtttest: %s not found", MosquittoPath)
		}
		tb.Skipf("mqtttest: %s not found; install mosquitto (scripts/dev-services.sh)", MosquittoPath)
	}
	b, err := New(tb.TempDir())
	if err != nil {
		tb.Fatalf("mqtttest: %v", err)
	}
	if err := b.Start(); err != nil {
		tb.Fatalf("mqtttest: %v", err)
	}
	tb.Cleanup(func() { b.Stop() })
	return b
}

// New prepares a broker in dir (PKI, config, ACL) on a free port without
// starting it.
func New(dir string) (*Broker, error) {
	pki, err := NewPKI(dir)
	if err != nil {
		return nil, err
	}
	srv, err := pki.Issue("broker", "localhost", true)
	if err != nil {
		return nil, err
	}
	cloud, err := pki.Issue("cloud", CloudCN, false)
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	b := &Broker{PKI: pki, Dir: dir, Port: port, Cloud: cloud, branch: map[string]Cert{}}
	acl := filepath.Join(dir, "acl")
	if err := os.WriteFile(acl, []byte(ACL), 0o600); err != nil {
		return nil, err
	}
	conf := fmt.Sprintf(`# mqtttest: production-like broker (mTLS, CN as username, per-branch ACL)
user root
persistence false
log_dest stderr
log_type error
log_type warning
per_listener_settings false
listener %d 127.0.0.1
cafile %s
certfile %s
keyfile %s
tls_version tlsv1.2
require_certificate true
use_identity_as_username true
allow_anonymous false
acl_file %s
max_inflight_messages 100
max_queued_messages 100000
`, port, pki.CAFile, srv.CertFile, srv.KeyFile, acl)
	if err := os.WriteFile(filepath.Join(dir, "mosquitto.conf"), []byte(conf), 0o600); err != nil {
		return nil, err
	}
	return b, nil
}

// URL is the broker's address for clients.
func (b *Broker) URL() string { return fmt.Sprintf("mqtts://127.0.0.1:%d", b.Port) }

// Addr is host:port.
func (b *Broker) Addr() string { return fmt.Sprintf("127.0.0.1:%d", b.Port) }

// BranchCert returns (issuing once) the client certificate of branch.
func (b *Broker) BranchCert(branch string) (Cert, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.branch[branch]; ok {
		return c, nil
	}
	c, err := b.PKI.Issue("branch-"+branch, branch, false)
	if err != nil {
		return Cert{}, err
	}
	b.branch[branch] = c
	return c, nil
}

// MustBranchCert is BranchCert failing the test on error.
func (b *Broker) MustBranchCert(tb testing.TB, branch string) Cert {
	tb.Helper()
	c, err := b.BranchCert(branch)
	if err != nil {
		tb.Fatalf("mqtttest: %v", err)
	}
	return c
}

// Start runs mosquitto and waits until it accepts TCP connections.
func (b *Broker) Start() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd != nil {
		return nil
	}
	cmd := exec.Command(MosquittoPath, "-c", filepath.Join(b.Dir, "mosquitto.conf"))
	b.log = &bytes.Buffer{}
	cmd.Stderr = &syncWriter{w: b.log}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start mosquitto: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	b.cmd, b.done = cmd, done
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			b.cmd = nil
			return fmt.Errorf("mosquitto exited: %s", b.log.String())
		default:
		}
		c, err := net.DialTimeout("tcp", b.Addr(), 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("mosquitto did not listen on %s", b.Addr())
}

// Stop kills the broker (as a crash would) and waits for it to exit.
func (b *Broker) Stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return
	}
	_ = b.cmd.Process.Kill()
	<-b.done
	b.cmd = nil
}

// Restart stops the broker, waits pause and starts it again on the same port.
func (b *Broker) Restart(pause time.Duration) error {
	b.Stop()
	time.Sleep(pause)
	return b.Start()
}

// FreePort returns a TCP port free on 127.0.0.1 at the time of the call.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
