package mqtt_test

import (
	"crypto/tls"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
)

func dial(t *testing.T, b *mqtttest.Broker, id string, cfg *tls.Config) (paho.Client, error) {
	t.Helper()
	opts := paho.NewClientOptions().AddBroker(b.URL()).SetClientID(id).SetTLSConfig(cfg).
		SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	c := paho.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return nil, assert.AnError
	}
	if tok.Error() != nil {
		return nil, tok.Error()
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c, nil
}

func branchClient(t *testing.T, b *mqtttest.Broker, branch string) paho.Client {
	t.Helper()
	cfg, err := b.PKI.TLSConfig(b.MustBranchCert(t, branch))
	require.NoError(t, err)
	c, err := dial(t, b, branch, cfg)
	require.NoError(t, err)
	return c
}

func TestBrokerACL(t *testing.T) {
	b := mqtttest.Start(t)

	t.Run("no certificate refused", func(t *testing.T) {
		cfg, err := b.PKI.TLSConfig(mqtttest.Cert{})
		require.NoError(t, err)
		_, err = dial(t, b, "anonymous", cfg)
		assert.Error(t, err)
	})

	t.Run("foreign CA refused", func(t *testing.T) {
		other, err := mqtttest.NewPKI(t.TempDir())
		require.NoError(t, err)
		cert, err := other.Issue("rogue", "SCL-001", false)
		require.NoError(t, err)
		cfg, err := other.TLSConfig(cert)
		require.NoError(t, err)
		trust, err := b.PKI.TLSConfig(mqtttest.Cert{})
		require.NoError(t, err)
		cfg.RootCAs = trust.RootCAs
		_, err = dial(t, b, "SCL-001", cfg)
		assert.Error(t, err)
	})

	cloudCfg, err := b.PKI.TLSConfig(b.Cloud)
	require.NoError(t, err)
	cloudC, err := dial(t, b, "cloud-acl", cloudCfg)
	require.NoError(t, err)
	got := make(chan string, 16)
	require.True(t, cloudC.Subscribe("ticketero/#", 1, func(_ paho.Client, m paho.Message) {
		got <- m.Topic() + " " + string(m.Payload())
	}).WaitTimeout(5*time.Second))

	a := branchClient(t, b, "SCL-001")

	t.Run("own topic allowed", func(t *testing.T) {
		require.True(t, a.Publish(event.EventsTopic("SCL-001"), 1, false, "own").WaitTimeout(5*time.Second))
		select {
		case m := <-got:
			assert.Equal(t, event.EventsTopic("SCL-001")+" own", m)
		case <-time.After(5 * time.Second):
			t.Fatal("the cloud did not receive the branch's own publish")
		}
	})

	t.Run("publish to another branch dropped", func(t *testing.T) {
		a.Publish(event.EventsTopic("SCL-002"), 1, false, "forged").WaitTimeout(2 * time.Second)
		a.Publish(event.StatusTopic("SCL-002"), 1, false, "forged").WaitTimeout(2 * time.Second)
		// A marker on its own topic proves the forged ones would have arrived first.
		branchClient(t, b, "SCL-003").Publish(event.EventsTopic("SCL-003"), 1, false, "marker").WaitTimeout(5 * time.Second)
		select {
		case m := <-got:
			assert.Equal(t, event.EventsTopic("SCL-003")+" marker", m)
		case <-time.After(5 * time.Second):
			t.Fatal("marker not received")
		}
	})

	t.Run("subscribe to another branch gets nothing", func(t *testing.T) {
		spy := branchClient(t, b, "SCL-004")
		seen := make(chan string, 4)
		tok := spy.Subscribe(event.AckTopic("SCL-005"), 1, func(_ paho.Client, m paho.Message) { seen <- string(m.Payload()) })
		require.True(t, tok.WaitTimeout(5*time.Second))
		own := make(chan string, 4)
		spy.Subscribe(event.AckTopic("SCL-004"), 1, func(_ paho.Client, m paho.Message) { own <- string(m.Payload()) }).WaitTimeout(5 * time.Second)
		cloudC.Publish(event.AckTopic("SCL-005"), 1, false, "secret").WaitTimeout(5 * time.Second)
		cloudC.Publish(event.AckTopic("SCL-004"), 1, false, "mine").WaitTimeout(5 * time.Second)
		select {
		case m := <-own:
			assert.Equal(t, "mine", m)
		case <-time.After(5 * time.Second):
			t.Fatal("own ack not received")
		}
		select {
		case m := <-seen:
			t.Fatalf("branch SCL-004 read SCL-005's topic: %q", m)
		case <-time.After(200 * time.Millisecond):
		}
	})
}
