package seal_test

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/seal"
)

func rutKeys(t *testing.T, secret string) *seal.RUTKeys {
	t.Helper()
	k, err := seal.DecodeRUTHashKey(base64.StdEncoding.EncodeToString([]byte(secret)))
	require.NoError(t, err)
	keys, err := seal.NewRUTKeys(k)
	require.NoError(t, err)
	return keys
}

func TestRUTSealOpen(t *testing.T) {
	keys := rutKeys(t, "0123456789abcdef0123456789abcdef")
	pub, err := seal.ParseRUTSealKey(keys.PublicKey())
	require.NoError(t, err)
	a, err := seal.SealRUT(pub, "12345678-5")
	require.NoError(t, err)
	b, err := seal.SealRUT(pub, "12345678-5")
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "an ephemeral key per seal: equal RUTs give unrelated boxes")
	assert.NotContains(t, a, "12345678")
	got, err := keys.Open(a)
	require.NoError(t, err)
	assert.Equal(t, "12345678-5", got)

	// The pair is derived from the hash key: the same secret, the same pair.
	assert.Equal(t, keys.PublicKey(), rutKeys(t, "0123456789abcdef0123456789abcdef").PublicKey())
	other := rutKeys(t, "another secret of sixteen bytes or more")
	assert.NotEqual(t, keys.PublicKey(), other.PublicKey())
	_, err = other.Open(a)
	assert.Error(t, err, "another key does not open it")

	for _, bad := range []string{"", "not base64!", base64.StdEncoding.EncodeToString(make([]byte, 60)), a[:len(a)-4] + "AAAA",
		base64.StdEncoding.EncodeToString(make([]byte, 200))} {
		_, err := keys.Open(bad)
		assert.Error(t, err, bad)
	}
}

// TestRUTHashUnchanged: the cloud's hash is the HMAC agents computed when
// they held the key (HMAC-SHA256 of the normalised RUT, base64url), so earlier
// hashes stay comparable.
func TestRUTHashUnchanged(t *testing.T) {
	keys := rutKeys(t, "0123456789abcdef0123456789abcdef")
	assert.Equal(t, "5MaEsr9QE8xg_KyG9_NIWVzaXyrEnGRRodvKj_e-t3E", keys.Hash("12345678-5"))
	assert.Equal(t, seal.HashRUT([]byte("0123456789abcdef0123456789abcdef"), "12345678-5"), keys.Hash("12345678-5"))
}

func TestRUTKeyParsing(t *testing.T) {
	for _, bad := range []string{"", "c2hvcnQ=", "secret-value", "bm90IGJhc2U2NA"} {
		_, err := seal.DecodeRUTHashKey(bad)
		assert.Error(t, err, bad)
	}
	_, err := seal.NewRUTKeys([]byte("short"))
	assert.Error(t, err)
	for _, bad := range []string{"", "c2hvcnQ=", base64.StdEncoding.EncodeToString(make([]byte, 33))} {
		_, err := seal.ParseRUTSealKey(bad)
		assert.Error(t, err, bad)
	}
	_, err = seal.SealRUT(nil, "12345678-5")
	assert.Error(t, err)
}

func TestCheckInHash(t *testing.T) {
	h := seal.CheckInHash("SCL-001", "2026-12-01", "12345678-5")
	assert.Len(t, h, 22, "16 bytes, base64url without padding")
	assert.Equal(t, h, seal.CheckInHash("SCL-001", "2026-12-01", "12345678-5"), "deterministic")
	assert.NotEqual(t, h, seal.CheckInHash("SCL-002", "2026-12-01", "12345678-5"), "salted by branch")
	assert.NotEqual(t, h, seal.CheckInHash("SCL-001", "2026-12-02", "12345678-5"), "salted by day")
	assert.NotEqual(t, h, seal.CheckInHash("SCL-001", "2026-12-01", "11111111-1"), "keyed by RUT")
}
