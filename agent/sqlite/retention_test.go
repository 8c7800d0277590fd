package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
)

// rutFor returns a valid RUT (check digit mod 11) for body n.
func rutFor(n int) string {
	s, m, sum := strconv.Itoa(n), 2, 0
	for i := len(s) - 1; i >= 0; i-- {
		sum += int(s[i]-'0') * m
		if m++; m > 7 {
			m = 2
		}
	}
	dv := strconv.Itoa(11 - sum%11)
	switch dv {
	case "11":
		dv = "0"
	case "10":
		dv = "K"
	}
	return s + "-" + dv
}

// dump is every row of a table as text, in a stable order, minus the columns
// left out.
func dump(tb testing.TB, db *sql.DB, query string) []string {
	tb.Helper()
	rows, err := db.Query(query)
	require.NoError(tb, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(tb, err)
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(tb, rows.Scan(ptrs...))
		out = append(out, fmt.Sprintf("%v", vals))
	}
	require.NoError(tb, rows.Err())
	return out
}

const otherColumns = `SELECT id, day, origin_service, number, service, priority, status, counter, executive, recalls,
	outcome, token, channel, queued_at, first_in_line, created_at, called_at, recalled_at, started_at, ended_at,
	quoted_typical_s, quoted_upper_s FROM tickets ORDER BY id`

