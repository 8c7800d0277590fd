package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
)

// What a box sends may not be storable text: a reject's detail or an agent
// version with NUL or bytes that are not UTF-8 is still recorded (cleaned),
// never an error that loses the record.
func TestPoisonTextInRejectAndStatus(t *testing.T) {
	s := store(t)
	ctx := context.Background()
	require.NoError(t, s.RecordReject(ctx, cloud.Reject{Branch: "PTX-001", Topic: "t\x00",
		Reason: event.RejectMalformed, Detail: "invalid character '\xe9' \x00"}))
	assert.Equal(t, 1, count(t, `SELECT count(*) FROM ingest_rejects WHERE branch = 'PTX-001'`))
	require.NoError(t, s.RecordStatus(ctx, event.Status{V: 1, Branch: "PTX-001", Online: true,
		AgentVersion: "1.0\x00\xff", At: time.Now()}))
	st, err := s.BranchSync(ctx, "PTX-001")
	require.NoError(t, err)
	assert.Equal(t, "1.0\uFFFD\uFFFD", st.AgentVersion)
}

// A data error of the database (here 22003, a number jsonb cannot hold)
// quarantines that event alone; the events around it are applied.
func TestIngestQuarantinesDataError(t *testing.T) {
	s := store(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 28, 13, 0, 0, 0, time.UTC)
	mk := func(seq uint64, data string) event.Event {
		return event.Event{Seq: seq, ID: "pde-" + string(rune('a'+seq)), Type: event.ExecutivePaused, At: at, Data: json.RawMessage(data)}
	}
	res, err := s.Ingest(ctx, batch("PDE-001", []event.Event{
		mk(1, `{"executive":"E1","counter":1,"reason":"uno"}`),
		mk(2, `{"executive":"E2","counter":2,"reason":"x","extra":1e400000}`),
		mk(3, `{"executive":"E3","counter":3,"reason":"tres"}`),
	}))
	require.NoError(t, err)
	assert.Equal(t, uint64(3), res.Applied, "the ack passes the refused event")
	require.Len(t, res.Quarantined, 1)
	assert.Equal(t, event.RejectData, res.Quarantined[0].Reason)
	assert.Contains(t, res.Quarantined[0].Detail, "22003")
	assert.Equal(t, 2, count(t, `SELECT count(*) FROM executive_sessions WHERE branch = 'PDE-001'`), "E1 and E3 projected")
	assert.Equal(t, 1, count(t, `SELECT count(*) FROM ingest_quarantine WHERE branch = 'PDE-001' AND seq = 2 AND reason = 'data'`))
	sync, err := s.BranchSync(ctx, "PDE-001")
	require.NoError(t, err)
	assert.Equal(t, int64(1), sync.Quarantined, "the sync API shows it")
	assert.Equal(t, uint64(3), sync.LastSeq)
	assert.Empty(t, sync.Gaps)

	// The agent's resend is a duplicate: nothing new, the same ack.
	res, err = s.Ingest(ctx, batch("PDE-001", []event.Event{mk(2, `{"executive":"E2","counter":2,"reason":"x","extra":1e400000}`)}))
	require.NoError(t, err)
	assert.Equal(t, uint64(3), res.Applied)
	assert.Equal(t, 1, count(t, `SELECT count(*) FROM ingest_quarantine WHERE branch = 'PDE-001'`))
}
