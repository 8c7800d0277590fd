// Package testpki is the test certificate authority of every suite that needs
// certificates (the Mosquitto harness, the production broker configuration's
// test, the enrolment tests): a CA generated with crypto/x509 into a folder,
// issuing server and client certificates as PEM files and revoking them with
// a CRL, its key for a test that signs as the CA (enrolment's local CA), and
// the certificate requests and self-signed pairs a box makes. It depends only
// on the standard library so both modules can use it.
package testpki

import (
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
	"path/filepath"
	"sync"
	"time"
)

// PKI is a test certificate authority writing PEM files into Dir. It is safe
// for concurrent use.
type PKI struct {
	Dir    string
	CAFile string // the CA certificate (PEM)
	CA     *x509.Certificate

	key    *ecdsa.PrivateKey
	mu     sync.Mutex
	serial int64
	crls   int64
}

// Cert is an issued certificate: its PEM files on disk, the same PEM in
// memory, and its serial number (to revoke it).
type Cert struct {
	CertFile, KeyFile string
	CertPEM, KeyPEM   []byte
	Serial            *big.Int
}

// KeyPair is the certificate and key as a tls.Certificate.
func (c Cert) KeyPair() (tls.Certificate, error) { return tls.X509KeyPair(c.CertPEM, c.KeyPEM) }

// New makes a CA named name in dir (written to dir/ca.pem), valid from an
// hour ago for a day, allowed to sign certificates and CRLs.
func New(dir, name string) (*PKI, error) { return NewValid(dir, name, 24*time.Hour) }

// NewValid is New with the CA valid for validity from now (an enrolment CA
// outlives the certificates it signs, which it never lets outlive it).
func NewValid(dir, name string, validity time.Duration) (*PKI, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("testpki: key: %w", err)
	}
	tpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Organization: []string{"Ticketero Test"}, CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("testpki: ca: %w", err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("testpki: ca: %w", err)
	}
	p := &PKI{Dir: dir, CAFile: filepath.Join(dir, "ca.pem"), CA: ca, key: key, serial: 1}
	if err := os.WriteFile(p.CAFile, PEM("CERTIFICATE", der), 0o600); err != nil {
		return nil, fmt.Errorf("testpki: %w", err)
	}
	return p, nil
}

// Issue signs a certificate for cn (a server certificate for 127.0.0.1 and
// localhost when server is true, else a client certificate) and writes it as
// <name>.pem and <name>-key.pem.
func (p *PKI) Issue(name, cn string, server bool) (Cert, error) {
	p.mu.Lock()
	p.serial++
	serial := big.NewInt(p.serial)
	p.mu.Unlock()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Cert{}, fmt.Errorf("testpki: key: %w", err)
	}
	tpl := &x509.Certificate{
		SerialNumber: serial,
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
	der, err := x509.CreateCertificate(rand.Reader, tpl, p.CA, &key.PublicKey, p.key)
	if err != nil {
		return Cert{}, fmt.Errorf("testpki: issue %s: %w", cn, err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return Cert{}, fmt.Errorf("testpki: key: %w", err)
	}
	c := Cert{CertFile: filepath.Join(p.Dir, name+".pem"), KeyFile: filepath.Join(p.Dir, name+"-key.pem"),
		CertPEM: PEM("CERTIFICATE", der), KeyPEM: PEM("EC PRIVATE KEY", kder), Serial: serial}
	if err := os.WriteFile(c.CertFile, c.CertPEM, 0o600); err != nil {
		return Cert{}, fmt.Errorf("testpki: %w", err)
	}
	if err := os.WriteFile(c.KeyFile, c.KeyPEM, 0o600); err != nil {
		return Cert{}, fmt.Errorf("testpki: %w", err)
	}
	return c, nil
}

// CRL returns a certificate revocation list (PEM) signed by the CA, revoking
// the certificates of the given serials; each call has the next CRL number.
func (p *PKI) CRL(revoked ...*big.Int) ([]byte, error) {
	p.mu.Lock()
	p.crls++
	number := big.NewInt(p.crls)
	p.mu.Unlock()
	entries := make([]x509.RevocationListEntry, 0, len(revoked))
	for _, s := range revoked {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: number, ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(24 * time.Hour),
		RevokedCertificateEntries: entries,
	}, p.CA, p.key)
	if err != nil {
		return nil, fmt.Errorf("testpki: crl: %w", err)
	}
	return PEM("X509 CRL", der), nil
}

// CertPEM is the CA certificate (PEM).
func (p *PKI) CertPEM() []byte { return PEM("CERTIFICATE", p.CA.Raw) }

// KeyPEM is the CA's private key (PKCS #8 PEM), for a test whose code signs
// as the CA (the enrolment's local CA).
func (p *PKI) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(p.key)
	if err != nil {
		return nil, fmt.Errorf("testpki: key: %w", err)
	}
	return PEM("PRIVATE KEY", der), nil
}

// CSR makes a key and a certificate request for cn, as a box does at
// enrolment, and returns the request (PEM).
func CSR(cn string) (string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", fmt.Errorf("testpki: key: %w", err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, key)
	if err != nil {
		return "", fmt.Errorf("testpki: csr: %w", err)
	}
	return string(PEM("CERTIFICATE REQUEST", der)), nil
}

// SelfSigned makes a key and a self-signed certificate for cn valid from an
// hour ago for validity (no CA vouches for it): the key (PKCS #8) and the
// certificate, PEM.
func SelfSigned(cn string, validity time.Duration) (keyPEM, certPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("testpki: key: %w", err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(validity)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("testpki: self-signed %s: %w", cn, err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("testpki: key: %w", err)
	}
	return PEM("PRIVATE KEY", kder), PEM("CERTIFICATE", der), nil
}

// Pool is a certificate pool holding the CA alone.
func (p *PKI) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.CA)
	return pool
}

// TLSConfig builds a client TLS config trusting the CA, for a server at
// 127.0.0.1, with an optional client certificate (a zero Cert means none).
func (p *PKI) TLSConfig(c Cert) (*tls.Config, error) {
	cfg := &tls.Config{RootCAs: p.Pool(), MinVersion: tls.VersionTLS12, ServerName: "127.0.0.1"}
	if c.CertFile != "" {
		pair, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("testpki: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// PEM encodes der as one PEM block of type typ.
func PEM(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
