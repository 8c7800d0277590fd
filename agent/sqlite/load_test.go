package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent/sqlite"
)

// TestLoadNumberingReadError: a read of today's numbering that fails part-way
// (here a damaged page of the table on disk) fails the start, instead of
// starting with services' counts missing, which would re-issue numbers already
// given today.
func TestLoadNumberingReadError(t *testing.T) {
	ctx := context.Background()
	clk := newClock(t0)
	key := MustKey(t)
	path := filepath.Join(t.TempDir(), "agent.db")
	st, err := sqlite.Open(ctx, sqlite.Config{Path: path, Branch: "SCL-001", DataKey: key, Now: clk.Now})
	require.NoError(t, err)
	day := issueN(t, st, "C", 2)[0].Day
	require.NoError(t, st.Close())

	// Enough of today's rows to span many pages, read after C in key order.
	db, err := sql.Open("sqlite3", path)
	require.NoError(t, err)
	tx, err := db.Begin()
	require.NoError(t, err)
	for i := range 4000 {
		_, err := tx.Exec(`INSERT INTO numbering (day, service, last) VALUES (?, ?, 1)`, day, fmt.Sprintf("Zmark%05d", i))
		require.NoError(t, err)
	}
	require.NoError(t, tx.Commit())
	_, err = db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	require.NoError(t, err)
	var pageSize int
	require.NoError(t, db.QueryRow(`PRAGMA page_size`).Scan(&pageSize))
	require.NoError(t, db.Close())

	// Damage the table leaf page (type 0x0D) holding a late row.
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	damaged := false
	for off := bytes.Index(raw, []byte("Zmark03500")); off >= 0 && !damaged; {
		page := off / pageSize * pageSize
		if raw[page] == 0x0D {
			raw[page] = 0xFF
			damaged = true
			break
		}
		next := bytes.Index(raw[off+1:], []byte("Zmark03500"))
		if next < 0 {
			break
		}
		off += 1 + next
	}
	require.True(t, damaged, "found the table page to damage")
	require.NoError(t, os.WriteFile(path, raw, 0o600))

	_, err = sqlite.Open(ctx, sqlite.Config{Path: path, Branch: "SCL-001", DataKey: key, Now: clk.Now})
	require.Error(t, err, "a numbering read cut short must not start the box")
	require.Contains(t, err.Error(), "numbering")
}