// TestAnonymise: tickets of days older than the retention lose their RUT
// (encrypted and hashed); recent ones keep it; nothing else changes, the
// outbox included; a second run changes nothing.
func TestAnonymise(t *testing.T) {
	e := MustStore(t, 6)
	ctx := context.Background()
	issue := func(n int, withRUT bool) agent.TicketInfo {
		r := agent.TicketRequest{Service: "C"}
		if withRUT {
			r.RUT = rutFor(10_000_000 + n)
		}
		tk, _, err := e.st.Issue(ctx, r)
		require.NoError(t, err, r.RUT)
		return tk
	}
	for i := range 6 { // day A, 2026-11-28: 40 days before "today"
		issue(i, i%3 != 0)
	}
	e.clock.Add(20 * 24 * time.Hour) // day B, 2026-12-18: 20 days before
	for i := range 4 {
		issue(100+i, true)
	}
	e.clock.Add(20 * 24 * time.Hour) // today, 2027-01-07
	issue(200, true)

	db := e.st.DB()
	count := func(where string) (n int) {
		require.NoError(t, db.QueryRow("SELECT count(*) FROM tickets WHERE "+where).Scan(&n))
		return n
	}
	require.Equal(t, 4, count("day = '2026-11-28' AND rut_enc IS NOT NULL AND rut_hash <> ''"))
	before := dump(t, db, otherColumns)
	outbox := dump(t, db, "SELECT * FROM outbox ORDER BY seq")
	keptRUT := dump(t, db, "SELECT id, rut_enc, rut_hash FROM tickets WHERE day >= '2026-12-18' ORDER BY id")

	n, err := e.st.Anonymise(ctx, 30)
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	assert.Equal(t, 0, count("day = '2026-11-28' AND (rut_enc IS NOT NULL OR rut_hash <> '')"))
	assert.Equal(t, 6, count("day = '2026-11-28'"), "the tickets stay for the statistics")
	assert.Equal(t, keptRUT, dump(t, db, "SELECT id, rut_enc, rut_hash FROM tickets WHERE day >= '2026-12-18' ORDER BY id"),
		"recent tickets keep their RUT")
	assert.Equal(t, 5, count("rut_enc IS NOT NULL AND rut_hash <> ''"))
	assert.Equal(t, before, dump(t, db, otherColumns), "nothing else changed")
	assert.Equal(t, outbox, dump(t, db, "SELECT * FROM outbox ORDER BY seq"), "the outbox is left to the cloud's retention")

	n, err = e.st.Anonymise(ctx, 30)
	require.NoError(t, err)
	assert.Zero(t, n, "idempotent")

	// A shorter retention reaches day B; today is never touched.
	n, err = e.st.Anonymise(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	assert.Equal(t, 1, count("rut_enc IS NOT NULL AND rut_hash <> ''"))

	// The store still works and the anonymised ticket still reads.
	tk := issue(300, true)
	got, err := e.st.Ticket(ctx, tk.ID)
	require.NoError(t, err)
	assert.Equal(t, tk.Number, got.Number)

	_, err = e.st.Anonymise(ctx, 0)
	assert.Error(t, err)
}

// TestAnonymiseBacklog: a backlog bigger than one batch is cleared in
// several writer operations while issuing goes on.
func TestAnonymiseBacklog(t *testing.T) {
	e := MustStore(t, 6)
	ctx := context.Background()
	_, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C", RUT: rutFor(12345678)})
	require.NoError(t, err)
	require.NoError(t, e.st.Close())
	// 4,500 more of that old day, written straight into the file.
	raw, err := sql.Open("sqlite3", e.path)
	require.NoError(t, err)
	_, err = raw.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4500)
		INSERT INTO tickets (id, day, origin_service, number, service, priority, status, outcome, rut_enc, rut_hash,
			token, channel, queued_at, created_at)
		SELECT 'old-' || i, t.day, t.origin_service, 1000 + i, t.service, t.priority, 'completed', t.outcome, t.rut_enc,
			t.rut_hash, 'tok-' || i, t.channel, t.queued_at, t.created_at FROM n, (SELECT * FROM tickets LIMIT 1) t`)
	require.NoError(t, err)
	require.NoError(t, raw.Close())
	e.clock.Add(45 * 24 * time.Hour)
	e.open(t, 6)

	done := make(chan int)
	go func() {
		n, err := e.st.Anonymise(ctx, 30)
		assert.NoError(t, err)
		done <- n
	}()
	for range 20 {
		_, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C", RUT: rutFor(20000000)})
		require.NoError(t, err)
	}
	assert.Equal(t, 4501, <-done)
	var left, kept int
	require.NoError(t, e.st.DB().QueryRow("SELECT count(*) FROM tickets WHERE rut_hash <> '' AND day < '2027-01-01'").Scan(&left))
	require.NoError(t, e.st.DB().QueryRow("SELECT count(*) FROM tickets WHERE rut_hash <> ''").Scan(&kept))
	assert.Zero(t, left)
	assert.Equal(t, 20, kept)
}

// BenchmarkAnonymise: one run over 10,000 old tickets with a RUT (batches of
// 2,000 through the writer); the backlog is restored, untimed, before each.
func BenchmarkAnonymise(b *testing.B) {
	e := MustStore(b, 6)
	ctx := context.Background()
	_, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C", RUT: rutFor(12345678)})
	require.NoError(b, err)
	require.NoError(b, e.st.Close())
	raw, err := sql.Open("sqlite3", e.path+"?_busy_timeout=5000")
	require.NoError(b, err)
	b.Cleanup(func() { _ = raw.Close() })
	_, err = raw.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9999)
		INSERT INTO tickets (id, day, origin_service, number, service, priority, status, outcome, rut_enc, rut_hash,
			token, channel, queued_at, created_at)
		SELECT 'old-' || i, t.day, t.origin_service, 1000 + i, t.service, t.priority, 'completed', t.outcome, t.rut_enc,
			t.rut_hash, 'tok-' || i, t.channel, t.queued_at, t.created_at FROM n, (SELECT * FROM tickets LIMIT 1) t`)
	require.NoError(b, err)
	var enc []byte
	var hash string
	require.NoError(b, raw.QueryRow("SELECT rut_enc, rut_hash FROM tickets LIMIT 1").Scan(&enc, &hash))
	e.clock.Add(45 * 24 * time.Hour)
	e.open(b, 6)
	total := 0
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		_, err := raw.Exec("UPDATE tickets SET rut_enc = ?, rut_hash = ?", enc, hash)
		require.NoError(b, err)
		b.StartTimer()
		n, err := e.st.Anonymise(ctx, 30)
		require.NoError(b, err)
		total += n
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "tickets/s")
}
