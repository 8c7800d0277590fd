package event

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
)

// ALPNIoT is the ALPN protocol AWS IoT Core requires for MQTT over TLS on 443.
const ALPNIoT = "x-amzn-mqtt-ca"

// BrokerTLS builds the TLS configuration every Ticketero MQTT client uses for
// rawURL (mqtts://host:port): TLS 1.2 or newer, the broker's CA from caFile,
// the client certificate (CN = branch, or the cloud's) from certFile/keyFile,
// and ALPN x-amzn-mqtt-ca on port 443. An empty caFile keeps the system roots;
// empty certFile and keyFile send no client certificate.
func BrokerTLS(rawURL, certFile, keyFile, caFile string) (*tls.Config, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("mqtt: url %q: %w", rawURL, err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}
	if caFile != "" {
		pem, err := os.ReadFile(caFile) // #nosec G304 -- path from the operator's configuration (flag, env or data directory), never from a request
		if err != nil {
			return nil, fmt.Errorf("mqtt: ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mqtt: ca %s: no certificate", caFile)
		}
		cfg.RootCAs = pool
	}
	if certFile != "" || keyFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt: client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if u.Port() == "443" {
		cfg.NextProtos = []string{ALPNIoT}
	}
	return cfg, nil
}
