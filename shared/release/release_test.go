package release

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSignVerifyRefusesTampering(t *testing.T) {
	pubS, privS, err := GenerateKey()
	require.NoError(t, err)
	pub, err := ParsePublicKey(pubS)
	require.NoError(t, err)
	priv, err := ParsePrivateKey(privS)
	require.NoError(t, err)
	bin := []byte("\x7fELF binary")
	m := Describe("2.0.0", "linux", "amd64", bin, time.Now())
	s, err := Sign(priv, m)
	require.NoError(t, err)

	got, err := Verify(pub, s)
	require.NoError(t, err)
	assert.Equal(t, "2.0.0", got.Version)
	require.NoError(t, got.Check(bin))
	assert.ErrorIs(t, got.Check([]byte("\x7fELF binarY")), ErrHash)

	bad := s
	bad.Manifest = []byte(string(s.Manifest[:len(s.Manifest)-2]) + " }")
	_, err = Verify(pub, bad)
	assert.ErrorIs(t, err, ErrSignature, "a changed manifest is refused")
	otherPub, _, _ := GenerateKey()
	op, _ := ParsePublicKey(otherPub)
	_, err = Verify(op, s)
	assert.ErrorIs(t, err, ErrSignature, "another key's signature is refused")

	_, err = Sign(priv, Describe("../x", "linux", "amd64", bin, time.Now()))
	assert.Error(t, err)
	_, err = Sign(priv, Describe("2.0.0", "windows", "amd64", bin, time.Now()))
	assert.Error(t, err)
}

func TestWindow(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 12, 1, h, m, 0, 0, time.UTC) }
	w, err := ParseWindow("22:00-06:00")
	require.NoError(t, err)
	assert.True(t, w.Contains(at(23, 0)))
	assert.True(t, w.Contains(at(5, 59)))
	assert.False(t, w.Contains(at(6, 0)))
	assert.False(t, w.Contains(at(12, 30)), "never mid-day")
	w, err = ParseWindow("01:00-03:00")
	require.NoError(t, err)
	assert.True(t, w.Contains(at(2, 0)))
	assert.False(t, w.Contains(at(3, 0)))
	w, err = ParseWindow("always")
	require.NoError(t, err)
	assert.True(t, w.Contains(at(12, 0)))
	for _, bad := range []string{"", "22-06", "25:00-06:00", "10:00-10:00", "10:00"} {
		_, err := ParseWindow(bad)
		assert.Error(t, err, bad)
	}
}
