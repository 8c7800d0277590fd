package migrations_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"
	"github.com/pressly/goose/v3"
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

// Migration 00025 moves each branch's newest appointment rules from the
// book's audit ("rules.saved" lines) into hq_branch_settings.
func TestPostgres00025MovesAppointmentRules(t *testing.T) {
	db, err := sql.Open("pgx", pgtest.New(t))
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.Postgres())
	require.NoError(t, err)
	_, err = p.UpTo(ctx, 22)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO hq_branch_settings (branch, opening_hours) VALUES ('R-1', '08:00-13:00');
		INSERT INTO appt_audit (branch, action, actor, detail, at) VALUES
			('R-1', 'rules.saved', 'a', '{"early_min":10}', '2026-11-01'),
			('R-1', 'rules.saved', 'a', '{"early_min":20,"remote":{"C":{"open":true}}}', '2026-11-02'),
			('R-1', 'booking.cancelled', 'a', 'x', '2026-11-03'),
			('R-2', 'rules.saved', 'a', '{"run_max":3}', '2026-11-01')`)
	require.NoError(t, err)
	require.NoError(t, migrations.UpPostgres(ctx, db))
	rules := map[string]string{}
	rows, err := db.Query(`SELECT branch, appointment_rules::text, opening_hours FROM hq_branch_settings ORDER BY branch`)
	require.NoError(t, err)
	defer rows.Close()
	hours := map[string]string{}
	for rows.Next() {
		var b, r, h string
		require.NoError(t, rows.Scan(&b, &r, &h))
		rules[b], hours[b] = r, h
	}
	require.NoError(t, rows.Err())
	require.Equal(t, map[string]string{"R-1": `{"remote": {"C": {"open": true}}, "early_min": 20}`, "R-2": `{"run_max": 3}`}, rules)
	require.Equal(t, "08:00-13:00", hours["R-1"], "the branch's other settings stay")
}
