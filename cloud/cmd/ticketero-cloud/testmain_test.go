package main

import (
	"os"
	"testing"
)

// TestMain gives the programs these tests start a first-admin password, so
// none writes a generated one to a file in the temporary directory.
func TestMain(m *testing.M) {
	_ = os.Setenv("TICKETERO_ADMIN_PASSWORD", "test-admin-password")
	os.Exit(m.Run())
}
