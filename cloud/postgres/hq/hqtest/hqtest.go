// Package hqtest is test plumbing for the HQ packages: a migrated PostgreSQL
// database per test package (on testkit/pgtest) and fixtures that write the ingest's projection
// rows (events, tickets, executive_sessions, branch_sync) the way the ingest
// does, followed by its NOTIFY.
package hqtest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for goose

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/migrations"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

// Main runs a package's tests against a fresh migrated database (created by
// the project's one harness, testkit/pgtest) whose URL it passes to setURL;
// the database is dropped after. Unreachable PostgreSQL skips the package
// (exit 0 with a message) unless CI=true.
func Main(m *testing.M, prefix string, setURL func(string)) int {
	ctx := context.Background()
	u, drop, err := pgtest.Create(ctx, prefix)
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "hqtest: PostgreSQL unreachable:", err)
			return 1
		}
		fmt.Fprintln(os.Stderr, "hqtest: SKIP: PostgreSQL unreachable (run scripts/dev-services.sh):", err)
		return 0
	}
	defer drop()
	mdb, err := sql.Open("pgx", u)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hqtest:", err)
		return 1
	}
	err = migrations.UpPostgres(ctx, mdb)
	mdb.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "hqtest: migrate:", err)
		return 1
	}
	setURL(u)
	return m.Run()
}

// MustPool opens a pool on url, closed at the end of the test.
func MustPool(tb testing.TB, dsn string) *pgxpool.Pool {
	tb.Helper()
	p, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("hqtest: pool: %v", err)
	}
	tb.Cleanup(p.Close)
	return p
}

// Ticket is a fixture ticket row.
type Ticket struct {
	Branch, ID, Service, Priority, Status, Executive string
	Number, Counter                                  int
	Day                                              string
	QueuedAt                                         time.Time
	CalledAt, StartedAt, EndedAt                     *time.Time
	QuotedTypicalS, QuotedUpperS                     int
}

// Fixture writes projection rows as the ingest would.
type Fixture struct {
	TB   testing.TB
	Pool *pgxpool.Pool
}

func (f Fixture) exec(sql string, args ...any) {
	f.TB.Helper()
	if _, err := f.Pool.Exec(context.Background(), sql, args...); err != nil {
		f.TB.Fatalf("hqtest: %v\n%s", err, sql)
	}
}

// Branch inserts (or updates) a branch row and its sync state.
func (f Fixture) Branch(id, name, region string, online bool) {
	f.TB.Helper()
	f.exec(`INSERT INTO branches (id, name, region) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, region = EXCLUDED.region`, id, name, region)
	f.exec(`INSERT INTO branch_sync (branch, online, status_at, last_ingest_at) VALUES ($1, $2, now(), now())
		ON CONFLICT (branch) DO UPDATE SET online = EXCLUDED.online, status_at = EXCLUDED.status_at`, id, online)
}

// Sync sets a branch's sync state as a status received live at statusAt
// would: online, it is the last sign of life; offline, when it went offline.
func (f Fixture) Sync(branch string, online bool, backlog int64, statusAt time.Time) {
	f.TB.Helper()
	f.exec(`UPDATE branch_sync SET online = $2, backlog = $3, status_at = $4,
		status_received_at = CASE WHEN $2 THEN $4 ELSE status_received_at END,
		offline_at = CASE WHEN $2 THEN NULL ELSE $4 END WHERE branch = $1`, branch, online, backlog, statusAt)
}

// Ticket upserts a ticket and appends its events (issued, and called/started/
// completed as its times say) with the next seqs, like the ingest's projection.
func (f Fixture) Ticket(t Ticket) {
	f.TB.Helper()
	if t.Priority == "" {
		t.Priority = "normal"
	}
	if t.Status == "" {
		t.Status = "waiting"
	}
	if t.Day == "" {
		loc, _ := time.LoadLocation("America/Santiago")
		t.Day = t.QueuedAt.In(loc).Format(time.DateOnly)
	}
	var exec *string
	if t.Executive != "" {
		exec = &t.Executive
	}
	var counter *int
	if t.Counter != 0 {
		counter = &t.Counter
	}
	f.exec(`INSERT INTO tickets (branch, id, day, origin_service, number, service, priority, status, counter, executive,
			quoted_typical_s, quoted_upper_s, queued_at, created_at, called_at, started_at, ended_at, last_seq)
		VALUES ($1, $2, $3, $4, $5, $4, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15, 0)
		ON CONFLICT (branch, id) DO UPDATE SET status = EXCLUDED.status, counter = EXCLUDED.counter, executive = EXCLUDED.executive,
			called_at = EXCLUDED.called_at, started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at`,
		t.Branch, t.ID, t.Day, t.Service, t.Number, t.Priority, t.Status, counter, exec,
		t.QuotedTypicalS, t.QuotedUpperS, t.QueuedAt, t.CalledAt, t.StartedAt, t.EndedAt)
	ref := map[string]any{"ticket": t.ID, "service": t.Service, "number": t.Number, "day": t.Day}
	f.Event(t.Branch, "ticket.issued", t.QueuedAt, ref)
	for _, st := range []struct {
		typ string
		at  *time.Time
	}{{"ticket.called", t.CalledAt}, {"ticket.started", t.StartedAt}, {"ticket.completed", t.EndedAt}} {
		if st.at != nil {
			f.Event(t.Branch, st.typ, *st.at, ref)
		}
	}
}

// Event appends an event with the branch's next seq and advances branch_sync.
func (f Fixture) Event(branch, typ string, at time.Time, data any) {
	f.TB.Helper()
	raw, _ := json.Marshal(data)
	f.exec(`WITH s AS (INSERT INTO branch_sync (branch, applied_seq, max_seq, last_event_at, last_ingest_at) VALUES ($1, 1, 1, $3, now()) ON CONFLICT (branch) DO UPDATE SET applied_seq = branch_sync.applied_seq + 1,
			max_seq = branch_sync.applied_seq + 1, last_event_at = $3, last_ingest_at = now() RETURNING applied_seq)
		INSERT INTO events (branch, seq, id, type, at, data) SELECT $1, applied_seq, gen_random_uuid()::text, $2, $3, $4 FROM s`,
		branch, typ, at, raw)
}

// Executive upserts an executive's live session.
func (f Fixture) Executive(branch, id, name string, counter int, state string, since time.Time) {
	f.TB.Helper()
	f.exec(`INSERT INTO executive_sessions (branch, executive, name, counter, state, since) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (branch, executive) DO UPDATE SET counter = EXCLUDED.counter, state = EXCLUDED.state, since = EXCLUDED.since`,
		branch, id, name, counter, state, since)
}

// Notify sends the ingest's change notification for a branch.
func (f Fixture) Notify(branch string) {
	f.TB.Helper()
	f.exec(`SELECT pg_notify($1, $2)`, cloud.ChangesChannel, branch)
}
