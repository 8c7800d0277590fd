package telegram_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/postgres/notify"
	"github.com/ticketero/ticketero/cloud/telegram"
	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
	"github.com/ticketero/ticketero/shared/event"
)

// TestFaultRunDeliversOnce runs a branch day's notifications through Bot API
// faults (5 % of calls answered 5xx, 429s because the two "replicas" together
// push more than the bot's limit), a worker stopped mid-run and replaced, and a
// worker that died holding a claimed job. At least 99.9 % must be delivered,
// nothing twice, and no 429 left unhonoured.
func TestFaultRunDeliversOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("fault run: skipped with -short")
	}
	e := newEnv(t, telegramtest.Options{BotRate: 60, ChatGap: time.Second, FailRate: 0.05, RetryAfter: 1, Seed: 42})
	const b, n = "SCL-100", 150
	pacing := notify.Pacing{Private: 1100 * time.Millisecond, Group: 3100 * time.Millisecond, Lease: 2 * time.Second}
	mk := func() *telegram.Worker {
		w := e.worker(50)
		w.Pacing = pacing
		return w
	}
	for i := 0; i < n; i++ {
		e.say(int64(10000+i), "es", fmt.Sprintf("/start tok%04d", i))
	}
	var issued []event.Event
	for i := 0; i < n; i++ {
		issued = append(issued, e.issued(b, fmt.Sprintf("f%04d", i), "C", i+1, i+1, fmt.Sprintf("tok%04d", i), ""))
	}
	for i := 0; i < n; i += 50 {
		e.feed(b, issued[i:i+50]...)
	}
	// A worker that claimed a job and died: its lease expires and the job is
	// sent by the survivors.
	crashed, err := e.store.Claim(context.Background(), 1, notify.Pacing{Private: pacing.Private, Group: pacing.Group,
		Lease: 200 * time.Millisecond})
	require.NoError(t, err)
	stopA := run(t, mk())
	run(t, mk())

	restarted := false
	for i := 0; i < n; i++ {
		e.feed(b, e.called(b, fmt.Sprintf("f%04d", i), "C", i+1, 1+i%6, "Ejecutivo Uno", 0))
		if i == n/2 {
			// A replica restarts mid-run: stop it, start a new one.
			require.Eventually(t, func() bool { return len(e.fake.Sent()) >= n }, 30*time.Second, 10*time.Millisecond)
			stopA()
			run(t, mk())
			restarted = true
		}
	}
	require.Eventually(t, func() bool {
		c := e.jobCounts()
		return c["pending"] == 0 && c["sending"] == 0
	}, 90*time.Second, 50*time.Millisecond)

	c := e.jobCounts()
	total := c["sent"] + c["dead"]
	t.Logf("jobs %v; fake %+v; crashed claim %d", c, e.fake.Stats(), len(crashed))
	assert.GreaterOrEqual(t, float64(c["sent"]), 0.999*float64(total), "delivered")
	sent := e.fake.Sent()
	assert.Len(t, sent, c["sent"], "every sent job reached Telegram exactly once")
	seen := map[string]bool{}
	for _, s := range sent {
		k := fmt.Sprint(s.ChatID, s.Text)
		assert.False(t, seen[k], "sent twice: %s", s.Text)
		seen[k] = true
	}
	st := e.fake.Stats()
	assert.Positive(t, st.Failed, "5xx were injected")
	assert.Positive(t, st.TooMany, "429s were exercised")
	assert.Zero(t, st.Unhonoured, "no 429 left unhonoured")
	for i := 0; i < n; i++ {
		assert.True(t, contains(e.fake.SentTo(int64(10000+i)), "¡Es tu turno!"), "chat %d got its turn", i)
	}
	assert.True(t, restarted)
	assert.Len(t, crashed, 1)
}
