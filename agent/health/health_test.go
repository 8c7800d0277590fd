package health_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent/health"
	"github.com/ticketero/ticketero/agent/sqlite"
)

// notifySocket is systemd's end of sd_notify: a unixgram listener whose
// datagrams arrive on the returned channel.
func notifySocket(t *testing.T) (string, <-chan string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	ch := make(chan string, 100)
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := c.Read(b)
			if err != nil {
				close(ch)
				return
			}
			ch <- string(b[:n])
		}
	}()
	return path, ch
}

// stuckLoop stands for the relay loop; stuck injects a hang.
type stuckLoop struct{ stuck atomic.Bool }

func (l *stuckLoop) Alive(time.Time) error {
	if l.stuck.Load() {
		return errors.New("relay loop stuck: 1m0s late")
	}
	return nil
}

// next waits for the next datagram (or none within d: "").
func next(ch <-chan string, d time.Duration) string {
	select {
	case s := <-ch:
		return s
	case <-time.After(d):
		return ""
	}
}

// drain empties ch, returning what was queued.
func drain(ch <-chan string) []string {
	var out []string
	for {
		select {
		case s := <-ch:
			out = append(out, s)
		default:
			return out
		}
	}
}

// The watchdog says READY=1 then WATCHDOG=1 while the LAN API answers,
// SQLite takes a commit and the relay loop is alive; the pings stop when the
// loop is stuck (and resume when it is not), when /readyz fails, and when
// the store can no longer write.
func TestWatchdog(t *testing.T) {
	k := make([]byte, sqlite.KeySize)
	_, _ = rand.Read(k)
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "agent.db"), Branch: "SCL-001", DataKey: k})
	require.NoError(t, err)
	var ready atomic.Int32
	ready.Store(http.StatusOK)
	lan := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			w.WriteHeader(int(ready.Load()))
		}
	}))
	defer lan.Close()
	loop := &stuckLoop{}
	sock, got := notifySocket(t)
	w := &health.Watchdog{Checker: health.Checker{LAN: lan.URL, Store: st, Loops: []health.Loop{loop}, Timeout: time.Second},
		Socket: sock, Every: 50 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done; _ = st.Close() }()

	assert.Equal(t, "READY=1\nWATCHDOG=1", next(got, 5*time.Second))
	assert.Equal(t, "WATCHDOG=1", next(got, 5*time.Second))

	quiet := func(why string) {
		t.Helper()
		time.Sleep(200 * time.Millisecond) // a check under way may still ping
		drain(got)
		assert.Empty(t, next(got, 500*time.Millisecond), "no ping: %s", why)
	}
	loop.stuck.Store(true)
	quiet("relay loop stuck")
	loop.stuck.Store(false)
	assert.Equal(t, "WATCHDOG=1", next(got, 5*time.Second), "pings resume")

	ready.Store(http.StatusServiceUnavailable)
	quiet("/readyz 503")
	ready.Store(http.StatusOK)
	assert.Equal(t, "WATCHDOG=1", next(got, 5*time.Second))

	require.NoError(t, st.Writable(context.Background()))
	require.NoError(t, st.Close()) // the writer is gone: nothing commits
	quiet("SQLite not writable")
	p := w.Checker.Problems(context.Background())
	require.Len(t, p, 1)
	assert.True(t, strings.HasPrefix(p[0], "SQLite: "), p[0])
}

// FromEnv reads NOTIFY_SOCKET and half of WATCHDOG_USEC, ignoring a
// watchdog meant for another process.
func TestFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	_, _, ok := health.FromEnv(env(nil))
	assert.False(t, ok)
	s, every, ok := health.FromEnv(env(map[string]string{"NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "60000000"}))
	assert.True(t, ok)
	assert.Equal(t, "/run/systemd/notify", s)
	assert.Equal(t, 30*time.Second, every)
	_, every, _ = health.FromEnv(env(map[string]string{"NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "1"}))
	assert.Equal(t, 30*time.Second, every, "another process's watchdog: the default")

	// An abstract socket (systemd's is a path, containers' often abstract).
	name := "ticketero-test-" + t.Name()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: "\x00" + name, Net: "unixgram"})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, health.Notify("@"+name, "READY=1"))
	b := make([]byte, 64)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	n, err := c.Read(b)
	require.NoError(t, err)
	assert.Equal(t, "READY=1", string(b[:n]))
	assert.Error(t, health.Notify("", "READY=1"))
}
