package postgres_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/shared/testkit/eventgen"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

// listenOn opens a connection LISTENing on channel.
func listenOn(t *testing.T, channel string) *pgx.Conn {
	t.Helper()
	if dbErr != nil {
		pgtest.Skip(t, dbErr)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(ctx) })
	_, err = conn.Exec(ctx, "LISTEN "+channel)
	require.NoError(t, err)
	return conn
}

// payloads collects the notifications that arrive until none comes for quiet.
func payloads(t *testing.T, conn *pgx.Conn, quiet time.Duration) []string {
	t.Helper()
	var out []string
	for {
		ctx, cancel := context.WithTimeout(context.Background(), quiet)
		n, err := conn.WaitForNotification(ctx)
		cancel()
		if err != nil {
			return out
		}
		out = append(out, n.Payload)
	}
}

func TestChangeFlusherCoalescesAnInterval(t *testing.T) {
	conn := listenOn(t, "test_changes_coalesce")
	f := postgres.NewChangeFlusher(testDB, "test_changes_coalesce", 100*time.Millisecond, nil)
	defer f.Close()
	for range 3 {
		for _, b := range []string{"CO-002", "CO-001", "CO-003"} {
			f.Changed(b)
		}
	}
	got := payloads(t, conn, 500*time.Millisecond)
	require.Len(t, got, 1, "one NOTIFY for the interval's changes")
	assert.Equal(t, "CO-001,CO-002,CO-003", got[0], "each branch once")

	f.Changed("CO-004")
	assert.Equal(t, []string{"CO-004"}, payloads(t, conn, 500*time.Millisecond), "the next interval is announced too")
}

func TestChangeFlusherSplitsLongPayloads(t *testing.T) {
	conn := listenOn(t, "test_changes_split")
	f := postgres.NewChangeFlusher(testDB, "test_changes_split", time.Hour, nil)
	want := map[string]bool{}
	for i := range 700 { // 700 IDs of 32 bytes: about 23,000 bytes
		id := fmt.Sprintf("SPLIT-%026d", i)
		want[id] = true
		f.Changed(id)
	}
	f.Flush(context.Background())
	got := payloads(t, conn, 500*time.Millisecond)
	require.Len(t, got, 3, "23,000 bytes need three payloads under 8000")
	seen := map[string]bool{}
	for _, p := range got {
		assert.Less(t, len(p), 8000)
		for _, id := range strings.Split(p, cloud.ChangesSeparator) {
			assert.False(t, seen[id], "announced twice: %s", id)
			seen[id] = true
		}
	}
	assert.Equal(t, want, seen)
	require.NoError(t, f.Close())
	assert.Empty(t, payloads(t, conn, 200*time.Millisecond), "nothing left to announce")
}

func TestChangeFlusherFlushesOnClose(t *testing.T) {
	conn := listenOn(t, "test_changes_close")
	f := postgres.NewChangeFlusher(testDB, "test_changes_close", time.Hour, nil)
	f.Changed("CL-001")
	f.Changed("CL-002")
	require.NoError(t, f.Close())
	assert.Equal(t, []string{"CL-001,CL-002"}, payloads(t, conn, 300*time.Millisecond), "pending changes announced on close")
	f.Changed("CL-003")
	assert.Equal(t, []string{"CL-003"}, payloads(t, conn, 300*time.Millisecond), "after close, at once")
}

func TestIngestCoalescesBranchesAndListenerSplits(t *testing.T) {
	s := postgres.NewEventStore(testDB, nil, postgres.WithChangeFlush(300*time.Millisecond))
	if dbErr != nil {
		pgtest.Skip(t, dbErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l := &postgres.Listener{Pool: testDB, Channel: cloud.ChangesChannel}
	up := make(chan struct{}, 1)
	got := make(chan string, 16)
	go l.Listen(ctx, func(ok bool) {
		if ok {
			up <- struct{}{}
		}
	}, func(p string) { got <- p })
	<-up
	for _, b := range []string{"MUL-002", "MUL-001"} {
		_, err := s.Ingest(ctx, batch(b, eventgen.New(b, 2).Take(5)))
		require.NoError(t, err)
	}
	var ids []string
	for len(ids) < 2 {
		select {
		case p := <-got:
			ids = append(ids, p)
		case <-ctx.Done():
			t.Fatalf("notifications: got %v", ids)
		}
	}
	sort.Strings(ids)
	assert.Equal(t, []string{"MUL-001", "MUL-002"}, ids, "one entry per branch")
	require.NoError(t, s.Close())
}
