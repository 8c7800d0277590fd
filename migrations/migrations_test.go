package migrations_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/migrations"
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
	base := os.Getenv("TICKETERO_TEST_DATABASE_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	admin, err := sql.Open("pgx", base)
	require.NoError(t, err)
	defer admin.Close()
	if err := admin.Ping(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL unreachable at %s: %v", base, err)
		}
		t.Skipf("PostgreSQL unreachable (%v): run scripts/dev-services.sh", err)
	}
	name := fmt.Sprintf("ticketero_migr_%d", time.Now().UnixNano())
	_, err = admin.Exec("CREATE DATABASE " + name)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.Exec("DROP DATABASE " + name + " WITH (FORCE)") })
	u, _ := url.Parse(base)
	u.Path = "/" + name
	db, err := sql.Open("pgx", u.String())
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()
	require.NoError(t, migrations.UpPostgres(ctx, db))
	require.NoError(t, migrations.UpPostgres(ctx, db))
	_, err = db.Exec(`INSERT INTO events (branch, seq, id, type, at, data) VALUES ('SCL-001', 1, 'e1', 'ticket.issued', now(), '{}') ON CONFLICT DO NOTHING`)
	require.NoError(t, err)
}
