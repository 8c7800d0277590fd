package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/agent/sqlite"
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

func TestPINPolicy(t *testing.T) {
	for _, pin := range []string{"240681", "90210345", "000001", "135790", "123457", "824613579012"} {
		assert.NoError(t, sqlite.ValidatePIN(pin), pin)
	}
	for _, pin := range []string{"", "1234", "24068", "111111", "123456", "987654", "890123", "0000000", "24068a", "2406810000000"} {
		err := sqlite.ValidatePIN(pin)
		assert.Equal(t, "executive.pin_policy", queue.ErrorReason(err), pin)
	}
}

// TestAdminCommandLeavesEvents: the branch-local admin command (run beside
// the agent) leaves executive.admin events naming the OS user, which the
// agent numbers into its outbox.
func TestAdminCommandLeavesEvents(t *testing.T) {
	e := MustStore(t, 3)
	ctx := context.Background()
	a, err := sqlite.OpenAdmin(ctx, e.path)
	require.NoError(t, err)
	defer a.Close()
	a.Cost, a.User = bcrypt.MinCost, "operador"
	require.NoError(t, a.AddExecutive(ctx, queue.Executive{ID: "E05", Name: "Rosa Díaz", Services: []string{"C"}}, "240681"))
	assert.Equal(t, "executive.exists", queue.ErrorReason(a.AddExecutive(ctx, queue.Executive{ID: "E05", Name: "Otra", Services: []string{"C"}}, "240681")))
	assert.Equal(t, "executive.pin_policy", queue.ErrorReason(a.SetPIN(ctx, "E05", "1234")))
	require.NoError(t, a.SetPIN(ctx, "E05", "531962"))
	require.NoError(t, a.RemoveExecutive(ctx, "E05"))
	assert.Equal(t, "executive.not_found", queue.ErrorReason(a.RemoveExecutive(ctx, "E05")))

	// Any write of the agent (or its 5 s tick) moves them to the outbox.
	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "C"})
	require.NoError(t, err)
	evs, err := e.st.Pending(ctx, 0, 100)
	require.NoError(t, err)
	var got []event.Admin
	for _, ev := range evs {
		if ev.Type == event.ExecutiveAdmin {
			p, err := ev.Payload()
			require.NoError(t, err)
			got = append(got, *p.(*event.Admin))
		}
	}
	op := &event.Actor{Kind: event.ActorAdmin, User: "operador"}
	assert.Equal(t, []event.Admin{
		{Action: event.AdminAdded, Executive: "E05", Name: "Rosa Díaz", Services: []string{"C"}, Actor: op},
		{Action: event.AdminPINSet, Executive: "E05", Actor: op},
		{Action: event.AdminRemoved, Executive: "E05", Actor: op},
	}, got, "only what changed something, once")
	assertGapFree(t, outboxSeqs(t, e.st), 1)
	var left int
	require.NoError(t, e.st.DB().QueryRow("SELECT count(*) FROM admin_log").Scan(&left))
	assert.Zero(t, left)
}

// TestLegacyShortPINStillWorksAndIsFlagged: a 4-digit PIN from an older
// version signs in and the session says to change it; a new PIN clears it.
func TestLegacyShortPINStillWorksAndIsFlagged(t *testing.T) {
	e := MustStore(t, 3)
	ctx := context.Background()
	MustExecutive(t, e.path, "E01", "C")
	h, err := bcrypt.GenerateFromPassword([]byte("4321"), bcrypt.MinCost)
	require.NoError(t, err)
	w, err := sql.Open("sqlite3", e.path)
	require.NoError(t, err)
	_, err = w.Exec("UPDATE executives SET pin_hash = ? WHERE id = 'E01'", string(h))
	require.NoError(t, err)
	require.NoError(t, w.Close())

	tok, si, err := e.st.Login(ctx, "E01", "4321", 1, "10.0.0.1")
	require.NoError(t, err)
	assert.True(t, si.PINChangeRequired)
	si, err = e.st.Session(ctx, tok)
	require.NoError(t, err)
	assert.True(t, si.PINChangeRequired, "also when the terminal reloads")
	require.NoError(t, e.st.Logout(ctx, tok))

	a, err := sqlite.OpenAdmin(ctx, e.path)
	require.NoError(t, err)
	a.Cost = bcrypt.MinCost
	require.NoError(t, a.SetPIN(ctx, "E01", "531962"))
	require.NoError(t, a.Close())
	_, si, err = e.st.Login(ctx, "E01", "531962", 1, "10.0.0.1")
	require.NoError(t, err)
	assert.False(t, si.PINChangeRequired)
}

// TestSessionIdleTimeout: a session nobody used for the idle limit ends at the
// writer's next pass (an operation or its 5 s tick), as the system, and its
// token no longer works; one in use lives on.
func TestSessionIdleTimeout(t *testing.T) {
	e := MustStore(t, 3)
	ctx := context.Background()
	MustExecutive(t, e.path, "E01", "C")
	MustExecutive(t, e.path, "E02", "C")
	idle := e.login(t, "E01", 1)
	busy := e.login(t, "E02", 2)
	for range 4 {
		e.clock.Add(35 * time.Minute)
		_, err := e.st.Session(ctx, busy)
		require.NoError(t, err)
	}
	_, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C"})
	require.NoError(t, err)
	_, err = e.st.Session(ctx, idle)
	assert.Equal(t, "session.required", queue.ErrorReason(err))
	_, err = e.st.Session(ctx, busy)
	assert.NoError(t, err)

	evs, err := e.st.Pending(ctx, 0, 100)
	require.NoError(t, err)
	var out *event.Session
	for _, ev := range evs {
		if ev.Type == event.ExecutiveLoggedOut {
			p, err := ev.Payload()
			require.NoError(t, err)
			out = p.(*event.Session)
		}
	}
	require.NotNil(t, out)
	assert.Equal(t, event.Session{Executive: "E01", Name: "Ejecutivo E01", Counter: 1, Reason: agent.EndIdle,
		Actor: &event.Actor{Kind: event.ActorSystem}}, *out)
}

// TestConfigAppliedNamesHQUser: config.applied names the HQ user who published.
func TestConfigAppliedNamesHQUser(t *testing.T) {
	e := MustStore(t, 2)
	ctx := context.Background()
	cfg := event.Config{V: 1, Branch: "SCL-001", Version: 3, TimeZone: "America/Santiago", Services: queue.DefaultServices(),
		Counters: []queue.Counter{{Number: 1}}, Rules: event.DefaultRules(), PublishedBy: "jefa@banco.cl"}
	require.NoError(t, e.st.ApplyConfig(ctx, cfg))
	evs, err := e.st.Pending(ctx, 0, 100)
	require.NoError(t, err)
	var got *event.ConfigRef
	for _, ev := range evs {
		if ev.Type == event.ConfigApplied {
			p, err := ev.Payload()
			require.NoError(t, err)
			got = p.(*event.ConfigRef)
		}
	}
	require.NotNil(t, got)
	assert.Equal(t, &event.Actor{Kind: event.ActorHQ, User: "jefa@banco.cl"}, got.Actor)
}
