package main

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

// tgTestKey and tgTestToken are a data key and a bot token for config tests.
var (
	tgTestKey   = []byte("0123456789abcdef0123456789abcdef")
	tgTestToken = "123456:TEST-token_abc"
)

func TestTelegramConfigFromEnv(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(tgTestKey)
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	c, err := telegramConfigFromEnv(env(nil))
	require.NoError(t, err)
	assert.False(t, c.Enabled())
	assert.NoError(t, c.Validate(), "off without a token")

	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(tgTestToken+"\n"), 0o600))
	c, err = telegramConfigFromEnv(env(map[string]string{"TICKETERO_TELEGRAM_TOKEN_FILE": tokenFile,
		"TICKETERO_DATA_KEY": hex.EncodeToString(tgTestKey), "TICKETERO_TELEGRAM_BOT": "TicketeroBot",
		"TICKETERO_TELEGRAM_GROUP": "-1001234"}))
	require.NoError(t, err)
	assert.Equal(t, tgTestToken, c.Token)
	assert.Equal(t, tgTestKey, c.DataKey)
	assert.Equal(t, int64(-1001234), c.GroupChatID)
	assert.Equal(t, telegram.ModePolling, c.Mode)
	require.NoError(t, c.Validate())

	c, err = telegramConfigFromEnv(env(map[string]string{"TICKETERO_TELEGRAM_RETRIES": "1s, 2s,4s",
		"TICKETERO_TELEGRAM_LEASE": "5s"}))
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, c.Retries)
	assert.Equal(t, 5*time.Second, c.Pacing.Lease)

	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"no key":       {map[string]string{"TICKETERO_TELEGRAM_TOKEN": tgTestToken}, "TICKETERO_DATA_KEY"},
		"short key":    {map[string]string{"TICKETERO_DATA_KEY": "c2hvcnQ="}, "32 bytes"},
		"bad mode":     {map[string]string{"TICKETERO_TELEGRAM_TOKEN": tgTestToken, "TICKETERO_DATA_KEY": key, "TICKETERO_TELEGRAM_MODE": "push"}, "TICKETERO_TELEGRAM_MODE"},
		"no secret":    {map[string]string{"TICKETERO_TELEGRAM_TOKEN": tgTestToken, "TICKETERO_DATA_KEY": key, "TICKETERO_TELEGRAM_MODE": "webhook"}, "WEBHOOK_SECRET"},
		"http webhook": {map[string]string{"TICKETERO_TELEGRAM_TOKEN": tgTestToken, "TICKETERO_DATA_KEY": key, "TICKETERO_TELEGRAM_MODE": "webhook", "TICKETERO_TELEGRAM_WEBHOOK_SECRET": "0123456789abcdef", "TICKETERO_TELEGRAM_WEBHOOK_URL": "http://x/hook"}, "https"},
		"bad group":    {map[string]string{"TICKETERO_TELEGRAM_GROUP": "grupo"}, "TICKETERO_TELEGRAM_GROUP"},
		"rate":         {map[string]string{"TICKETERO_TELEGRAM_TOKEN": tgTestToken, "TICKETERO_DATA_KEY": key, "TICKETERO_TELEGRAM_RATE": "90"}, "TICKETERO_TELEGRAM_RATE"},
		"retries":      {map[string]string{"TICKETERO_TELEGRAM_RETRIES": "30s,soon"}, "TICKETERO_TELEGRAM_RETRIES"},
		"lease":        {map[string]string{"TICKETERO_TELEGRAM_LEASE": "10ms"}, "TICKETERO_TELEGRAM_LEASE"},
		"token file":   {map[string]string{"TICKETERO_TELEGRAM_TOKEN_FILE": filepath.Join(dir, "missing")}, "TICKETERO_TELEGRAM_TOKEN_FILE"},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := telegramConfigFromEnv(env(tc.env))
			if err == nil {
				err = c.Validate()
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), tgTestToken, "the token is never in an error")
		})
	}
}
