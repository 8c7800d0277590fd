package retention_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
	"github.com/ticketero/ticketero/cloud/retention"
)

// BenchmarkRunOnce: one run over a backlog of 20,000 old tickets with a RUT
// hash and their 20,000 ticket.issued events (batches of 5,000); the
// backlog is restored, untimed, before each run.
func BenchmarkRunOnce(b *testing.B) {
	pool := hqtest.MustPool(b, dsn)
	ctx := context.Background()
	exec := func(sql string) {
		_, err := pool.Exec(ctx, sql)
		require.NoError(b, err)
	}
	exec(`INSERT INTO branches (id) VALUES ('BEN-001') ON CONFLICT DO NOTHING`)
	exec(`INSERT INTO tickets (branch, id, day, origin_service, number, service, priority, status, queued_at, created_at, last_seq)
		SELECT 'BEN-001', 'b' || i, DATE '2026-09-01', 'C', i, 'C', 'normal', 'completed', TIMESTAMPTZ '2026-09-01 12:00Z',
			TIMESTAMPTZ '2026-09-01 12:00Z', i FROM generate_series(1, 20000) i`)
	exec(`INSERT INTO events (branch, seq, id, type, at, data)
		SELECT 'BEN-001', i, 'be' || i, 'ticket.issued', TIMESTAMPTZ '2026-09-01 12:00Z',
			jsonb_build_object('ticket', 'b' || i, 'service', 'C', 'number', i) FROM generate_series(1, 20000) i`)
	b.Cleanup(func() {
		exec(`DELETE FROM events WHERE branch = 'BEN-001'`)
		exec(`DELETE FROM tickets WHERE branch = 'BEN-001'`)
	})
	now := time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)
	job, err := retention.New(&postgres.Anonymiser{Pool: pool}, hq.New(pool, func() time.Time { return now }), retention.Config{Days: 30, Now: func() time.Time { return now }})
	require.NoError(b, err)
	var rows int64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		exec(`UPDATE tickets SET rut_hash = 'h' || id WHERE branch = 'BEN-001'`)
		exec(`UPDATE events SET data = data || jsonb_build_object('rut_hash', 'h' || seq) WHERE branch = 'BEN-001'`)
		b.StartTimer()
		res, err := job.RunOnce(ctx)
		require.NoError(b, err)
		rows += res.Tickets + res.Events
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
