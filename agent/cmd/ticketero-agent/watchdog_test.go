package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeNotifiesSystemd: the real agent, started as systemd starts it
// (NOTIFY_SOCKET, WATCHDOG_USEC), says READY=1 once it serves and then pings
// WATCHDOG=1 at half the watchdog interval (agent/health tests when the
// pings stop).
func TestServeNotifiesSystemd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := MustBinary(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	require.NoError(t, err)
	defer c.Close()
	data := filepath.Join(dir, "data")
	cmd := exec.Command(bin, "serve", "--data", data, "--http", "127.0.0.1:0", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "TICKETERO_BRANCH=SCL-001", "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=400000")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	read := func() string {
		b := make([]byte, 256)
		require.NoError(t, c.SetReadDeadline(time.Now().Add(20*time.Second)))
		n, err := c.Read(b)
		require.NoError(t, err)
		return string(b[:n])
	}
	assert.Equal(t, "READY=1\nWATCHDOG=1", read())
	start := time.Now()
	assert.Equal(t, "WATCHDOG=1", read())
	assert.Equal(t, "WATCHDOG=1", read())
	t.Logf("two pings in %s (WatchdogSec 400ms)", time.Since(start))
}
