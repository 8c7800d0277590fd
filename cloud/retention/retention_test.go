package retention_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
	"github.com/ticketero/ticketero/cloud/retention"
)

var dsn string

func TestMain(m *testing.M) {
	os.Exit(hqtest.Main(m, "ticketero_retention", func(u string) { dsn = u }))
}

// now is 11:00 in Santiago on 2026-11-28.
var now = time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)

func day(d string) time.Time {
	t, _ := time.Parse(time.DateOnly, d)
	return t.Add(15 * time.Hour) // noon in Santiago
}

type fixture struct {
	tb   testing.TB
	pool *pgxpool.Pool
	seq  int
}

func (f *fixture) exec(sql string, args ...any) {
	f.tb.Helper()
	_, err := f.pool.Exec(context.Background(), sql, args...)
	require.NoError(f.tb, err, sql)
}

// ticket writes a ticket of branch SCL-001 and its ticket.issued event, as
// the ingest does; rut "" is a ticket without RUT.
func (f *fixture) ticket(id, d, rut string) {
	f.tb.Helper()
	f.seq++
	var rh any
	data := fmt.Sprintf(`{"ticket":%q,"service":"C","number":%d,"day":%q}`, id, f.seq, d)
	if rut != "" {
		rh = rut
		data = fmt.Sprintf(`{"ticket":%q,"service":"C","number":%d,"day":%q,"rut_hash":%q}`, id, f.seq, d, rut)
	}
	f.exec(`INSERT INTO tickets (branch, id, day, origin_service, number, service, priority, status, token, rut_hash,
			queued_at, created_at, ended_at, outcome, last_seq)
		VALUES ('SCL-001', $1, $2, 'C', $3::int, 'C', 'normal', 'completed', 'tok-' || $1, $4, $5, $5, $5, 'served', $3::int)`,
		id, d, f.seq, rh, day(d))
	f.exec(`INSERT INTO events (branch, seq, id, type, at, data) VALUES ('SCL-001', $1, 'ev-' || $2, 'ticket.issued', $3, $4)`,
		f.seq, id, day(d), data)
	f.exec(`INSERT INTO events (branch, seq, id, type, at, data) VALUES ('SCL-001', $1, 'evc-' || $2, 'ticket.completed', $3, $4)`,
		1000+f.seq, id, day(d), fmt.Sprintf(`{"ticket":%q}`, id))
}

func (f *fixture) chat(hash, lookup string, created time.Time) (id int64) {
	f.tb.Helper()
	var l any
	if lookup != "" {
		l = lookup
	}
	require.NoError(f.tb, f.pool.QueryRow(context.Background(), `INSERT INTO telegram_chats (chat_hash, chat_enc, rut_lookup, created_at)
		VALUES ($1, '\x00', $2, $3) RETURNING id`, hash, l, created).Scan(&id))
	return id
}

func (f *fixture) snapshot(q string) []string {
	f.tb.Helper()
	rows, err := f.pool.Query(context.Background(), q)
	require.NoError(f.tb, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		v, err := rows.Values()
		require.NoError(f.tb, err)
		out = append(out, fmt.Sprint(v))
	}
	require.NoError(f.tb, rows.Err())
	return out
}

func (f *fixture) count(q string) (n int) {
	f.tb.Helper()
	require.NoError(f.tb, f.pool.QueryRow(context.Background(), q).Scan(&n))
	return n
}

const (
	ticketsRest  = `SELECT branch, id, day, status, token, outcome, queued_at, ended_at, last_seq FROM tickets ORDER BY branch, id`
	eventsRest   = `SELECT branch, seq, id, type, at, data - 'rut_hash' FROM events ORDER BY branch, seq`
	chatsRest    = `SELECT id, chat_hash, chat_enc, kind, created_at FROM telegram_chats ORDER BY id`
	personalLeft = `SELECT (SELECT count(*) FROM tickets WHERE rut_hash IS NOT NULL) + (SELECT count(*) FROM events WHERE data ? 'rut_hash')`
)

