// Package mqtttest starts a real Mosquitto for tests, configured as production's
// broker: mTLS only (a client without a certificate is refused), the certificate's
// CN is the username, and a per-branch ACL lets a branch touch only
// ticketero/v1/branches/<CN>/#. The PKI (CA, broker, cloud and branch
// certificates) is generated with crypto/x509 into a temp folder. It depends only
// on the standard library so both modules can use it.
package mqtttest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// MosquittoPath is where Debian installs the broker.
const MosquittoPath = "/usr/sbin/mosquitto"

// CloudCN is the CN of the cloud's certificate, granted every ticketero topic.
const CloudCN = "ticketero-cloud"

// PKI is a test certificate authority writing PEM files into Dir.
type PKI struct {
	Dir    string
	CAFile string
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
	serial int64
	mu     sync.Mutex
}

// Cert is a certificate and key pair on disk.
type Cert struct {
	CertFile, KeyFile string
}

// NewPKI makes a CA in dir.
func NewPKI(dir string) (*PKI, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Organization: []string{"Ticketero Test"}, CommonName: "Ticketero Test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	p := &PKI{Dir: dir, CAFile: filepath.Join(dir, "ca.pem"), caCert: ca, caKey: key, serial: 1}
	if err := writePEM(p.CAFile, "CERTIFICATE", der); err != nil {
		return nil, err
	}
	return p, nil
}

// Issue signs a certificate for cn (a server certificate for 127.0.0.1 and
// localhost when server is true, else a client certificate) and writes it as
// <name>.pem and <name>-key.pem.
func (p *PKI) Issue(name, cn string, server bool) (Cert, error) {
	p.mu.Lock()
	p.serial++
	serial := p.serial
	p.mu.Unlock()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Cert{}, err
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{Organization: []string{"Ticketero Test"}, CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tpl.ExtKeyUsage = append(tpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		tpl.DNSNames = []string{"localhost"}
		tpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		return Cert{}, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return Cert{}, err
	}
	c := Cert{CertFile: filepath.Join(p.Dir, name+".pem"), KeyFile: filepath.Join(p.Dir, name+"-key.pem")}
	if err := writePEM(c.CertFile, "CERTIFICATE", der); err != nil {
		return Cert{}, err
	}
	if err := writePEM(c.KeyFile, "EC PRIVATE KEY", kder); err != nil {
		return Cert{}, err
	}
	return c, nil
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

// TLSConfig builds a client TLS config from the CA and an optional client
// certificate (a zero Cert means no certificate).
func (p *PKI) TLSConfig(c Cert) (*tls.Config, error) {
	pool := x509.NewCertPool()
	pool.AddCert(p.caCert)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12, ServerName: "127.0.0.1"}
	if c.CertFile != "" {
		pair, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

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
