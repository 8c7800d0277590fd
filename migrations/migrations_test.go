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

// migratedPostgres is a new database with every cloud migration applied.
func migratedPostgres(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", pgtest.New(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, migrations.UpPostgres(context.Background(), db))
	return db
}

func TestPostgresUpTwice(t *testing.T) {
	db := migratedPostgres(t)
	require.NoError(t, migrations.UpPostgres(context.Background(), db))
	_, err := db.Exec(`INSERT INTO events (branch, seq, id, type, at, data) VALUES ('SCL-001', 1, 'e1', 'ticket.issued', now(), '{}') ON CONFLICT DO NOTHING`)
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

// identifierColumns are the names of columns holding a branch, ticket,
// executive, service or token identifier (00019): every such column, in
// every table, compares as bytes (COLLATE "C"), so a join between two of
// them is under one collation that the indexes on both serve.
var identifierColumns = []string{"branch", "ticket", "executive", "service", "origin_service", "token",
	"target_branches", "first_stage", "rest"}

// collationOffenders lists table.column of identifierColumns (text or
// text[]) whose collation is not "C".
func collationOffenders(t *testing.T, db *sql.DB) []string {
	t.Helper()
	return queryStrings(t, db, `SELECT c.table_name || '.' || c.column_name
		FROM information_schema.columns c
		JOIN information_schema.tables t USING (table_schema, table_name)
		JOIN pg_attribute a ON a.attrelid = (quote_ident(c.table_schema) || '.' || quote_ident(c.table_name))::regclass AND a.attname = c.column_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
		  AND c.column_name = ANY($1) AND a.atttypid IN ('text'::regtype, 'text[]'::regtype)
		  AND a.attcollation <> (SELECT oid FROM pg_collation WHERE collname = 'C')
		ORDER BY 1`, identifierColumns)
}

// queryStrings returns the single text column of every row of q.
func queryStrings(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

// Migration 00027 gives the identifier columns of the tables added beside
// 00019 (templates and tags, appointments) COLLATE "C"; any table added
// later must declare them so too. Its Down restores the database's
// collation.
func TestPostgresIdentifierColumnsCollateC(t *testing.T) {
	db := migratedPostgres(t)
	ctx := context.Background()
	require.Empty(t, collationOffenders(t, db), `identifier columns without COLLATE "C" (declare them TEXT COLLATE "C")`)
	_, err := db.Exec(`INSERT INTO branches (id, name) VALUES ('SCL-001', 'Centro');
		INSERT INTO hq_branch_tags (branch, tag) VALUES ('SCL-001', 'norte');
		INSERT INTO appt_joins (id, branch, service, day, code, channel, ticket, token)
			VALUES ('j1', 'SCL-001', 'C', '2026-12-01', '123456', 'telegram', 't1', 'tok1')`)
	require.NoError(t, err)

	// A join driven from branches compares under "C": the tags' primary key
	// serves it only when it is under "C" too.
	plan := func() string {
		conn, err := db.Conn(ctx)
		require.NoError(t, err)
		defer conn.Close()
		_, err = conn.ExecContext(ctx, `SET enable_seqscan = off`)
		require.NoError(t, err)
		rows, err := conn.QueryContext(ctx, `EXPLAIN SELECT t.tag FROM branches b JOIN hq_branch_tags t ON t.branch = b.id WHERE b.name = 'Centro'`)
		require.NoError(t, err)
		defer rows.Close()
		var out string
		for rows.Next() {
			var line string
			require.NoError(t, rows.Scan(&line))
			out += line + "\n"
		}
		require.NoError(t, rows.Err())
		_, err = conn.ExecContext(ctx, `RESET enable_seqscan`)
		require.NoError(t, err)
		return out
	}
	require.Contains(t, plan(), "on hq_branch_tags_pkey")

	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.Postgres(), goose.WithAllowOutofOrder(true))
	require.NoError(t, err)
	_, err = p.DownTo(ctx, 26)
	require.NoError(t, err)
	require.Contains(t, collationOffenders(t, db), "hq_branch_tags.branch", "Down restores the database's collation")
	require.Contains(t, collationOffenders(t, db), "appt_joins.ticket")
	require.NotContains(t, plan(), "on hq_branch_tags_pkey", "under two collations the index cannot serve the join")

	require.NoError(t, migrations.UpPostgres(ctx, db))
	require.Empty(t, collationOffenders(t, db))
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM appt_joins j JOIN hq_branch_tags t USING (branch)
		WHERE j.ticket = 't1' AND j.token = 'tok1' AND t.tag = 'norte'`).Scan(&n))
	require.Equal(t, 1, n, "the rows are kept")
}

// Migration 00034 leaves pending (resolved_at NULL) the existing /start
// links whose chat is not linked to their ticket (its ticket has not
// arrived, or arrived unlinked) and those of its last 10 minutes; the
// other linked ones read as resolved. Its Down drops the column.
func TestPostgres00034PendingLinks(t *testing.T) {
	db, err := sql.Open("pgx", pgtest.New(t))
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.Postgres(), goose.WithAllowOutofOrder(true))
	require.NoError(t, err)
	_, err = p.UpTo(ctx, 33)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO telegram_chats (chat_hash, chat_enc) VALUES ('a', '\x00'), ('b', '\x00');
		INSERT INTO tickets (branch, id, day, origin_service, number, service, priority, status, token, queued_at, created_at, last_seq)
		VALUES ('B1', 't1', current_date, 'C', 1, 'C', 'normal', 'waiting', 'tok-linked', now(), now(), 1),
			('B1', 't2', current_date, 'C', 2, 'C', 'normal', 'waiting', 'tok-raced', now(), now(), 2),
			('B1', 't3', current_date - 3, 'C', 3, 'C', 'normal', 'served', 'tok-old', now(), now() - interval '3 days', 3),
			('B1', 't4', current_date, 'C', 4, 'C', 'normal', 'waiting', 'tok-recent', now(), now(), 4);
		INSERT INTO telegram_token_links (token, chat_id, created_at) VALUES
			('tok-linked', (SELECT id FROM telegram_chats WHERE chat_hash = 'a'), now() - interval '1 hour'),
			('tok-linked', (SELECT id FROM telegram_chats WHERE chat_hash = 'b'), now() - interval '1 hour'),
			('tok-raced', (SELECT id FROM telegram_chats WHERE chat_hash = 'a'), now() - interval '1 hour'),
			('tok-later', (SELECT id FROM telegram_chats WHERE chat_hash = 'a'), now() - interval '1 hour'),
			('tok-old', (SELECT id FROM telegram_chats WHERE chat_hash = 'a'), now() - interval '3 days'),
			('tok-recent', (SELECT id FROM telegram_chats WHERE chat_hash = 'a'), now() - interval '1 minute');
		INSERT INTO telegram_ticket_chats (branch, ticket, chat_id) VALUES
			('B1', 't1', (SELECT id FROM telegram_chats WHERE chat_hash = 'a')),
			('B1', 't4', (SELECT id FROM telegram_chats WHERE chat_hash = 'a')),
			('B1', 't2', (SELECT id FROM telegram_chats WHERE chat_hash = 'b')),
			('B1', 't3', (SELECT id FROM telegram_chats WHERE chat_hash = 'a'))`)
	require.NoError(t, err)
	_, err = p.UpTo(ctx, 34)
	require.NoError(t, err)
	pending := func() []string {
		return queryStrings(t, db, `SELECT l.token || '/' || c.chat_hash FROM telegram_token_links l
			JOIN telegram_chats c ON c.id = l.chat_id WHERE l.resolved_at IS NULL ORDER BY 1`)
	}
	require.Equal(t, []string{"tok-later/a", "tok-linked/b", "tok-raced/a", "tok-recent/a"}, pending())
	_, err = db.Exec(`INSERT INTO telegram_token_links (token, chat_id) VALUES ('tok-new', (SELECT id FROM telegram_chats WHERE chat_hash = 'b'))`)
	require.NoError(t, err)
	require.Contains(t, pending(), "tok-new/b", "a new link is pending")

	_, err = p.DownTo(ctx, 33)
	require.NoError(t, err)
	_, err = db.Exec(`SELECT resolved_at FROM telegram_token_links`)
	require.Error(t, err, "Down drops the column")
	require.NoError(t, migrations.UpPostgres(ctx, db))
}
