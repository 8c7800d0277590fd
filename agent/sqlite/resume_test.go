package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/agent/backup"
	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/shared/event"
)

// cloudView is what the cloud holds of a branch after ingesting every event
// the old box published: the resume state it would answer.
func cloudView(t *testing.T, st *sqlite.Store, day string) sqlite.ResumeSeed {
	t.Helper()
	ctx := context.Background()
	evs, err := st.Pending(ctx, 0, 100000)
	require.NoError(t, err)
	seed := sqlite.ResumeSeed{Day: day, Numbers: map[string]int{}}
	open := map[string]int{}
	for _, e := range evs {
		seed.AppliedSeq, seed.MaxSeq = e.Seq, e.Seq
		p, err := e.Payload()
		require.NoError(t, err)
		switch v := p.(type) {
		case *event.Issued:
			seed.Numbers[v.Service] = max(seed.Numbers[v.Service], v.Number)
			open[v.Ticket] = len(seed.Open)
			seed.Open = append(seed.Open, sqlite.ResumeTicket{ID: v.Ticket, OriginService: v.Service, Number: v.Number,
				Service: v.Service, Priority: v.Priority, Status: "waiting", Token: v.Token, Channel: v.Channel,
				QueuedAt: v.QueuedAt, CreatedAt: e.At})
		case *event.Called:
			seed.Open[open[v.Ticket]].Status = "called"
		}
	}
	return seed
}

func issueN(t *testing.T, st *sqlite.Store, svc string, n int) []agent.TicketInfo {
	t.Helper()
	var out []agent.TicketInfo
	for i := 0; i < n; i++ {
		tk, _, err := st.Issue(context.Background(), agent.TicketRequest{Service: svc, Channel: "kiosk"})
		require.NoError(t, err)
		out = append(out, tk)
	}
	return out
}

func seqsAfter(t *testing.T, st *sqlite.Store, after uint64) []uint64 {
	t.Helper()
	evs, err := st.Pending(context.Background(), after, 100000)
	require.NoError(t, err)
	var s []uint64
	for _, e := range evs {
		s = append(s, e.Seq)
	}
	return s
}

