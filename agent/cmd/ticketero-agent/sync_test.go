package main

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSyncFlags(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c := DefaultConfig()
	require.NoError(t, c.Parse([]string{"--branch", "SCL-001"}, env(nil), io.Discard))
	assert.Empty(t, c.Sync.MQTT, "no broker: standalone")

	c = DefaultConfig()
	err := c.Parse([]string{"--branch", "SCL-001", "--mqtt", "mqtts://broker:8883"}, env(nil), io.Discard)
	assert.ErrorContains(t, err, "cert")
	c = DefaultConfig()
	err = c.Parse([]string{"--branch", "SCL-001", "--mqtt", "tcp://broker:1883", "--cert", "c", "--key", "k", "--ca", "a"}, env(nil), io.Discard)
	assert.ErrorContains(t, err, "scheme")

	c = DefaultConfig()
	require.NoError(t, c.Parse([]string{"--branch", "SCL-001", "--mqtt-ack-timeout", "3s"}, env(map[string]string{
		"TICKETERO_MQTT": "ssl://x-ats.iot.us-east-1.amazonaws.com:443", "TICKETERO_CERT": "c.pem",
		"TICKETERO_KEY": "k.pem", "TICKETERO_CA": "ca.pem"}), io.Discard))
	assert.Equal(t, "ssl://x-ats.iot.us-east-1.amazonaws.com:443", c.Sync.MQTT)
	assert.Equal(t, "c.pem", c.Sync.Cert)
	assert.Equal(t, "3s", c.Sync.AckTimeout.String())
}
