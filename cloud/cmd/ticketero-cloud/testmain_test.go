package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMain gives the programs these tests start a first-admin password, so
// none writes a generated one to a file in the temporary directory.
func TestMain(m *testing.M) {
	_ = os.Setenv("TICKETERO_ADMIN_PASSWORD", "test-admin-password")
	os.Exit(m.Run())
}

// envConfig completes c, a serve configuration written in the test, with the
// parts read from the environment (t.Setenv), as ParseServe does.
func envConfig(t *testing.T, c Config) Config {
	t.Helper()
	require.NoError(t, c.readEnv(os.Getenv))
	return c
}
