package telegram_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/telegram"
	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
)

// The service as the cloud runs it in polling mode: clears a left-over
// webhook, answers updates, sends the ingest's jobs and digests alerts to the
// supervisors' group.
func TestServiceRun(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	require.NoError(t, telegram.NewClient(e.fake.URL, testToken, nil).SetWebhook(ctx, "https://old.example/hook", "x"))

	alerts := []cloud.Alert{{ID: 1, Branch: "SCL-001", Kind: "queue_long", Value: 18}}
	src := func(_ context.Context, after int64, _ int) ([]cloud.Alert, error) {
		if after >= 1 {
			return nil, nil
		}
		return alerts, nil
	}
	svc, err := telegram.NewService(telegram.Config{Token: testToken, DataKey: testKey, Mode: telegram.ModePolling,
		APIBase: e.fake.URL, GroupChatID: -100777, DigestEvery: telegram.MinDigestEvery}, e.store, e.pub, src, nil)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.Run(ctx) }()

	e.fake.AddUpdate(telegramtest.TextUpdate(9901, "en", "/start svc-tok"))
	assert.Contains(t, e.waitTexts(9901, 1)[0], "We got your code")
	url, _ := e.fake.Webhook()
	assert.Empty(t, url, "webhook cleared for getUpdates")

	const b = "SCL-SVC"
	e.feed(b, e.issued(b, "s1", "C", 1, 1, "svc-tok", ""))
	e.feed(b, e.called(b, "s1", "C", 1, 5, "Pedro Soto", 0))
	texts := e.waitTexts(9901, 3)
	assert.Equal(t, "It is your turn! Number C-001: please go to counter 5, Pedro will serve you.", texts[2])

	digest := e.waitTexts(-100777, 1)
	assert.Contains(t, digest[0], "SCL-001: 18 personas esperando")
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("service did not stop")
	}
}
