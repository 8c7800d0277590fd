package mqtt_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent/mqtt"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/eventgen"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
)

// hangingOutbox is the real outbox whose reads hang once hang is set: a
// stuck relay loop.
type hangingOutbox struct {
	*sqliteOutbox
	hang    atomic.Bool
	release chan struct{}
}

func (o *hangingOutbox) Pending(ctx context.Context, after uint64, limit int) ([]event.Event, error) {
	if o.hang.Load() {
		<-o.release
	}
	return o.sqliteOutbox.Pending(ctx, after, limit)
}

// The relay loop is alive while it relays and while it waits to reconnect
// (offline is not stuck); a loop hung in an outbox read is reported.
func TestRelayAlive(t *testing.T) {
	b := mqtttest.Start(t)
	startCloud(t, b, "RLA-001")
	ob := &hangingOutbox{sqliteOutbox: newOutbox(t), release: make(chan struct{})}
	g := eventgen.New("RLA-001", 1)
	ob.Append(t, g.Take(10))
	r := startRelay(t, b, "RLA-001", ob, nil, func(c *mqtt.Config) { c.Stall = 300 * time.Millisecond })
	waitAcked(t, ob.sqliteOutbox, 10, 20*time.Second)
	time.Sleep(600 * time.Millisecond) // twice Stall, idle
	require.NoError(t, r.Alive(time.Now()), "idle and connected")

	b.Stop()
	require.Eventually(t, func() bool { return !r.State().Connected }, 10*time.Second, 20*time.Millisecond)
	for range 5 {
		time.Sleep(200 * time.Millisecond)
		require.NoError(t, r.Alive(time.Now()), "offline, waiting to reconnect: not stuck")
	}
	require.NoError(t, b.Start())
	require.Eventually(t, func() bool { return r.State().Connected }, 20*time.Second, 20*time.Millisecond)

	ob.hang.Store(true)
	defer close(ob.release)
	ob.Append(t, g.Take(1))
	require.Eventually(t, func() bool { return r.Alive(time.Now()) != nil }, 10*time.Second, 20*time.Millisecond,
		"a loop hung in an outbox read is reported")
	assert.ErrorContains(t, r.Alive(time.Now()), "relay loop stuck")
}

// HQ's release offer reaches the updater; an empty retained message (a
// stopped rollout) withdraws it, and so does every (re)connection before
// the broker replays what it retains.
func TestRelayReleaseWithdrawn(t *testing.T) {
	b := mqtttest.Start(t)
	fc := startCloud(t, b, "RLW-001")
	var mu sync.Mutex
	var got []string
	note := func(s string) {
		mu.Lock()
		got = append(got, s)
		mu.Unlock()
	}
	seen := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
	publish := func(payload string) {
		tok := fc.client.Publish(event.ReleaseTopic("RLW-001"), 1, true, payload)
		require.True(t, tok.WaitTimeout(10*time.Second))
		require.NoError(t, tok.Error())
	}
	publish(`{"v":1,"branch":"RLW-001","version":"7.0.0","artifacts":[],"window":"always","at":"2026-12-01T00:00:00Z"}`)
	r := startRelay(t, b, "RLW-001", newOutbox(t), nil, func(c *mqtt.Config) {
		c.Release = func(_ context.Context, rel event.Release) { note("offer " + rel.Version) }
		c.Withdraw = func(context.Context) { note("withdraw") }
	})
	require.Eventually(t, func() bool { return len(seen()) == 2 }, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, []string{"withdraw", "offer 7.0.0"}, seen(), "held offer dropped at connection, then the retained one")

	publish("")
	require.Eventually(t, func() bool { return len(seen()) == 3 }, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, "withdraw", seen()[2], "an empty retained message withdraws the offer")

	require.NoError(t, b.Restart(200*time.Millisecond))
	require.Eventually(t, func() bool { return r.State().Connected && len(seen()) == 4 }, 20*time.Second, 20*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, []string{"withdraw", "offer 7.0.0", "withdraw", "withdraw"}, seen(), "nothing retained: no offer after reconnecting")
}
