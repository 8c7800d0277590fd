package telegram_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/ingest"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/eventgen"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

// BenchmarkIngestHook measures what writing notification jobs inside the
// ingest transaction costs: 20,000 generated events (issue, call, start,
// complete, transfer, ...) in batches of 100, without the hook, with the hook
// and no chat linked, and with one ticket in five linked to a chat.
func BenchmarkIngestHook(b *testing.B) {
	const events, batch = 20000, 100
	for _, mode := range []string{"off", "no-links", "20pct-linked"} {
		b.Run(mode, func(b *testing.B) {
			for it := 0; it < b.N; it++ {
				b.StopTimer()
				e := newEnv(b, telegramtest.Options{})
				if mode == "off" {
					e.ingest = postgres.NewEventStore(e.pool, nil)
				}
				const branch = "ING-001"
				evs := eventgen.New(branch, 7).Take(events)
				if mode == "20pct-linked" {
					ctx := context.Background()
					for i := 1; i <= events; i += 5 {
						sealed, err := e.keys.SealChat(int64(50000 + i))
						require.NoError(b, err)
						_, err = e.pool.Exec(ctx, `WITH c AS (INSERT INTO telegram_chats (chat_hash, chat_enc) VALUES ($1, $2) RETURNING id)
							INSERT INTO telegram_token_links (token, chat_id) SELECT $3, id FROM c`,
							e.keys.ChatHash(int64(50000+i)), sealed, fmt.Sprintf("tk_%s_%d", branch, i))
						require.NoError(b, err)
					}
				}
				b.StartTimer()
				start := time.Now()
				for i := 0; i < events; i += batch {
					_, err := e.ingest.Ingest(context.Background(), event.Batch{V: event.Version, Branch: branch,
						Events: evs[i:min(i+batch, events)]})
					require.NoError(b, err)
				}
				b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
				b.StopTimer()
				b.ReportMetric(float64(e.count(`SELECT count(*) FROM telegram_jobs`)), "jobs")
			}
		})
	}
}

// BenchmarkIngestHookCost measures the job writer's cost with no chat linked
// on a loaded machine: the same ingest with and without it, interleaved
// batch by batch in one database (40 rounds of 1,000 events per side, each
// round on fresh branches), so load from other processes falls on both
// alike. hook_cost_% is the median over rounds of 1 − (with / without); the
// events/s are over all rounds.
func BenchmarkIngestHookCost(b *testing.B) {
	const rounds, events, batch = 40, 1000, 100
	for it := 0; it < b.N; it++ {
		b.StopTimer()
		e := newEnv(b, telegramtest.Options{})
		stores := [2]*postgres.EventStore{postgres.NewEventStore(e.pool, nil), e.ingest}
		// The rounds are timed, so `make bench` (-benchtime 1s) runs one
		// iteration; with the timer stopped it grew b.N past its timeout.
		b.StartTimer()
		ctx := context.Background()
		hookCost(b, e, rounds, events/batch, events, func(r int) [2]func(step int) {
			var evs [2][]event.Event
			var names [2]string
			for side := range 2 {
				names[side] = fmt.Sprintf("HC%d-%d-%d", side, it, r)
				evs[side] = eventgen.New(names[side], uint64(r)).Take(events)
			}
			var steps [2]func(step int)
			for side := range 2 {
				steps[side] = func(step int) {
					i := step * batch
					_, err := stores[side].Ingest(ctx, event.Batch{V: event.Version, Branch: names[side], Events: evs[side][i : i+batch]})
					require.NoError(b, err)
				}
			}
			return steps
		})
	}
}

