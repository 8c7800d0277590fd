package backup_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/agent/backup"
)

// benchDB is the database of a busy day, made once per test binary.
var benchDB struct {
	sync.Once
	dir string
}

// BenchmarkBackup measures one online backup (copy, integrity check, fsync,
// rename) of a database holding a busy day: 4,000 tickets with their events.
func BenchmarkBackup(b *testing.B) {
	benchDB.Do(func() {
		benchDB.dir, _ = os.MkdirTemp("", "ticketero-backup-bench")
	})
	dir := benchDB.dir
	db := filepath.Join(dir, "agent.db")
	if _, err := os.Stat(db); err != nil {
		fill(b, db)
	}
	fi, err := os.Stat(db)
	require.NoError(b, err)
	now := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now = now.Add(time.Second)
		t := now
		_, err := backup.Run(context.Background(), backup.Config{DB: db, Dir: filepath.Join(dir, "b"), Keep: 2, Now: func() time.Time { return t }})
		require.NoError(b, err)
	}
	b.ReportMetric(float64(fi.Size())/(1<<20), "db_MiB")
	b.ReportMetric(float64(fi.Size())*float64(b.N)/(1<<20)/b.Elapsed().Seconds(), "MiB/s")
}

func fill(b *testing.B, db string) {
	st := openStoreTB(b, db)
	var wg sync.WaitGroup
	for k := 0; k < 40; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				_, _, err := st.Issue(context.Background(), agent.TicketRequest{Service: []string{"C", "P", "E", "G"}[i%4]})
				require.NoError(b, err)
			}
		}()
	}
	wg.Wait()
	require.NoError(b, st.Close())
}
