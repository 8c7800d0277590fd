package postgres_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/ingest"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/eventgen"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

const benchBranches, benchPerBranch, benchPerBatch, benchWorkers = 50, 2000, 100, 8

// benchBatches generates branches × perBranch events in batches of perBatch.
func benchBatches(branches, perBranch, perBatch int) (batches [][]event.Batch, total int) {
	run := time.Now().UnixNano()
	batches = make([][]event.Batch, branches)
	for i := range branches {
		name := fmt.Sprintf("B%d-%03d", run%100000, i)
		evs := eventgen.New(name, uint64(i)).Take(perBranch)
		total += len(evs)
		for j := 0; j < len(evs); j += perBatch {
			batches[i] = append(batches[i], event.Batch{V: 1, Branch: name, Events: evs[j : j+perBatch]})
		}
	}
	return batches, total
}

// BenchmarkIngest50Branches measures the cloud's ingest on its production
// path: 50 branches' batches of 100 events arrive as wire messages,
// interleaved across branches, in the MQTT client's per-worker queues (8
// workers, a branch always on the same one, queues of 256); each worker
// hands what is queued, up to 64 messages of several branches, to one
// ingest.Processor.Handle call, as cloud/mqtt's Run does. It reports the
// PostgreSQL COPY rate of the same rows in the same run as the floor.
func BenchmarkIngest50Branches(b *testing.B) {
	benchHandle(b, benchBranches, benchPerBranch, benchPerBatch)
}

// BenchmarkIngestSmallBatches is BenchmarkIngest50Branches with a large
// fleet's steady state instead of a backlog: 400 branches sending batches
// of 5 events (200 each), so a worker's queue holds one or two batches of
// many branches.
func BenchmarkIngestSmallBatches(b *testing.B) {
	benchHandle(b, 400, 200, 5)
}

func benchHandle(b *testing.B, branches, perBranch, perBatch int) {
	if dbErr != nil {
		b.Skipf("PostgreSQL unreachable: %v", dbErr)
	}
	ctx := context.Background()
	for b.Loop() {
		batches, total := benchBatches(branches, perBranch, perBatch)
		msgs := make([][]cloud.Message, branches)
		for i := range branches {
			for _, bt := range batches[i] {
				payload, err := event.EncodeBatch(bt.Branch, bt.Events)
				require.NoError(b, err)
				msgs[i] = append(msgs[i], cloud.Message{Topic: event.EventsTopic(bt.Branch), Payload: payload})
			}
		}
		s := postgres.NewEventStore(testDB, nil)
		proc := ingest.New(s, s, nil, nil, nil)
		cpu := pgtest.StartCPU(dbURL)
		queues := make([]chan cloud.Message, benchWorkers)
		var wg sync.WaitGroup
		start := time.Now()
		for w := range benchWorkers {
			q := make(chan cloud.Message, 256)
			queues[w] = q
			wg.Add(1)
			go func() {
				defer wg.Done()
				for m := range q {
					ms := []cloud.Message{m}
				more:
					for len(ms) < 64 {
						select {
						case m2, ok := <-q:
							if !ok {
								break more
							}
							ms = append(ms, m2)
						default:
							break more
						}
					}
					if err := proc.Handle(ctx, ms...); err != nil {
						b.Error(err)
					}
				}
			}()
		}
		// The broker delivers the branches' batches interleaved; a branch's
		// batches stay in order on its worker.
		for j := range perBranch / perBatch {
			for i := range branches {
				h := fnv.New32a()
				_, _ = h.Write([]byte(batches[i][0].Branch))
				queues[h.Sum32()%benchWorkers] <- msgs[i][j]
			}
		}
		for _, q := range queues {
			close(q)
		}
		wg.Wait()
		took := time.Since(start)
		goCPU, pgCPU := cpu.Since()
		require.NoError(b, s.Close())
		var stored int
		require.NoError(b, testDB.QueryRow(ctx, `SELECT coalesce(sum(applied_seq), 0) FROM branch_sync
			WHERE branch = ANY($1)`, branchNames(batches)).Scan(&stored))
		require.Equal(b, total, stored, "every event applied")
		rate, floor := float64(total)/took.Seconds(), copyRate(b, batches)
		b.ReportMetric(rate, "events/s")
		b.ReportMetric(float64(goCPU.Microseconds())/float64(total), "go_cpu_µs/event")
		b.ReportMetric(float64(pgCPU.Microseconds())/float64(total), "pg_cpu_µs/event")
		b.ReportMetric(floor, "copy_rows/s")
		b.ReportMetric(rate/floor, "ratio_to_copy")
		b.ReportMetric(0, "ns/op")
	}
}

// BenchmarkIngest50BranchesPerBatch is the benchmark's earlier shape (its
// figures in docs/performance.md before 2026-12-01 11:00 UTC): the store's
// Ingest called once per batch of 100 events by 8 workers, each taking a
// branch's batches in order; no message decoding, no merging of queued
// batches.
func BenchmarkIngest50BranchesPerBatch(b *testing.B) {
	if dbErr != nil {
		b.Skipf("PostgreSQL unreachable: %v", dbErr)
	}
	ctx := context.Background()
	for b.Loop() {
		batches, total := benchBatches(benchBranches, benchPerBranch, benchPerBatch)
		s := postgres.NewEventStore(testDB, nil)
		work := make(chan []event.Batch)
		var wg sync.WaitGroup
		start := time.Now()
		for range benchWorkers {
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
		for i := range benchBranches {
			work <- batches[i]
		}
		close(work)
		wg.Wait()
		took := time.Since(start)
		require.NoError(b, s.Close())
		b.ReportMetric(float64(total)/took.Seconds(), "events/s")
		b.ReportMetric(copyRate(b, batches), "copy_rows/s")
		b.ReportMetric(0, "ns/op")
	}
}

func branchNames(batches [][]event.Batch) []string {
	names := make([]string, len(batches))
	for i := range batches {
		names[i] = batches[i][0].Branch
	}
	return names
}

// copyRate is the floor: the same rows COPied into an unindexed temporary
// copy of events, in rows/s.
func copyRate(b *testing.B, batches [][]event.Batch) float64 {
	ctx := context.Background()
	conn, err := testDB.Acquire(ctx)
	require.NoError(b, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS events_copy (LIKE events INCLUDING DEFAULTS); TRUNCATE events_copy`)
	require.NoError(b, err)
	var rows [][]any
	for i := range batches {
		for _, bt := range batches[i] {
			for _, e := range bt.Events {
				rows = append(rows, []any{bt.Branch, int64(e.Seq), e.ID, string(e.Type), e.At, string(e.Data)})
			}
		}
	}
	start := time.Now()
	_, err = conn.Conn().CopyFrom(ctx, pgx.Identifier{"events_copy"}, []string{"branch", "seq", "id", "type", "at", "data"},
		pgx.CopyFromRows(rows))
	took := time.Since(start)
	require.NoError(b, err)
	return float64(len(rows)) / took.Seconds()
}
