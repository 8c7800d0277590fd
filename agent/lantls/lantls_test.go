package lantls

import (
	"crypto/x509"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEnsureNamesEachAddressOnce: the listen address is often one of the
// interface addresses too; the certificate lists it once.
func TestEnsureNamesEachAddressOnce(t *testing.T) {
	dir := t.TempDir()
	lan := net.ParseIP("192.0.2.2")
	cfg, err := Ensure(dir, "SCL-001", []string{"localhost", "sucursal.local"},
		[]net.IP{net.IPv4(127, 0, 0, 1), lan, net.IPv6loopback, lan.To4()}, time.Now())
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	require.NoError(t, err)
	n := 0
	for _, ip := range leaf.IPAddresses {
		if ip.Equal(lan) {
			n++
		}
	}
	assert.Equal(t, 1, n, "%v", leaf.IPAddresses)
	assert.Len(t, leaf.IPAddresses, 3)
}
