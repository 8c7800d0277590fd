package enroll_test

import (
	"crypto/tls"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent/enroll"
	"github.com/ticketero/ticketero/shared/testkit/testpki"
)

func pair(t *testing.T) (keyPEM, certPEM []byte) {
	t.Helper()
	keyPEM, certPEM, err := testpki.SelfSigned("SCL-001", time.Hour)
	require.NoError(t, err)
	return keyPEM, certPEM
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
