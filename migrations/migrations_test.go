package migrations_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/migrations"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

func TestSQLiteUpTwice(t *testing.T) {
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "agent.db")+"?_journal_mode=WAL&_foreign_keys=on")
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()
	require.NoError(t, migrations.UpSQLite(ctx, db))
	require.NoError(t, migrations.UpSQLite(ctx, db), "idempotent")
	_, err = db.Exec(`INSERT INTO outbox (seq, id, type, at, data) VALUES (1, 'e1', 'ticket.issued', '2026-11-28T10:00:00Z', '{}')`)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO outbox (seq, id, type, at, data) VALUES (1, 'e2', 'ticket.issued', '2026-11-28T10:00:00Z', '{}')`)
	require.Error(t, err, "seq is unique")
}

func TestPostgresUpTwice(t *testing.T) {
	db, err := sql.Open("pgx", pgtest.New(t))
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()
	require.NoError(t, migrations.UpPostgres(ctx, db))
	require.NoError(t, migrations.UpPostgres(ctx, db))
	_, err = db.Exec(`INSERT INTO events (branch, seq, id, type, at, data) VALUES ('SCL-001', 1, 'e1', 'ticket.issued', now(), '{}') ON CONFLICT DO NOTHING`)
	require.NoError(t, err)
}
