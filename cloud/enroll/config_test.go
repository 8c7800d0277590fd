package enroll_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/enroll"
)

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := testCA(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ca.pem"), certPEM, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ca-key.pem"), keyPEM, 0o600))
	for _, tc := range []struct {
		name string
		c    enroll.Config
		bad  string
	}{
		{"disabled", enroll.Config{}, ""},
		{"local ca", enroll.Config{Provisioner: "local-ca", CACert: filepath.Join(dir, "ca.pem"),
			CAKey: filepath.Join(dir, "ca-key.pem"), Broker: "mqtts://broker:8883", Validity: 720 * time.Hour}, ""},
		{"no broker", enroll.Config{Provisioner: "local-ca", CACert: "a", CAKey: "b"}, "TICKETERO_ENROLL_BROKER"},
		{"long validity", enroll.Config{Provisioner: "local-ca", CACert: "a", CAKey: "b", Broker: "mqtts://broker:8883", Validity: 900 * 24 * time.Hour}, "TICKETERO_ENROLL_VALIDITY"},
		{"iot without policy", enroll.Config{Provisioner: "aws-iot", IoTCAFile: "x"}, "TICKETERO_IOT_POLICY"},
		{"iot bad port", enroll.Config{Provisioner: "aws-iot", IoTPolicy: "p", IoTCAFile: "x", IoTPort: 1883}, "TICKETERO_IOT_PORT"},
		{"unknown", enroll.Config{Provisioner: "vault"}, "TICKETERO_ENROLL_PROVISIONER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			err := c.Validate()
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
