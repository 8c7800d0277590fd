package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

func TestDataFilesOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755), "the directory exists already, as /var/lib/ticketero does")

	e := &env{path: filepath.Join(dir, "agent.db"), key: MustKey(t), clock: newClock(t0)}
	e.open(t, 2)
	_, _, err := e.st.Issue(context.Background(), agent.TicketRequest{Service: "C"})
	require.NoError(t, err)
	for _, name := range []string{"agent.db", "agent.db-wal", "agent.db-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err, name)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
	}

	// A file an older version left world-readable is tightened at open.
	require.NoError(t, e.st.Close())
	require.NoError(t, os.Chmod(e.path, 0o644))
	e.open(t, 2)
	fi, err := os.Stat(e.path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

func TestActorOnTheWire(t *testing.T) {
	e := MustStore(t, 3)
	ctx := context.Background()
	MustExecutive(t, e.path, "E01", "C")
	MustExecutive(t, e.path, "E02", "P")
	tok1 := e.login(t, "E01", 1)
	tok2 := e.login(t, "E02", 2)
	tk, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C"})
	require.NoError(t, err)

	_, err = e.st.Act(ctx, tok2, agent.Act{Ticket: tk.ID, Action: queue.ActionCancel})
	assert.Equal(t, "ticket.not_your_service", queue.ErrorReason(err), "E02 does not serve C")
	_, err = e.st.Act(ctx, tok1, agent.Act{Ticket: tk.ID, Action: queue.ActionCancel})
	require.NoError(t, err)

	evs, err := e.st.Pending(ctx, 0, 100)
	require.NoError(t, err)
	last := evs[len(evs)-1]
	require.Equal(t, event.TicketCancelled, last.Type)
	p, err := last.Payload()
	require.NoError(t, err)
	assert.Equal(t, &event.Actor{Kind: event.ActorExecutive, Executive: "E01", Counter: 1}, p.(*event.Cancelled).Actor)
}
