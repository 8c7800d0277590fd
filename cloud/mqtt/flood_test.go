package mqtt_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/mqtt"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
)

// TestInboundFloodBounded: 5,000 branches each publish a batch at once (a
// connect storm) to a replica whose ingest takes 2 ms a message, far slower
// than the flood (the 4 queues hold 1,024), and acks each batch as the
// ingest does. The replica's goroutines stay bounded (paho delivers in
// order on its one router goroutine, which blocks on the full worker
// queues, and the broker holds the rest; with a goroutine per message they
// grew by about 2,000 here), every batch is handled once, and every ack
// reaches the broker while the delivery is blocked (no deadlock).
func TestInboundFloodBounded(t *testing.T) {
	const branches = 5000
	b := mqtttest.Start(t)
	tlsCfg, err := b.PKI.TLSConfig(b.Cloud)
	require.NoError(t, err)
	c, err := mqtt.New(mqtt.Config{URL: b.URL(), TLS: tlsCfg, ClientID: "flood-cloud", Workers: 4}, nil, nil)
	require.NoError(t, err)
	c.Connect()
	defer c.Close()

	var mu sync.Mutex
	seen := map[string]int{}
	var handled atomic.Int64
	h := func(ctx context.Context, msgs ...cloud.Message) error {
		time.Sleep(time.Duration(len(msgs)) * 2 * time.Millisecond) // a slow ingest
		mu.Lock()
		for _, m := range msgs {
			seen[m.Topic+" "+string(m.Payload)]++
		}
		mu.Unlock()
		for _, m := range msgs {
			br, _, _ := event.ParseTopic(m.Topic)
			if err := c.Ack(ctx, event.Ack{V: event.Version, Branch: br, Seq: 1}); err != nil {
				return err
			}
		}
		handled.Add(int64(len(msgs)))
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); _ = c.Run(ctx, h) }()
	defer func() { cancel(); <-ran }()
	require.Eventually(t, c.Ready, 10*time.Second, 10*time.Millisecond, "subscribed")

	pubCfg, err := b.PKI.TLSConfig(b.Cloud)
	require.NoError(t, err)
	pub := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("flood-pub").SetTLSConfig(pubCfg))
	tok := pub.Connect()
	require.True(t, tok.WaitTimeout(10*time.Second))
	require.NoError(t, tok.Error())
	defer pub.Disconnect(100)
	var acks atomic.Int64
	sub := pub.Subscribe(event.AckTopic("+"), 1, func(paho.Client, paho.Message) { acks.Add(1) })
	require.True(t, sub.WaitTimeout(10*time.Second))
	require.NoError(t, sub.Error())

	time.Sleep(100 * time.Millisecond)
	base := runtime.NumGoroutine()
	var most atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tk := time.NewTicker(2 * time.Millisecond)
		defer tk.Stop()
		for {
			if n := int64(runtime.NumGoroutine()); n > most.Load() {
				most.Store(n)
			}
			select {
			case <-stop:
				return
			case <-tk.C:
			}
		}
	}()
	toks := make([]paho.Token, 0, branches)
	for i := range branches {
		br := fmt.Sprintf("FLD-%05d", i)
		toks = append(toks, pub.Publish(event.EventsTopic(br), 1, false, fmt.Appendf(nil, `{"n":%d}`, i)))
	}
	for _, tk := range toks {
		require.True(t, tk.WaitTimeout(60*time.Second))
		require.NoError(t, tk.Error())
	}
	require.Eventually(t, func() bool { return handled.Load() >= branches }, 60*time.Second, 20*time.Millisecond,
		"handled %d of %d", handled.Load(), branches)
	require.Eventually(t, func() bool { return acks.Load() >= branches }, 30*time.Second, 20*time.Millisecond,
		"acks received %d of %d", acks.Load(), branches)
	close(stop)
	<-sampled

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, branches, "every batch handled")
	for k, n := range seen {
		require.Equal(t, 1, n, "%s handled once", k)
	}
	grew := most.Load() - int64(base)
	t.Logf("goroutines: %d before the flood, at most %d during it (+%d)", base, most.Load(), grew)
	require.Less(t, grew, int64(30), "the inbound path is bounded, not a goroutine per message")
}
