package event_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
)

func TestBrokerTLS(t *testing.T) {
	c, err := event.BrokerTLS("ssl://abc-ats.iot.sa-east-1.amazonaws.com:443", "", "", "")
	require.NoError(t, err)
	assert.Equal(t, []string{event.ALPNIoT}, c.NextProtos, "IoT Core on 443 needs ALPN")
	assert.Equal(t, "abc-ats.iot.sa-east-1.amazonaws.com", c.ServerName)

	c, err = event.BrokerTLS("mqtts://127.0.0.1:8883", "", "", "")
	require.NoError(t, err)
	assert.Empty(t, c.NextProtos)
	assert.GreaterOrEqual(t, c.MinVersion, uint16(0x0303), "TLS 1.2 or newer")

	bad := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(bad, []byte("not a certificate"), 0o600))
	_, err = event.BrokerTLS("mqtts://127.0.0.1:8883", "", "", bad)
	assert.ErrorContains(t, err, "no certificate")
	_, err = event.BrokerTLS("mqtts://127.0.0.1:8883", "missing.pem", "missing-key.pem", "")
	assert.ErrorContains(t, err, "client certificate")
}
