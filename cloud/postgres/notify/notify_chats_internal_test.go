package notify

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/postgres/postgrestest"
)

// planNode is a node of EXPLAIN (ANALYZE, FORMAT JSON).
type planNode struct {
	Type     string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Alias    string     `json:"Alias"`
	Index    string     `json:"Index Name"`
	Rows     float64    `json:"Actual Rows"`
	Loops    float64    `json:"Actual Loops"`
	Plans    []planNode `json:"Plans"`
}

// linkScans returns the scans of telegram_token_links in the plan of sql
// (run, in a transaction rolled back after), and fails the test if the
// plan reads the links' tickets or chats sequentially.
func linkScans(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) []planNode {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	var raw []byte
	require.NoError(t, tx.QueryRow(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) `+sql, args...).Scan(&raw))
	var plans []struct{ Plan planNode }
	require.NoError(t, json.Unmarshal(raw, &plans))
	var out []planNode
	var walk func(n planNode)
	walk = func(n planNode) {
		if n.Relation == "telegram_token_links" && strings.HasSuffix(n.Type, "Scan") {
			out = append(out, n)
		}
		// The links' tickets (t) and chats (c); the ticket's own columns
		// (ticketCols) read other tickets of its queue, once per link made.
		if n.Type == "Seq Scan" && (n.Alias == "t" || n.Alias == "c") {
			t.Errorf("sequential scan of %s: %s", n.Relation, raw)
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(plans[0].Plan)
	require.NotEmpty(t, out, "the statement reads telegram_token_links: %s", raw)
	return out
}

// The pending links pass reads only the pending links (migration 00034),
// not every link of its window: among 3,000 links of the day, all linked
// to their tickets, the pass's statements read the one still waiting for
// its ticket, through its index, and probe the tickets and their chats by
// their keys.
func TestResolvePendingReadsOnlyPendingLinks(t *testing.T) {
	ctx := context.Background()
	pool := postgrestest.MustPool(t)
	s := New(pool, nil)
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := pool.Exec(ctx, sql, args...)
		require.NoError(t, err)
	}
	exec(`INSERT INTO telegram_chats (chat_hash, chat_enc) VALUES ('plan', '\x00')`)
	exec(`INSERT INTO tickets (branch, id, day, origin_service, number, service, priority, status, token, queued_at, created_at, last_seq)
		SELECT 'B' || i % 50, 't' || i, current_date, 'C', i, 'C', 'normal', 'served', 'tok' || i, now(), now(), i
		FROM generate_series(1, 3000) AS i`)
	exec(`INSERT INTO telegram_token_links (token, chat_id, created_at)
		SELECT 'tok' || i, (SELECT id FROM telegram_chats), now() - i * interval '10 s'
		FROM generate_series(1, 3000) AS i`)
	exec(`INSERT INTO telegram_ticket_chats (branch, ticket, chat_id)
		SELECT 'B' || i % 50, 't' || i, (SELECT id FROM telegram_chats) FROM generate_series(1, 3000) AS i`)
	// A /start whose ticket has not arrived, and 3,000 older than the
	// pass's window whose tickets never came (pending, never read: as many
	// pending links as resolved ones in the table, none in the window but
	// one, which the planner must be told).
	exec(`INSERT INTO telegram_token_links (token, chat_id) VALUES ('tok-later', (SELECT id FROM telegram_chats))`)
	exec(`INSERT INTO telegram_token_links (token, chat_id, created_at)
		SELECT 'gone' || i, (SELECT id FROM telegram_chats), now() - interval '30 hours' - i * interval '10 s'
		FROM generate_series(1, 3000) AS i`)

	// The first pass finds the day's links linked (by their ingest) and
	// marks them; it links nothing.
	n, err := s.ResolvePending(ctx, 24*time.Hour)
	require.NoError(t, err)
	assert.Zero(t, n)
	var pending int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM telegram_token_links
		WHERE resolved_at IS NULL AND created_at > now() - interval '24 hours'`).Scan(&pending))
	assert.Equal(t, 1, pending, "only the link waiting for its ticket stays pending in the window")
	exec(`VACUUM ANALYZE tickets, telegram_token_links, telegram_ticket_chats`)

	from := s.Now().Add(-24 * time.Hour)
	for name, sql := range map[string]string{"pending links": pendingLinks, "settle": settleLinks} {
		args := []any{from}
		if sql == settleLinks {
			args = append(args, s.Now())
		}
		for _, n := range linkScans(t, pool, sql, args...) {
			assert.NotEqual(t, "Seq Scan", n.Type, "%s: no sequential scan of the links", name)
			assert.Equal(t, "telegram_token_links_pending", n.Index, "%s: the pending links' index", name)
			assert.LessOrEqual(t, n.Rows*n.Loops, 1.0, "%s: reads only the pending link", name)
		}
	}
}
