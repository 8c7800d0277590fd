// Package lantls gives the branch agent's LAN API a TLS certificate for the
// box's LAN names and addresses, from a local CA the box makes at its first
// start (enrolment has no LAN certificate to give: IoT Core issues client
// certificates only). Kiosks, TVs and terminals trust the box by installing
// its CA certificate (ca.pem) once; docs/security.md says how.
package lantls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Files of a box's LAN TLS directory. The keys are 0600, the directory 0700.
const (
	CAFile      = "ca.pem"
	caKeyFile   = "ca-key.pem"
	certFile    = "lan.pem"
	certKeyFile = "lan-key.pem"
)

// Lifetimes: the CA lasts ten years; the server certificate 397 days and is
// reissued at start when it has less than 30 left or does not cover the
// names and addresses asked for.
const (
	caLife    = 10 * 365 * 24 * time.Hour
	certLife  = 397 * 24 * time.Hour
	renewLeft = 30 * 24 * time.Hour
)

// Ensure makes (or reuses) the box's CA and a server certificate for names
// and ips in dir, and returns the TLS configuration that serves it (TLS 1.2
// or later). branch names the CA.
func Ensure(dir, branch string, names []string, ips []net.IP, now time.Time) (*tls.Config, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lan tls: %w", err)
	}
	ca, caKey, err := loadOrMakeCA(dir, branch, now)
	if err != nil {
		return nil, err
	}
	ips = uniqueIPs(ips) // the listen address is often an interface address too
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, certFile), filepath.Join(dir, certKeyFile))
	if err != nil || !covers(pair, names, ips, now) {
		if pair, err = issue(dir, ca, caKey, names, ips, now); err != nil {
			return nil, err
		}
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}, nil
}

// CAPool is the pool of the box's CA in dir (for the doctor and tests).
func CAPool(dir string) (*x509.CertPool, error) {
	b, err := os.ReadFile(filepath.Join(dir, CAFile)) // #nosec G304 -- the box's own data directory
	if err != nil {
		return nil, err
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, errors.New("lan tls: no certificate in " + CAFile)
	}
	return p, nil
}

func loadOrMakeCA(dir, branch string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPEM, err1 := os.ReadFile(filepath.Join(dir, CAFile))   // #nosec G304 -- the box's own data directory
	keyPEM, err2 := os.ReadFile(filepath.Join(dir, caKeyFile)) // #nosec G304 -- the box's own data directory
	if err1 == nil && err2 == nil {
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, nil, fmt.Errorf("lan tls: CA in %s: %w", dir, err)
		}
		key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
		if !ok {
			return nil, nil, fmt.Errorf("lan tls: CA key in %s is not ECDSA", dir)
		}
		ca, err := x509.ParseCertificate(pair.Certificate[0])
		return ca, key, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("lan tls: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{Organization: []string{"Ticketero"}, CommonName: "Ticketero " + branch + " LAN CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(caLife), IsCA: true, BasicConstraintsValid: true,
		MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("lan tls: CA: %w", err)
	}
	if err := writePEM(dir, caKeyFile, key, nil); err != nil {
		return nil, nil, err
	}
	if err := writePEM(dir, CAFile, nil, der); err != nil {
		return nil, nil, err
	}
	ca, err := x509.ParseCertificate(der)
	return ca, key, err
}

func issue(dir string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, names []string, ips []net.IP, now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("lan tls: %w", err)
	}
	cn := "localhost"
	if len(names) > 0 {
		cn = names[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{Organization: []string{"Ticketero"}, CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certLife), DNSNames: names, IPAddresses: ips,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("lan tls: certificate: %w", err)
	}
	if err := writePEM(dir, certKeyFile, key, nil); err != nil {
		return tls.Certificate{}, err
	}
	if err := writePEM(dir, certFile, nil, der); err != nil {
		return tls.Certificate{}, err
	}
	return tls.LoadX509KeyPair(filepath.Join(dir, certFile), filepath.Join(dir, certKeyFile))
}

// covers reports whether the certificate is valid for a month more and names
// every name and address asked for.
func covers(pair tls.Certificate, names []string, ips []net.IP, now time.Time) bool {
	c, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil || now.Add(renewLeft).After(c.NotAfter) {
		return false
	}
	for _, n := range names {
		if !slices.Contains(c.DNSNames, n) {
			return false
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(c.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

// writePEM writes a key (0600) or a certificate (0644: it is public) atomically.
func writePEM(dir, name string, key *ecdsa.PrivateKey, der []byte) error {
	block := &pem.Block{Type: "CERTIFICATE", Bytes: der}
	mode := os.FileMode(0o644)
	if key != nil {
		b, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return fmt.Errorf("lan tls: %w", err)
		}
		block, mode = &pem.Block{Type: "EC PRIVATE KEY", Bytes: b}, 0o600
	}
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, pem.EncodeToMemory(block), mode); err != nil {
		return fmt.Errorf("lan tls: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("lan tls: %w", err)
	}
	return nil
}

// LocalAddresses are the box's interface addresses plus loopback, for the
// certificate.
func LocalAddresses() []net.IP {
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ips
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			ips = append(ips, n.IP)
		}
	}
	return ips
}

// uniqueIPs drops repeated addresses (127.0.0.1 and ::ffff:127.0.0.1 are one).
func uniqueIPs(ips []net.IP) []net.IP {
	out := make([]net.IP, 0, len(ips))
	for _, ip := range ips {
		if !slices.ContainsFunc(out, ip.Equal) {
			out = append(out, ip)
		}
	}
	return out
}
