package enroll_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent/enroll"
)

func pair(t *testing.T) (keyPEM, certPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "SCL-001"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestRecover: a power cut between the key's and the certificate's renames
// leaves a new key beside the old certificate; Recover finishes the pair.
func TestRecover(t *testing.T) {
	dir := t.TempDir()
	p := enroll.Paths{Dir: dir}
	require.NoError(t, os.MkdirAll(p.TLSDir(), 0o700))
	oldKey, oldCert := pair(t)
	newKey, newCert := pair(t)
	require.NoError(t, enroll.WriteFile0600(p.Key(), newKey))
	require.NoError(t, enroll.WriteFile0600(p.Cert(), oldCert))
	require.NoError(t, enroll.WriteFile0600(p.Cert()+".new", newCert))
	_, err := tls.LoadX509KeyPair(p.Cert(), p.Key())
	require.Error(t, err, "the pair is broken")
	require.NoError(t, enroll.Recover(dir))
	_, err = tls.LoadX509KeyPair(p.Cert(), p.Key())
	require.NoError(t, err)
	got, _ := os.ReadFile(p.Cert())
	assert.Equal(t, newCert, got)

	t.Run("cut before the renames", func(t *testing.T) {
		require.NoError(t, enroll.WriteFile0600(p.Key(), oldKey))
		require.NoError(t, enroll.WriteFile0600(p.Cert(), oldCert))
		require.NoError(t, enroll.WriteFile0600(p.Key()+".new", newKey))
		require.NoError(t, enroll.WriteFile0600(p.Cert()+".new", newCert))
		require.NoError(t, enroll.Recover(dir))
		got, _ := os.ReadFile(p.Cert())
		assert.Equal(t, oldCert, got, "the old pair stays")
		_, err := os.Stat(p.Cert() + ".new")
		assert.True(t, os.IsNotExist(err), "leftovers removed")
		fi, err := os.Stat(p.Key())
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	})
	t.Run("not enrolled", func(t *testing.T) {
		_, err := enroll.LoadState(t.TempDir())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "enroll.not_enrolled")
	})
}
