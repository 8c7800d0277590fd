package backup_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/agent/backup"
	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/shared/queue"
)

func openStore(t *testing.T, path, branch string, key []byte, now func() time.Time) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: path, Branch: branch, DataKey: key, Now: now})
	require.NoError(t, err)
	return st
}

func openStoreTB(tb testing.TB, path string) *sqlite.Store {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: path, Branch: "SCL-001", DataKey: newKey()})
	require.NoError(tb, err)
	return st
}

func newKey() []byte {
	k := make([]byte, sqlite.KeySize)
	_, _ = rand.Read(k)
	return k
}

type counts struct {
	tickets, issued int
	seqs            []int64
	numbering       map[string]int
	perService      map[string]int
}

func inspect(t *testing.T, path string) counts {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	c := counts{numbering: map[string]int{}, perService: map[string]int{}}
	require.NoError(t, db.QueryRow("SELECT count(*) FROM tickets").Scan(&c.tickets))
	require.NoError(t, db.QueryRow("SELECT count(*) FROM outbox WHERE type = 'ticket.issued'").Scan(&c.issued))
	rows, err := db.Query("SELECT seq FROM outbox ORDER BY seq")
	require.NoError(t, err)
	for rows.Next() {
		var s int64
		require.NoError(t, rows.Scan(&s))
		c.seqs = append(c.seqs, s)
	}
	require.NoError(t, rows.Err())
	rows, err = db.Query("SELECT service, last FROM numbering")
	require.NoError(t, err)
	for rows.Next() {
		var s string
		var n int
		require.NoError(t, rows.Scan(&s, &n))
		c.numbering[s] += n
	}
	rows, err = db.Query("SELECT origin_service, count(*) FROM tickets GROUP BY origin_service")
	require.NoError(t, err)
	for rows.Next() {
		var s string
		var n int
		require.NoError(t, rows.Scan(&s, &n))
		c.perService[s] = n
	}
	return c
}

// TestOnlineBackupWhileIssuing backs up the real store while four kiosks
// issue tickets: every backup is one consistent moment (tickets = issued
// events, numbering = tickets per service, outbox seq gap-free from 1).
func TestOnlineBackupWhileIssuing(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "agent.db")
	st := openStore(t, db, "SCL-001", newKey(), nil)
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var issued atomic.Int64
	for k := 0; k < 4; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svcs := []string{"C", "P", "E"}
			for i := 0; ctx.Err() == nil; i++ {
				if _, _, err := st.Issue(context.Background(), agent.TicketRequest{Service: svcs[i%3], Channel: "kiosk"}); err == nil {
					issued.Add(1)
				}
			}
		}()
	}
	clk := time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)
	var results []backup.Result
	for i := 0; i < 5; i++ {
		for issued.Load() < int64(50*(i+1)) {
			time.Sleep(5 * time.Millisecond)
		}
		now := clk.Add(time.Duration(i) * time.Hour)
		res, err := backup.Run(context.Background(), backup.Config{DB: db, Dir: filepath.Join(dir, "backups"), Keep: 3, Now: func() time.Time { return now }})
		require.NoError(t, err)
		results = append(results, res)
	}
	cancel()
	wg.Wait()

	list, err := backup.List(filepath.Join(dir, "backups"))
	require.NoError(t, err)
	require.Len(t, list, 3, "retention keeps 3")
	entries, err := os.ReadDir(filepath.Join(dir, "backups"))
	require.NoError(t, err)
	assert.Len(t, entries, 3, "nothing but the backups: no .part, -wal or -shm left behind")
	assert.Equal(t, results[4].Path, list[0], "newest first")
	assert.Len(t, results[3].Removed, 1)
	prev := 0
	for _, p := range list {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "a backup holds the branch data")
		c := inspect(t, p)
		assert.Positive(t, c.tickets)
		assert.Equal(t, c.tickets, c.issued, "tickets and their events are in the same snapshot")
		assert.Equal(t, c.perService, c.numbering, "numbering matches the tickets")
		for i, s := range c.seqs {
			require.Equal(t, int64(i+1), s, "outbox seq gap-free")
		}
		if prev != 0 {
			assert.Less(t, c.tickets, prev, "older backups have fewer tickets")
		}
		prev = c.tickets
	}
	assert.Less(t, prev, int(issued.Load())+1)
}

func fakeS3(t *testing.T) *s3.Client {
	t.Helper()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	c := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, nil
		}),
	})
	_, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("ticketero-backups")})
	require.NoError(t, err)
	return c
}