// TestRunOnce: with a 30-day retention, the RUT hash of tickets and events
// older than 30 days goes, recent ones stay; links of closed days go, today's
// stay; a consent nobody used in 30 days goes, one used stays; everything
// else is unchanged; the run is audited; a second run changes nothing.
func TestRunOnce(t *testing.T) {
	pool := hqtest.MustPool(t, dsn)
	f := &fixture{tb: t, pool: pool}
	f.exec(`INSERT INTO branches (id, name) VALUES ('SCL-001', 'Centro')`)
	for i := range 7 { // more than two batches of 2
		f.ticket(fmt.Sprintf("old%d", i), "2026-10-01", fmt.Sprintf("h-old-%d", i))
	}
	f.ticket("old-norut", "2026-10-02", "")
	f.ticket("edge", "2026-10-29", "h-edge") // 30 days before today: kept
	f.ticket("before-edge", "2026-10-28", "h-before")
	f.ticket("recent", "2026-11-20", "h-recent")
	f.ticket("today", "2026-11-28", "h-today")

	idle := f.chat("c-idle", "L-idle", now.AddDate(0, 0, -60))
	used := f.chat("c-used", "L-used", now.AddDate(0, 0, -60))
	fresh := f.chat("c-fresh", "L-fresh", now.AddDate(0, 0, -3))
	plain := f.chat("c-plain", "", now.AddDate(0, 0, -60))
	f.exec(`INSERT INTO telegram_jobs (branch, ticket, kind, chat_id, params, status, created_at)
		VALUES ('SCL-001', 'recent', 'called', $1, '{}', 'sent', $2)`, used, now.AddDate(0, 0, -8))
	f.exec(`INSERT INTO telegram_ticket_chats (branch, ticket, chat_id, created_at) VALUES
		('SCL-001', 'old0', $1, $3), ('SCL-001', 'recent', $2, $4), ('SCL-001', 'today', $2, $5)`,
		idle, used, day("2026-10-01"), day("2026-11-20"), now)
	f.exec(`INSERT INTO telegram_token_links (token, chat_id, created_at) VALUES
		('tok-old1', $1, $3), ('tok-recent', $2, $4), ('tok-today', $2, $5), ('tok-in-flight', $2, $5)`,
		plain, fresh, day("2026-10-01"), day("2026-11-20"), now)

	for i, at := range []time.Time{now.AddDate(0, 0, -31), now.AddDate(0, 0, -29)} {
		f.exec(`INSERT INTO ingest_quarantine (branch, seq, raw, raw_sha256, reason, received_at)
			VALUES ('SCL-001', $1, '{"rut_hash":"h"}', $2, 'text', $3)`, i+1, []byte{byte(i)}, at)
	}

	tickets, events, chats := f.snapshot(ticketsRest), f.snapshot(eventsRest), f.snapshot(chatsRest)
	store := hq.New(pool, func() time.Time { return now })
	job, err := retention.New(&postgres.Anonymiser{Pool: pool}, store, retention.Config{Days: 30, Batch: 2, Now: func() time.Time { return now }})
	require.NoError(t, err)
	ctx := context.Background()

	res, err := job.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, retention.Result{Tickets: 8, Events: 8, TicketChats: 2, TokenLinks: 2, Consents: 1, Quarantined: 1}, res)
	assert.Equal(t, []string{"2"}, f.snapshotStrings(`SELECT seq::text FROM ingest_quarantine`), "the quarantined event past the retention deleted")

	assert.ElementsMatch(t, []string{"h-edge", "h-recent", "h-today"},
		f.snapshotStrings(`SELECT rut_hash FROM tickets WHERE rut_hash IS NOT NULL`))
	assert.ElementsMatch(t, []string{"h-edge", "h-recent", "h-today"},
		f.snapshotStrings(`SELECT data->>'rut_hash' FROM events WHERE data ? 'rut_hash'`))
	assert.ElementsMatch(t, []string{"today"}, f.snapshotStrings(`SELECT ticket FROM telegram_ticket_chats`))
	assert.ElementsMatch(t, []string{"tok-today", "tok-in-flight"}, f.snapshotStrings(`SELECT token FROM telegram_token_links`))
	assert.ElementsMatch(t, []string{"L-used", "L-fresh"}, f.snapshotStrings(`SELECT rut_lookup FROM telegram_chats WHERE rut_lookup IS NOT NULL`))

	assert.Equal(t, tickets, f.snapshot(ticketsRest), "tickets otherwise unchanged")
	assert.Equal(t, events, f.snapshot(eventsRest), "events otherwise unchanged")
	assert.Equal(t, chats, f.snapshot(chatsRest), "chats kept, only the consent cleared")
	assert.Equal(t, 1, f.count(`SELECT count(*) FROM telegram_jobs`))

	log, err := store.AuditLog(ctx, cloud.AuditFilter{Action: retention.AuditAction})
	require.NoError(t, err)
	require.Len(t, log, 1)
	assert.Equal(t, retention.AuditActor, log[0].Actor)
	assert.Contains(t, log[0].Detail, "tickets=8 events=8 ticket_chats=2 token_links=2 consents=1 quarantined=1 appointments=0 retention_days=30")

	// Idempotent: nothing left, nothing changed, the run still audited.
	left := f.count(personalLeft)
	res, err = job.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, retention.Result{}, res)
	assert.Equal(t, left, f.count(personalLeft))
	log, err = store.AuditLog(ctx, cloud.AuditFilter{Action: retention.AuditAction})
	require.NoError(t, err)
	assert.Len(t, log, 2)
	assert.Contains(t, log[0].Detail, "tickets=0 events=0")

	// Another replica holding the run: this one skips, audits nothing.
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(0x7469636b72657465))
	require.NoError(t, err)
	res, err = job.RunOnce(ctx)
	require.NoError(t, err)
	assert.True(t, res.Skipped)
	_, err = conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", int64(0x7469636b72657465))
	require.NoError(t, err)
	log, err = store.AuditLog(ctx, cloud.AuditFilter{Action: retention.AuditAction})
	require.NoError(t, err)
	assert.Len(t, log, 2)
}

func (f *fixture) snapshotStrings(q string) []string {
	f.tb.Helper()
	rows, err := f.pool.Query(context.Background(), q)
	require.NoError(f.tb, err)
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		require.NoError(f.tb, rows.Scan(&s))
		out = append(out, s)
	}
	return out
}

func TestConfig(t *testing.T) {
	pool := hqtest.MustPool(t, dsn)
	store := hq.New(pool, time.Now)
	for _, c := range []retention.Config{{Days: -1}, {Days: 5000}, {Batch: -3}, {Every: -time.Second}} {
		_, err := retention.New(&postgres.Anonymiser{Pool: pool}, store, c)
		assert.Error(t, err, "%+v", c)
	}
	_, err := retention.New(nil, store, retention.Config{})
	assert.Error(t, err)
}
