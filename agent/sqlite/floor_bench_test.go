package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/require"
)

// BenchmarkFloorSQLiteCommit measures the physical floor the agent's durable
// issue stands on: one-row transactions on a WAL database with
// synchronous=FULL (an fsync per commit), with the store's own connection
// settings. make bench reports issue throughput as a ratio of this.
func BenchmarkFloorSQLiteCommit(b *testing.B) {
	dsn := "file:" + filepath.Join(b.TempDir(), "floor.db") +
		"?_journal_mode=WAL&_busy_timeout=5000&_synchronous=FULL&_txlock=immediate"
	db, err := sql.Open("sqlite3", dsn)
	require.NoError(b, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	_, err = db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`)
	require.NoError(b, err)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		tx, err := db.Begin()
		require.NoError(b, err)
		_, err = tx.Exec(`INSERT INTO t (v) VALUES ('x')`)
		require.NoError(b, err)
		require.NoError(b, tx.Commit())
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "commits/s")
}