// TestReplacementBox: the old box issues tickets, is backed up, issues more
// (which reach the cloud) and dies. A replacement box resumes today's
// numbering and the seq with no duplicate and no gap, from the backup plus the
// cloud's state, or from the cloud's state alone.
func TestReplacementBox(t *testing.T) {
	ctx := context.Background()
	clk := newClock(t0)
	key := MustKey(t)
	dir := t.TempDir()
	oldPath := filepath.Join(dir, "old.db")
	old, err := sqlite.Open(ctx, sqlite.Config{Path: oldPath, Branch: "SCL-001", DataKey: key, Now: clk.Now})
	require.NoError(t, err)
	issueN(t, old, "C", 5)
	issueN(t, old, "P", 3)
	bak := filepath.Join(dir, "nightly.db")
	require.NoError(t, backup.Copy(ctx, oldPath, bak))
	late := issueN(t, old, "C", 4) // C-6..C-9: only in the cloud
	day := late[0].Day
	cloud := cloudView(t, old, day)
	oldState, err := old.SyncState(ctx)
	require.NoError(t, err)
	require.NoError(t, old.Close())
	require.Equal(t, uint64(12), cloud.AppliedSeq)

	check := func(t *testing.T, path string, wantRecreated int) {
		rep, err := sqlite.SeedResume(ctx, path, "SCL-001", cloud)
		require.NoError(t, err)
		assert.Equal(t, oldState.LastSeq+1, rep.NextSeq)
		assert.Equal(t, 9, rep.Numbers["C"])
		assert.Equal(t, 3, rep.Numbers["P"])
		assert.Equal(t, wantRecreated, rep.Recreated)
		assert.Zero(t, rep.Lost)
		again, err := sqlite.SeedResume(ctx, path, "SCL-001", cloud)
		require.NoError(t, err)
		assert.Zero(t, again.Recreated, "seeding is idempotent")
		assert.Equal(t, rep.NextSeq, again.NextSeq)

		st, err := sqlite.Open(ctx, sqlite.Config{Path: path, Branch: "SCL-001", DataKey: key, Now: clk.Now})
		require.NoError(t, err)
		defer st.Close()
		c := issueN(t, st, "C", 1)[0]
		p := issueN(t, st, "P", 1)[0]
		assert.Equal(t, 10, c.Number, "C resumes after C-9, no duplicate")
		assert.Equal(t, 4, p.Number, "P resumes after P-3")
		assert.Equal(t, []uint64{13, 14}, seqsAfter(t, st, cloud.AppliedSeq), "seq goes on after the cloud's, no gap, no reuse")
		for _, tk := range late {
			got, err := st.Ticket(ctx, tk.ID)
			require.NoError(t, err, "ticket %d from the cloud is on the box", tk.Number)
			assert.Equal(t, "waiting", string(got.Status))
			assert.Equal(t, tk.Token, got.Token, "the customer's Telegram link still works")
		}
		qs := func() int {
			_, queues := st.Queues(ctx)
			n := 0
			for _, q := range queues {
				n += q.Waiting
			}
			return n
		}()
		assert.Equal(t, 14, qs, "every open ticket waits on the new box")
	}
	t.Run("from backup", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "agent.db")
		_, err := backup.Restore(ctx, bak, path, "SCL-001")
		require.NoError(t, err)
		check(t, path, 4)
	})
	t.Run("from the cloud only", func(t *testing.T) {
		check(t, filepath.Join(t.TempDir(), "agent.db"), 12)
	})
	t.Run("backup ahead of the cloud", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "agent.db")
		_, err := backup.Restore(ctx, bak, path, "SCL-001")
		require.NoError(t, err)
		behind := sqlite.ResumeSeed{Day: day, AppliedSeq: 5, MaxSeq: 5, Numbers: map[string]int{"C": 5}}
		rep, err := sqlite.SeedResume(ctx, path, "SCL-001", behind)
		require.NoError(t, err)
		assert.Equal(t, uint64(9), rep.NextSeq)
		st, err := sqlite.Open(ctx, sqlite.Config{Path: path, Branch: "SCL-001", DataKey: key, Now: clk.Now})
		require.NoError(t, err)
		defer st.Close()
		assert.Equal(t, []uint64{6, 7, 8}, seqsAfter(t, st, 5), "events the cloud lacks are still sent")
	})
	t.Run("a gap the box cannot fill", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "agent.db")
		gap := sqlite.ResumeSeed{Day: day, AppliedSeq: 12, MaxSeq: 20, Numbers: map[string]int{"C": 9}}
		rep, err := sqlite.SeedResume(ctx, path, "SCL-001", gap)
		require.NoError(t, err)
		assert.Equal(t, uint64(21), rep.NextSeq, "never reuse a seq the cloud holds")
		assert.Equal(t, uint64(8), rep.Lost)
	})
	t.Run("a called ticket waits again first in line", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "agent.db")
		seed := cloud
		seed.Open = append([]sqlite.ResumeTicket(nil), cloud.Open...)
		last := len(seed.Open) - 1
		seed.Open[last].Status = "called" // C-9, called at the old box
		rep, err := sqlite.SeedResume(ctx, path, "SCL-001", seed)
		require.NoError(t, err)
		assert.Equal(t, 1, rep.Requeued)
		assert.Equal(t, oldState.LastSeq+2, rep.NextSeq, "the requeue is an event with the next seq")
		st, err := sqlite.Open(ctx, sqlite.Config{Path: path, Branch: "SCL-001", DataKey: key, Now: clk.Now})
		require.NoError(t, err)
		defer st.Close()
		evs, err := st.Pending(ctx, seed.AppliedSeq, 10)
		require.NoError(t, err)
		require.Len(t, evs, 1)
		assert.Equal(t, event.TicketRequeued, evs[0].Type)
		assert.Equal(t, seed.AppliedSeq+1, evs[0].Seq)
		_, queues := st.Queues(ctx)
		for _, q := range queues {
			if q.Service == "C" {
				require.NotEmpty(t, q.Tickets)
				assert.Equal(t, seed.Open[last].ID, q.Tickets[0].ID, "first in line")
			}
		}
	})
	t.Run("another branch's database", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "agent.db")
		_, err := backup.Restore(ctx, bak, path, "")
		require.NoError(t, err)
		_, err = sqlite.SeedResume(ctx, path, "SCL-999", cloud)
		require.Error(t, err)
	})
}
