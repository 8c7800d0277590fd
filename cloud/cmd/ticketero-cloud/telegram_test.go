package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

// The real program with Telegram on (webhook mode, a fake Bot API): updates
// come through the webhook with its secret, events over MQTT produce the
// customer's messages, and /cancelar reaches the branch as an MQTT command
// that is marked applied when the branch's ticket.cancelled names it.
func TestServeTelegram(t *testing.T) {
	const token, secret, branch = "4242:fake-token", "webhook-secret-0123456789", "TG-001"
	fake := telegramtest.New(token, telegramtest.Options{})
	defer fake.Close()
	t.Setenv("TICKETERO_TELEGRAM_TOKEN", token)
	t.Setenv("TICKETERO_TELEGRAM_MODE", "webhook")
	t.Setenv("TICKETERO_TELEGRAM_WEBHOOK_SECRET", secret)
	t.Setenv("TICKETERO_TELEGRAM_API", fake.URL)
	t.Setenv("TICKETERO_DATA_KEY", base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")))

	broker := mqtttest.Start(t)
	m := NewMain(envConfig(t, Config{DB: pgtest.New(t), MQTT: broker.URL(), Cert: broker.Cloud.CertFile, Key: broker.Cloud.KeyFile,
		CA: broker.PKI.CAFile, HTTP: "127.0.0.1:0", Workers: 2, OpsToken: testOpsToken}), nil)
	require.NoError(t, m.Run(context.Background()))
	t.Cleanup(func() { _ = m.Close() })
	base := "http://" + m.HTTPAddr()
	require.Eventually(t, func() bool { return getJSON(t, base+"/readyz", nil) == 200 }, 10*time.Second, 50*time.Millisecond)

	c := branchClient(t, broker, branch)
	cmds := make(chan event.Command, 8)
	require.True(t, c.Subscribe(event.CommandsTopic(branch), 1, func(_ paho.Client, msg paho.Message) {
		var cmd event.Command
		if event.DecodeMessage(msg.Topic(), msg.Payload(), &cmd) == nil {
			cmds <- cmd
		}
	}).WaitTimeout(5*time.Second))

	updateID := int64(100)
	say := func(chat int64, text, key string) int {
		updateID++
		body, _ := json.Marshal(map[string]any{"update_id": updateID, "message": map[string]any{"message_id": 1,
			"text": text, "chat": map[string]any{"id": chat, "type": "private"},
			"from": map[string]any{"id": chat, "language_code": "es"}}})
		req, _ := http.NewRequest(http.MethodPost, base+TelegramWebhookPath, strings.NewReader(string(body)))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", key)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	seq := uint64(0)
	publish := func(typ event.Type, data any) {
		seq++
		e, err := event.New(seq, fmt.Sprintf("ev-%d", seq), typ, time.Now(), data)
		require.NoError(t, err)
		b, err := event.EncodeBatch(branch, []event.Event{e})
		require.NoError(t, err)
		require.True(t, c.Publish(event.EventsTopic(branch), 1, false, b).WaitTimeout(5*time.Second))
	}
	texts := func(chat int64, n int) []string {
		t.Helper()
		var got []string
		require.Eventually(t, func() bool { got = fake.SentTo(chat); return len(got) >= n }, 15*time.Second,
			20*time.Millisecond, "chat %d: want %d messages, got %v", chat, n, got)
		return got
	}
	ref := func(id string, n int) event.TicketRef {
		return event.TicketRef{Ticket: id, Service: "C", Number: n, Day: "2026-11-28"}
	}

	assert.Equal(t, http.StatusUnauthorized, say(42, "/ayuda", "wrong"))
	assert.Equal(t, http.StatusOK, say(42, "/start tok-42", secret))
	assert.Contains(t, texts(42, 1)[0], "Te confirmaremos el número")

	publish(event.TicketIssued, event.Issued{TicketRef: ref("t1", 7), Priority: "normal", Position: 1,
		QuotedTypical: 60, QuotedUpper: 120, Token: "tok-42"})
	assert.Contains(t, texts(42, 2)[1], "Tu número es C-007")

	assert.Equal(t, http.StatusOK, say(42, "/cancelar", secret))
	var cmd event.Command
	select {
	case cmd = <-cmds:
	case <-time.After(10 * time.Second):
		t.Fatal("no command reached the branch")
	}
	assert.Equal(t, event.CommandCancelTicket, cmd.Type)
	assert.Equal(t, "t1", cmd.Ticket)
	publish(event.TicketCancelled, event.Cancelled{TicketRef: ref("t1", 7), By: "telegram", Request: cmd.ID})
	require.Eventually(t, func() bool {
		var st string
		_ = m.Pool.QueryRow(context.Background(), `SELECT status FROM branch_commands WHERE id = $1`, cmd.ID).Scan(&st)
		return st == "applied"
	}, 10*time.Second, 20*time.Millisecond)
	got := texts(42, 4)
	assert.True(t, strings.Contains(got[2]+got[3], "Tu número C-007 fue anulado."), got)

	// Your turn: counter and first name.
	assert.Equal(t, http.StatusOK, say(43, "/start tok-43", secret))
	publish(event.TicketIssued, event.Issued{TicketRef: ref("t2", 8), Priority: "normal", Position: 1, Token: "tok-43"})
	r := ref("t2", 8)
	r.Counter, r.Executive = 3, "e1"
	publish(event.TicketCalled, event.Called{TicketRef: r, ExecutiveName: "Camila Rojas"})
	got = texts(43, 3)
	assert.Equal(t, "¡Es tu turno! Número C-008: dirígete al módulo 3, te atiende Camila.", got[2])

	// The worker counts a message once its "sent" is committed, just after
	// Telegram answered.
	var metrics string
	require.Eventually(t, func() bool {
		metrics = getBody(t, base+"/metrics")
		return strings.Contains(metrics, `ticketero_telegram_sent_total{kind="called"} 1`)
	}, 10*time.Second, 20*time.Millisecond)
	assert.Contains(t, metrics, `ticketero_telegram_delivery_seconds_count`)
	assert.NotContains(t, metrics, token)

	// With the UI behind the webhook's mux, HQ admins still read the metrics.
	adminTok, err := hq.New(m.Pool, time.Now).CreateToken(context.Background(), "ops-tg", cloud.RoleAdmin, nil, nil)
	require.NoError(t, err)
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+adminTok)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
}
