package enroll_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/agent/backup"
	agentenroll "github.com/ticketero/ticketero/agent/enroll"
	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// publish sends every pending event of st to the cloud's real ingest, as the
// relay would, and acks the box.
func publish(t *testing.T, st *sqlite.Store, es *postgres.EventStore, branch string) uint64 {
	t.Helper()
	ctx := context.Background()
	ss, err := st.SyncState(ctx)
	require.NoError(t, err)
	evs, err := st.Pending(ctx, ss.LastAck, 10000)
	require.NoError(t, err)
	if len(evs) == 0 {
		return ss.LastAck
	}
	res, err := es.Ingest(ctx, event.Batch{V: event.Version, Branch: branch, Events: evs})
	require.NoError(t, err)
	require.Zero(t, res.Gap, "the cloud sees no gap")
	require.NoError(t, st.Ack(ctx, res.Applied))
	return res.Applied
}

// enrolReplacement enrols a new box for branch with a fresh code, in a new
// directory, and returns it with the answer (its resume state required).
func enrolReplacement(t *testing.T, e *env, branch string) (string, agentenroll.Result) {
	t.Helper()
	ctx := context.Background()
	c, err := e.store.CreateCode(ctx, queue.BranchID(branch), "admin@hq", time.Hour)
	require.NoError(t, err)
	dir := t.TempDir()
	res, err := (&agentenroll.Client{Cloud: e.srv.URL, Now: e.clk.Now}).Enroll(ctx, dir, c.Code, "")
	require.NoError(t, err)
	require.NotNil(t, res.Resume)
	return dir, res
}

// TestReplacementBoxEndToEnd: a branch box issues tickets that reach the
// cloud's real ingest, is backed up mid-day, issues more and dies. A new box
// enrols with a fresh code (getting the cloud's resume state), restores the
// backup or starts empty, seeds itself and goes on: next number after the
// last the cloud has, next seq after the cloud's applied seq, and its events
// are accepted by the cloud with no gap and no duplicate ticket number.
func TestReplacementBoxEndToEnd(t *testing.T) {
	for _, fromBackup := range []bool{true, false} {
		name := map[bool]string{true: "from backup", false: "from the cloud only"}[fromBackup]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			branch := map[bool]string{true: "REPL-001", false: "REPL-002"}[fromBackup]
			addBranch(t, branch)
			es := postgres.NewEventStore(db(t), nil)
			key := make([]byte, sqlite.KeySize)
			_, _ = rand.Read(key)
			now := func() time.Time { return e.clk.Now() }

			oldDir := t.TempDir()
			old, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(oldDir, "agent.db"), Branch: branch, DataKey: key, Now: now})
			require.NoError(t, err)
			for i := 0; i < 8; i++ {
				_, _, err := old.Issue(ctx, agent.TicketRequest{Service: []string{"C", "P"}[i%2], Channel: "kiosk"})
				require.NoError(t, err)
			}
			publish(t, old, es, branch)
			nightly := filepath.Join(t.TempDir(), "nightly.db")
			require.NoError(t, backup.Copy(ctx, filepath.Join(oldDir, "agent.db"), nightly))
			var late []agent.TicketInfo
			for i := 0; i < 3; i++ {
				tk, _, err := old.Issue(ctx, agent.TicketRequest{Service: "C", Channel: "kiosk"})
				require.NoError(t, err)
				late = append(late, tk)
			}
			applied := publish(t, old, es, branch)
			require.Equal(t, uint64(11), applied)
			require.NoError(t, old.Close()) // the box dies

			newDir, res := enrolReplacement(t, e, branch)
			assert.Equal(t, uint64(11), res.Resume.AppliedSeq)
			assert.Equal(t, map[string]int{"C": 7, "P": 4}, res.Resume.Numbers)
			assert.Len(t, res.Resume.Open, 11)

			path := filepath.Join(newDir, "agent.db")
			if fromBackup {
				_, err := backup.Restore(ctx, nightly, path, branch)
				require.NoError(t, err)
			}
			rep, err := sqlite.SeedResume(ctx, path, branch, sqlite.ResumeSeedOf(*res.Resume))
			require.NoError(t, err)
			assert.Equal(t, uint64(12), rep.NextSeq)

			box, err := sqlite.Open(ctx, sqlite.Config{Path: path, Branch: branch, DataKey: key, Now: now})
			require.NoError(t, err)
			defer box.Close()
			tk, _, err := box.Issue(ctx, agent.TicketRequest{Service: "C", Channel: "kiosk"})
			require.NoError(t, err)
			assert.Equal(t, 8, tk.Number, "C-008 after the cloud's C-007")
			for _, l := range late {
				_, err := box.Ticket(ctx, l.ID)
				require.NoError(t, err, "C-%03d, issued after the backup, is waiting on the new box", l.Number)
			}
			assert.Equal(t, uint64(12), publish(t, box, es, branch), "the cloud applies the new box's events: no gap, no reused seq")
			var n, distinct int
			require.NoError(t, db(t).QueryRow(ctx, `SELECT count(*), count(DISTINCT (origin_service, number)) FROM tickets WHERE branch = $1`, branch).Scan(&n, &distinct))
			assert.Equal(t, 12, n)
			assert.Equal(t, n, distinct, "no duplicate number")
		})
	}
}
