package seal_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/seal"
)

func TestSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, seal.KeySize)
	b, err := seal.New(key)
	require.NoError(t, err)
	s1, err := b.Seal([]byte("12345678-5"), "rut")
	require.NoError(t, err)
	s2, err := b.Seal([]byte("12345678-5"), "rut")
	require.NoError(t, err)
	assert.NotEqual(t, s1, s2, "a random nonce per seal")
	assert.NotContains(t, string(s1), "12345678")
	p, err := b.Open(s1, "rut")
	require.NoError(t, err)
	assert.Equal(t, "12345678-5", string(p))

	_, err = b.Open(s1, "telegram-chat")
	assert.Error(t, err, "the purpose is bound")
	other, _ := seal.New(bytes.Repeat([]byte{8}, seal.KeySize))
	_, err = other.Open(s1, "rut")
	assert.Error(t, err, "another key does not open it")
	_, err = b.Open(s1[:5], "rut")
	assert.Error(t, err)
	tampered := append([]byte(nil), s1...)
	tampered[len(tampered)-1] ^= 1
	_, err = b.Open(tampered, "rut")
	assert.Error(t, err)

	_, err = seal.New(key[:16])
	assert.ErrorContains(t, err, "32 bytes")
	assert.NotEqual(t, seal.Derive(key, "a"), seal.Derive(key, "b"))
	assert.Len(t, seal.Derive(key, "a"), 32)
}