// TestS3RoundTripAndRestore uploads nightly backups to an in-process S3,
// fetches the newest on a new box, restores it and goes on numbering.
func TestS3RoundTripAndRestore(t *testing.T) {
	ctx := context.Background()
	client := fakeS3(t)
	up := &backup.S3{Client: client, Bucket: "ticketero-backups", Prefix: "backups/", Branch: "SCL-002", SSE: "none"}
	dir := t.TempDir()
	db := filepath.Join(dir, "agent.db")
	key := newKey()
	st := openStore(t, db, "SCL-002", key, nil)
	for i := 0; i < 7; i++ {
		_, _, err := st.Issue(ctx, agent.TicketRequest{Service: "C"})
		require.NoError(t, err)
	}
	now := time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)
	res, err := backup.Run(ctx, backup.Config{DB: db, Dir: filepath.Join(dir, "backups"), Upload: up, Now: func() time.Time { return now }})
	require.NoError(t, err)
	assert.Equal(t, "s3://ticketero-backups/backups/SCL-002/agent-20261128T060000Z.db", res.Uploaded)
	_, _, err = st.Issue(ctx, agent.TicketRequest{Service: "C"}) // C-008 exists only in the next backup
	require.NoError(t, err)
	later := now.Add(24 * time.Hour)
	_, err = backup.Run(ctx, backup.Config{DB: db, Dir: filepath.Join(dir, "backups"), Upload: up, Now: func() time.Time { return later }})
	require.NoError(t, err)
	require.NoError(t, st.Close())

	// A new box: nothing local, the newest backup from S3.
	box := t.TempDir()
	name, err := up.Latest(ctx)
	require.NoError(t, err)
	assert.Equal(t, "agent-20261129T060000Z.db", name)
	dl := filepath.Join(box, name)
	require.NoError(t, up.Download(ctx, name, dl))
	newDB := filepath.Join(box, "agent.db")

	t.Run("another branch's backup is refused", func(t *testing.T) {
		_, err := backup.Restore(ctx, dl, newDB, "SCL-999")
		require.Error(t, err)
		assert.Equal(t, "backup.corrupt", queue.ErrorReason(err))
		_, statErr := os.Stat(newDB)
		assert.True(t, os.IsNotExist(statErr), "nothing written")
	})
	t.Run("a corrupt file is refused", func(t *testing.T) {
		bad := filepath.Join(box, "bad.db")
		require.NoError(t, os.WriteFile(bad, []byte("SQLite format 3\x00 but not really"), 0o600))
		_, err := backup.Restore(ctx, bad, newDB, "SCL-002")
		require.Error(t, err)
		_, statErr := os.Stat(newDB)
		assert.True(t, os.IsNotExist(statErr), "nothing written")
	})
	kept, err := backup.Restore(ctx, dl, newDB, "SCL-002")
	require.NoError(t, err)
	assert.Empty(t, kept)
	st2 := openStore(t, newDB, "SCL-002", key, nil)
	defer st2.Close()
	tk, _, err := st2.Issue(ctx, agent.TicketRequest{Service: "C"})
	require.NoError(t, err)
	assert.Equal(t, 9, tk.Number, "numbering resumes after C-008")
	ss, err := st2.SyncState(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(9), ss.LastSeq, "seq continues")
}

func TestSchedulerNext(t *testing.T) {
	loc, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	s := &backup.Scheduler{Hour: 3, Location: loc}
	for _, tc := range []struct{ now, want string }{
		{"2026-11-28T12:00:00-03:00", "2026-11-29T03:00:00-03:00"},
		{"2026-11-28T02:59:00-03:00", "2026-11-28T03:00:00-03:00"},
		{"2026-11-28T03:00:00-03:00", "2026-11-29T03:00:00-03:00"},
	} {
		now, _ := time.Parse(time.RFC3339, tc.now)
		want, _ := time.Parse(time.RFC3339, tc.want)
		assert.True(t, want.Equal(s.Next(now)), "%s → %s, got %s", tc.now, tc.want, s.Next(now))
	}
}

// TestSchedulerRun runs two nights with an injected sleep: two backups made.
func TestSchedulerRun(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "agent.db")
	st := openStore(t, db, "SCL-003", newKey(), nil)
	require.NoError(t, st.Close())
	var mu sync.Mutex
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var made []string
	s := &backup.Scheduler{Hour: 3,
		Config: backup.Config{DB: db, Dir: filepath.Join(dir, "b"), Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }},
		Sleep: func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			now = now.Add(d)
			mu.Unlock()
			return ctx.Err()
		},
		Done: func(r backup.Result, err error) {
			require.NoError(t, err)
			made = append(made, filepath.Base(r.Path))
			if len(made) == 2 {
				cancel()
			}
		},
	}
	require.NoError(t, s.Run(ctx))
	assert.Equal(t, []string{"agent-20261129T030000Z.db", "agent-20261130T030000Z.db"}, made)
}
