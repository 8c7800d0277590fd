package telegram_test

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/telegram"
)

func TestConfigFromEnv(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(testKey)
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	c, err := telegram.ConfigFromEnv(env(nil))
	require.NoError(t, err)
	assert.False(t, c.Enabled())
	assert.NoError(t, c.Validate(), "off without a token")

	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(testToken+"\n"), 0o600))
	c, err = telegram.ConfigFromEnv(env(map[string]string{"TICKETERO_TELEGRAM_TOKEN_FILE": tokenFile,
		"TICKETERO_DATA_KEY": hex.EncodeToString(testKey), "TICKETERO_TELEGRAM_BOT": "TicketeroBot",
		"TICKETERO_TELEGRAM_GROUP": "-1001234"}))
	require.NoError(t, err)
	assert.Equal(t, testToken, c.Token)
	assert.Equal(t, testKey, c.DataKey)
	assert.Equal(t, int64(-1001234), c.GroupChatID)
	assert.Equal(t, telegram.ModePolling, c.Mode)
	require.NoError(t, c.Validate())

	c, err = telegram.ConfigFromEnv(env(map[string]string{"TICKETERO_TELEGRAM_RETRIES": "1s, 2s,4s",
		"TICKETERO_TELEGRAM_LEASE": "5s"}))
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, c.Retries)
	assert.Equal(t, 5*time.Second, c.Pacing.Lease)

	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"no key":       {map[string]string{"TICKETERO_TELEGRAM_TOKEN": testToken}, "TICKETERO_DATA_KEY"},
		"short key":    {map[string]string{"TICKETERO_DATA_KEY": "c2hvcnQ="}, "32 bytes"},
		"bad mode":     {map[string]string{"TICKETERO_TELEGRAM_TOKEN": testToken, "TICKETERO_DATA_KEY": key, "TICKETERO_TELEGRAM_MODE": "push"}, "TICKETERO_TELEGRAM_MODE"},
		"no secret":    {map[string]string{"TICKETERO_TELEGRAM_TOKEN": testToken, "TICKETERO_DATA_KEY": key, "TICKETERO_TELEGRAM_MODE": "webhook"}, "WEBHOOK_SECRET"},
		"http webhook": {map[string]string{"TICKETERO_TELEGRAM_TOKEN": testToken, "TICKETERO_DATA_KEY": key, "TICKETERO_TELEGRAM_MODE": "webhook", "TICKETERO_TELEGRAM_WEBHOOK_SECRET": "0123456789abcdef", "TICKETERO_TELEGRAM_WEBHOOK_URL": "http://x/hook"}, "https"},
		"bad group":    {map[string]string{"TICKETERO_TELEGRAM_GROUP": "grupo"}, "TICKETERO_TELEGRAM_GROUP"},
		"rate":         {map[string]string{"TICKETERO_TELEGRAM_TOKEN": testToken, "TICKETERO_DATA_KEY": key, "TICKETERO_TELEGRAM_RATE": "90"}, "TICKETERO_TELEGRAM_RATE"},
		"retries":      {map[string]string{"TICKETERO_TELEGRAM_RETRIES": "30s,soon"}, "TICKETERO_TELEGRAM_RETRIES"},
		"lease":        {map[string]string{"TICKETERO_TELEGRAM_LEASE": "10ms"}, "TICKETERO_TELEGRAM_LEASE"},
		"token file":   {map[string]string{"TICKETERO_TELEGRAM_TOKEN_FILE": filepath.Join(dir, "missing")}, "TICKETERO_TELEGRAM_TOKEN_FILE"},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := telegram.ConfigFromEnv(env(tc.env))
			if err == nil {
				err = c.Validate()
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), testToken, "the token is never in an error")
		})
	}
}

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
