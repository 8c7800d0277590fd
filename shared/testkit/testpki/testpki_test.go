package testpki_test

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/testkit/testpki"
)

func TestIssueVerifiesAgainstTheCA(t *testing.T) {
	p, err := testpki.New(t.TempDir(), "Test CA")
	require.NoError(t, err)
	srv, err := p.Issue("broker", "localhost", true)
	require.NoError(t, err)
	client, err := p.Issue("client", "SCL-001", false)
	require.NoError(t, err)
	assert.NotEqual(t, srv.Serial, client.Serial)

	onDisk, err := os.ReadFile(client.CertFile)
	require.NoError(t, err)
	assert.Equal(t, client.CertPEM, onDisk)
	pair, err := client.KeyPair()
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	require.NoError(t, err)
	assert.Equal(t, "SCL-001", leaf.Subject.CommonName)
	_, err = leaf.Verify(x509.VerifyOptions{Roots: p.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	require.NoError(t, err)
	_, err = leaf.Verify(x509.VerifyOptions{Roots: p.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	assert.Error(t, err, "a client certificate is no server's")

	other, err := testpki.New(t.TempDir(), "Other CA")
	require.NoError(t, err)
	_, err = leaf.Verify(x509.VerifyOptions{Roots: other.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	assert.Error(t, err, "another CA does not trust it")
}

func TestCRLRevokesTheSerials(t *testing.T) {
	p, err := testpki.New(t.TempDir(), "Test CA")
	require.NoError(t, err)
	keep, err := p.Issue("keep", "SCL-001", false)
	require.NoError(t, err)
	gone, err := p.Issue("gone", "SCL-002", false)
	require.NoError(t, err)

	raw, err := p.CRL(gone.Serial)
	require.NoError(t, err)
	block, _ := pem.Decode(raw)
	require.NotNil(t, block)
	assert.Equal(t, "X509 CRL", block.Type)
	crl, err := x509.ParseRevocationList(block.Bytes)
	require.NoError(t, err)
	require.NoError(t, crl.CheckSignatureFrom(p.CA))
	require.Len(t, crl.RevokedCertificateEntries, 1)
	assert.Equal(t, 0, gone.Serial.Cmp(crl.RevokedCertificateEntries[0].SerialNumber))
	assert.NotEqual(t, 0, keep.Serial.Cmp(crl.RevokedCertificateEntries[0].SerialNumber))

	raw2, err := p.CRL()
	require.NoError(t, err)
	block2, _ := pem.Decode(raw2)
	crl2, err := x509.ParseRevocationList(block2.Bytes)
	require.NoError(t, err)
	assert.Equal(t, 1, crl2.Number.Cmp(crl.Number), "each CRL has a higher number")
	assert.Empty(t, crl2.RevokedCertificateEntries)
}

// TestCAKeySignsAsTheCA: a certificate signed with the CA's key (as the
// enrolment's local CA signs) verifies against the CA, which lives as long
// as NewValid says.
func TestCAKeySignsAsTheCA(t *testing.T) {
	p, err := testpki.NewValid(t.TempDir(), "Enrolment CA", 5*365*24*time.Hour)
	require.NoError(t, err)
	assert.True(t, p.CA.NotAfter.After(time.Now().Add(4*365*24*time.Hour)))
	keyPEM, err := p.KeyPEM()
	require.NoError(t, err)
	kb, _ := pem.Decode(keyPEM)
	require.NotNil(t, kb)
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	require.NoError(t, err)
	cb, _ := pem.Decode(p.CertPEM())
	require.NotNil(t, cb)
	ca, err := x509.ParseCertificate(cb.Bytes)
	require.NoError(t, err)

	csrPEM, err := testpki.CSR("SCL-001")
	require.NoError(t, err)
	rb, _ := pem.Decode([]byte(csrPEM))
	require.NotNil(t, rb)
	csr, err := x509.ParseCertificateRequest(rb.Bytes)
	require.NoError(t, err)
	require.NoError(t, csr.CheckSignature())
	assert.Equal(t, "SCL-001", csr.Subject.CommonName)

	tpl := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: csr.Subject, NotBefore: time.Now().Add(-time.Minute),
		NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca, csr.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	_, err = leaf.Verify(x509.VerifyOptions{Roots: p.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	require.NoError(t, err)
}

// TestSelfSignedIsAPair: the key matches the certificate, which no CA vouches for.
func TestSelfSignedIsAPair(t *testing.T) {
	keyPEM, certPEM, err := testpki.SelfSigned("SCL-001", time.Hour)
	require.NoError(t, err)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	require.NoError(t, err)
	assert.Equal(t, "SCL-001", leaf.Subject.CommonName)
	assert.WithinDuration(t, time.Now().Add(time.Hour), leaf.NotAfter, time.Minute)
	p, err := testpki.New(t.TempDir(), "Test CA")
	require.NoError(t, err)
	_, err = leaf.Verify(x509.VerifyOptions{Roots: p.Pool()})
	assert.Error(t, err)
}
