package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the agent's own database, edited as an older agent would have written it
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFaultPoisonedEventsFromAnOlderAgent is the issue's case through the real
// binaries: an agent of before the text checks stored a pause reason with NUL
// and a name with bytes that are not UTF-8 in its outbox. The cloud
// quarantines both, acks past them, and everything the branch does afterwards
// reaches HQ: no freeze, no endless resend.
func TestFaultPoisonedEventsFromAnOlderAgent(t *testing.T) {
	parallel(t)
	e := newEnv(t, "E2E-PSN")
	e.startCloud()
	e.startAgent()
	e.issue(4)
	before := e.converge(60 * time.Second)
	e.agent.stop()

	db, err := sql.Open("sqlite3", filepath.Join(e.data, "agent.db")+"?_busy_timeout=5000")
	require.NoError(t, err)
	at := time.Now().UTC().Format(time.RFC3339Nano)
	_, err = db.Exec(`INSERT INTO outbox (seq, id, type, at, data) VALUES (?, 'old-nul', 'executive.paused', ?, ?), (?, 'old-utf8', 'executive.logged_in', ?, ?)`,
		before.LastSeq+1, at, `{"executive":"E01","counter":1,"reason":"almuerzo\u0000"}`,
		before.LastSeq+2, at, "{\"executive\":\"E01\",\"name\":\"Jos\xe9\",\"counter\":1}")
	require.NoError(t, err)
	// Rows the agent itself cannot send (a damaged disk: data that is not JSON;
	// an event larger than one MQTT message): its relay sends a stand-in at
	// their seqs instead of stopping, and the cloud quarantines the stand-ins.
	_, err = db.Exec(`INSERT INTO outbox (seq, id, type, at, data) VALUES (?, 'bad-json', 'ticket.called', ?, ?), (?, 'too-big', 'executive.paused', ?, ?)`,
		before.LastSeq+3, at, `{"ticket":`,
		before.LastSeq+4, at, `{"executive":"E01","counter":1,"reason":"`+strings.Repeat("x", 140<<10)+`"}`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	e.startAgent()
	e.day(2) // tickets issued and served after the poisoned events
	e.checkInvariant()

	ctx := context.Background()
	var reasons []string
	rows, err := e.db.Query(ctx, `SELECT reason || ':' || seq::text FROM ingest_quarantine WHERE branch = $1 ORDER BY seq`, e.branch)
	require.NoError(t, err)
	for rows.Next() {
		var r string
		require.NoError(t, rows.Scan(&r))
		reasons = append(reasons, r)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []string{fmt.Sprintf("text:%d", before.LastSeq+1), fmt.Sprintf("utf8:%d", before.LastSeq+2),
		fmt.Sprintf("unsendable:%d", before.LastSeq+3), fmt.Sprintf("unsendable:%d", before.LastSeq+4)}, reasons)
	var placeholders int
	require.NoError(t, e.db.QueryRow(ctx, `SELECT count(*) FROM events WHERE branch = $1 AND type = 'cloud.quarantined'`, e.branch).Scan(&placeholders))
	assert.Equal(t, 4, placeholders)
}
