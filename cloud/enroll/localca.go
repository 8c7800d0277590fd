package enroll

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"time"

	"github.com/ticketero/ticketero/shared/queue"
)

// LocalCA signs branch certificates with a CA key held by the cloud: for
// on-premises brokers (Mosquitto with require_certificate and
// use_identity_as_username) and development. The certificate's CN is the
// branch, whatever the CSR asked for.
type LocalCA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// CAPEM is the bundle returned to boxes (the CA that signed the broker's
	// certificate; the same CA by default).
	CAPEM string
	// Broker is the endpoint returned to boxes, e.g. mqtts://broker.hq:8883.
	Broker string
	// Validity of issued certificates (90 days when zero).
	Validity time.Duration
	Now      func() time.Time
}

var _ Provisioner = (*LocalCA)(nil)

// LoadLocalCA reads a CA certificate and its private key (PEM: PKCS#8, EC or
// PKCS#1) from files.
func LoadLocalCA(certFile, keyFile, broker string) (*LocalCA, error) {
	certPEM, err := os.ReadFile(certFile) // #nosec G304 -- path from the operator's configuration (flag, env or data directory), never from a request
	if err != nil {
		return nil, fmt.Errorf("enroll: CA certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile) // #nosec G304 -- path from the operator's configuration (flag, env or data directory), never from a request
	if err != nil {
		return nil, fmt.Errorf("enroll: CA key: %w", err)
	}
	return NewLocalCA(certPEM, keyPEM, broker)
}

// NewLocalCA builds a LocalCA from PEM bytes.
func NewLocalCA(certPEM, keyPEM []byte, broker string) (*LocalCA, error) {
	cb, _ := pem.Decode(certPEM)
	if cb == nil {
		return nil, errors.New("enroll: CA certificate: no PEM block")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("enroll: CA certificate: %w", err)
	}
	if !cert.IsCA {
		return nil, errors.New("enroll: CA certificate is not a CA")
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, errors.New("enroll: CA key: no PEM block")
	}
	var key any
	switch kb.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(kb.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(kb.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(kb.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("enroll: CA key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("enroll: CA key cannot sign")
	}
	return &LocalCA{Cert: cert, Key: signer, CAPEM: string(certPEM), Broker: broker}, nil
}

// Name implements Provisioner.
func (ca *LocalCA) Name() string { return "local-ca" }

// Provision implements Provisioner: a client-auth certificate with CN = branch.
func (ca *LocalCA) Provision(_ context.Context, branch queue.BranchID, csr *x509.CertificateRequest) (Credentials, error) {
	now := time.Now()
	if ca.Now != nil {
		now = ca.Now()
	}
	validity := ca.Validity
	if validity <= 0 {
		validity = 90 * 24 * time.Hour
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return Credentials{}, fmt.Errorf("enroll: serial: %w", err)
	}
	notAfter := now.Add(validity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: string(branch), Organization: []string{"Ticketero branch"}},
		NotBefore:    now.Add(-5 * time.Minute),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca.Cert, csr.PublicKey, ca.Key)
	if err != nil {
		return Credentials{}, queue.Errorf(queue.CodeUnavailable, "enroll.provisioner", err.Error())
	}
	return Credentials{
		CertificatePEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		CAPEM:          ca.CAPEM,
		Broker:         ca.Broker,
	}, nil
}

func checkKey(pub any) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() || k.Curve == elliptic.P384() {
			return nil
		}
	case *rsa.PublicKey:
		if k.N.BitLen() >= 2048 {
			return nil
		}
	}
	return queue.Errorf(queue.CodeInvalid, "enroll.csr_invalid", "key")
}
