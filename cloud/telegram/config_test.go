package telegram_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/telegram"
)

func TestKeysAndLinks(t *testing.T) {
	k, err := telegram.NewKeys(testKey)
	require.NoError(t, err)
	a, err := k.SealChat(123456789)
	require.NoError(t, err)
	b, err := k.SealChat(123456789)
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "random nonce")
	id, err := k.OpenChat(a)
	require.NoError(t, err)
	assert.Equal(t, int64(123456789), id)
	a[len(a)-1] ^= 1
	_, err = k.OpenChat(a)
	assert.Error(t, err, "tampered")
	other, err := telegram.NewKeys([]byte("ffffffffffffffffffffffffffffffff"))
	require.NoError(t, err)
	_, err = other.OpenChat(b)
	assert.Error(t, err, "wrong key")
	assert.Equal(t, k.ChatHash(5), k.ChatHash(5))
	assert.NotEqual(t, k.ChatHash(5), other.ChatHash(5))
	assert.NotEqual(t, k.Lookup("rut", "5"), k.ChatHash(5), "namespaces differ")
	_, err = telegram.NewKeys([]byte("short"))
	assert.Error(t, err)

	assert.Equal(t, "*******89", telegram.MaskChat(123456789))
	assert.Equal(t, "https://t.me/TicketeroBot?start=Ab_9-x", telegram.StartURL("TicketeroBot", "Ab_9-x"))
	assert.True(t, telegram.ValidToken("Ab_9-x"))
	for _, bad := range []string{"", "a b", "12.345.678-5", string(make([]byte, 65)), "ñ"} {
		assert.False(t, telegram.ValidToken(bad), bad)
	}
}
