package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/eventgen"
)

// BenchmarkIngest50Branches measures the cloud's ingest (insert, projections,
// sync state, NOTIFY, one transaction per batch) with 50 branches sending
// batches of 100 events through 8 workers, and PostgreSQL's COPY rate of the
// same rows in the same run, as the floor to compare with.
func BenchmarkIngest50Branches(b *testing.B) {
	if dbErr != nil {
		b.Skipf("PostgreSQL unreachable: %v", dbErr)
	}
	const branches, perBatch, workers = 50, 100, 8
	ctx := context.Background()
	for b.Loop() {
		run := time.Now().UnixNano()
		var batches [branches][]event.Batch
		total := 0
		for i := range branches {
			name := fmt.Sprintf("B%d-%03d", run%100000, i)
			evs := eventgen.New(name, uint64(i)).Take(2000)
			total += len(evs)
			for j := 0; j < len(evs); j += perBatch {
				batches[i] = append(batches[i], event.Batch{V: 1, Branch: name, Events: evs[j : j+perBatch]})
			}
		}
		s := postgres.NewEventStore(testDB, nil)
		work := make(chan []event.Batch)
		var wg sync.WaitGroup
		start := time.Now()
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for bs := range work {
					for _, bt := range bs {
						if _, err := s.Ingest(ctx, bt); err != nil {
							b.Error(err)
							return
						}
					}
				}
			}()
		}
		// A branch's batches stay in order on one worker; branches interleave.
		for i := range branches {
			work <- batches[i]
		}
		close(work)
		wg.Wait()
		ingest := time.Since(start)

		// COPY floor: the same rows into an unindexed copy of events.
		_, err := testDB.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS events_copy (LIKE events INCLUDING DEFAULTS)`)
		require.NoError(b, err)
		conn, err := testDB.Acquire(ctx)
		require.NoError(b, err)
		_, err = conn.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS events_copy (LIKE events INCLUDING DEFAULTS); TRUNCATE events_copy`)
		require.NoError(b, err)
		var rows [][]any
		for i := range branches {
			for _, bt := range batches[i] {
				for _, e := range bt.Events {
					rows = append(rows, []any{bt.Branch, int64(e.Seq), e.ID, string(e.Type), e.At, string(e.Data)})
				}
			}
		}
		start = time.Now()
		_, err = conn.Conn().CopyFrom(ctx, pgx.Identifier{"events_copy"}, []string{"branch", "seq", "id", "type", "at", "data"},
			pgx.CopyFromRows(rows))
		copyDur := time.Since(start)
		conn.Release()
		require.NoError(b, err)
		b.ReportMetric(float64(total)/ingest.Seconds(), "events/s")
		b.ReportMetric(float64(len(rows))/copyDur.Seconds(), "copy_rows/s")
		b.ReportMetric(0, "ns/op")
	}
}