// BenchmarkIngestHookCostHandle is BenchmarkIngestHookCost on the production
// path: each step hands one ingest.Processor.Handle call a batch of 100
// events of each of 5 branches (what a worker's queue holds when branches
// send at once), stored together; 40 rounds of 5 × 500 events per side.
func BenchmarkIngestHookCostHandle(b *testing.B) {
	const rounds, branches, events, batch = 40, 5, 500, 100
	for it := 0; it < b.N; it++ {
		b.StopTimer()
		e := newEnv(b, telegramtest.Options{})
		off := postgres.NewEventStore(e.pool, nil)
		procs := [2]*ingest.Processor{ingest.New(off, off, nil, nil, nil), ingest.New(e.ingest, e.ingest, nil, nil, nil)}
		b.StartTimer()
		ctx := context.Background()
		hookCost(b, e, rounds, events/batch, branches*events, func(r int) [2]func(step int) {
			var msgs [2][][]cloud.Message // per step
			for side := range 2 {
				for k := range branches {
					name := fmt.Sprintf("HH%d-%d-%d-%d", side, it, r, k)
					evs := eventgen.New(name, uint64(r*branches+k)).Take(events)
					for j := 0; j < events; j += batch {
						if k == 0 {
							msgs[side] = append(msgs[side], nil)
						}
						payload, err := event.EncodeBatch(name, evs[j:j+batch])
						require.NoError(b, err)
						msgs[side][j/batch] = append(msgs[side][j/batch], cloud.Message{Topic: event.EventsTopic(name), Payload: payload})
					}
				}
			}
			var steps [2]func(step int)
			for side := range 2 {
				steps[side] = func(step int) {
					require.NoError(b, procs[side].Handle(ctx, msgs[side][step]...))
				}
			}
			return steps
		})
	}
}

// hookCost runs rounds of n steps per side (events in all of a side's
// steps), the sides alternating which goes first step by step, and reports
// the sides' events/s (side 0 without the hook, side 1 with it), the median
// over rounds of the hook's share of the time (hook_cost_%) and of the CPU
// time spent by this process and the database's backends
// (hook_cpu_cost_%), and each side's CPU per event. round prepares a round
// (untimed) and returns each side's step.
func hookCost(b *testing.B, e *env, rounds, n, events int, round func(r int) [2]func(step int)) {
	var took, cpu [2]time.Duration
	costs, cpuCosts := make([]float64, 0, rounds), make([]float64, 0, rounds)
	dbURL := e.pool.Config().ConnString()
	for r := range rounds {
		b.StopTimer()
		steps := round(r)
		b.StartTimer()
		var sum, sumCPU [2]time.Duration
		for i := range n {
			for k := range 2 {
				side := (k + i) % 2 // alternate which side goes first
				m := pgtest.StartCPU(dbURL)
				start := time.Now()
				steps[side](i)
				sum[side] += time.Since(start)
				goCPU, pgCPU := m.Since()
				sumCPU[side] += goCPU + pgCPU
			}
		}
		took[0], took[1] = took[0]+sum[0], took[1]+sum[1]
		cpu[0], cpu[1] = cpu[0]+sumCPU[0], cpu[1]+sumCPU[1]
		costs = append(costs, 100*(1-sum[0].Seconds()/sum[1].Seconds()))
		cpuCosts = append(cpuCosts, 100*(1-sumCPU[0].Seconds()/sumCPU[1].Seconds()))
	}
	slices.Sort(costs)
	slices.Sort(cpuCosts)
	b.ReportMetric(float64(rounds*events)/took[0].Seconds(), "off_events/s")
	b.ReportMetric(float64(rounds*events)/took[1].Seconds(), "no-links_events/s")
	b.ReportMetric(costs[len(costs)/2], "hook_cost_%")
	b.ReportMetric(cpuCosts[len(cpuCosts)/2], "hook_cpu_cost_%")
	b.ReportMetric(float64(cpu[0].Microseconds())/float64(rounds*events), "off_cpu_µs/event")
	b.ReportMetric(float64(cpu[1].Microseconds())/float64(rounds*events), "no-links_cpu_µs/event")
	b.ReportMetric(float64(e.count(`SELECT count(*) FROM telegram_jobs`)), "jobs")
}
