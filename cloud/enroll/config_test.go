package enroll_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/enroll"
)

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := testCA(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ca.pem"), certPEM, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ca-key.pem"), keyPEM, 0o600))
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, tc := range []struct {
		name string
		env  func(string) string
		bad  string
	}{
		{"disabled", env(), ""},
		{"local ca", env("TICKETERO_ENROLL_PROVISIONER", "local-ca", "TICKETERO_ENROLL_CA_CERT", filepath.Join(dir, "ca.pem"),
			"TICKETERO_ENROLL_CA_KEY", filepath.Join(dir, "ca-key.pem"), "TICKETERO_ENROLL_BROKER", "mqtts://broker:8883", "TICKETERO_ENROLL_VALIDITY", "720h"), ""},
		{"no broker", env("TICKETERO_ENROLL_PROVISIONER", "local-ca", "TICKETERO_ENROLL_CA_CERT", "a", "TICKETERO_ENROLL_CA_KEY", "b"), "TICKETERO_ENROLL_BROKER"},
		{"bad validity", env("TICKETERO_ENROLL_VALIDITY", "ninety days"), "TICKETERO_ENROLL_VALIDITY"},
		{"iot without policy", env("TICKETERO_ENROLL_PROVISIONER", "aws-iot", "TICKETERO_IOT_CA_FILE", "x"), "TICKETERO_IOT_POLICY"},
		{"iot bad port", env("TICKETERO_ENROLL_PROVISIONER", "aws-iot", "TICKETERO_IOT_POLICY", "p", "TICKETERO_IOT_CA_FILE", "x", "TICKETERO_IOT_PORT", "1883"), "TICKETERO_IOT_PORT"},
		{"unknown", env("TICKETERO_ENROLL_PROVISIONER", "vault"), "TICKETERO_ENROLL_PROVISIONER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := enroll.ParseEnv(tc.env)
			if tc.bad != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.bad)
				return
			}
			require.NoError(t, err)
			h, err := enroll.New(context.Background(), c, nil, nil, nil)
			require.NoError(t, err)
			if c.Provisioner == "" {
				assert.Nil(t, h)
				return
			}
			require.NotNil(t, h)
			assert.Equal(t, "local-ca", h.Provisioner.Name())
		})
	}
}
