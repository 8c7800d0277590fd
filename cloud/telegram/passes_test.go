package telegram_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/telegram"
	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
	"github.com/ticketero/ticketero/shared/event"
)

// countingStore counts the periodic jobs' passes of a replica's store.
type countingStore struct {
	telegram.Store
	scores, reminders, purges, links *atomic.Int64
}

func (s countingStore) ResolvePending(ctx context.Context, since time.Duration) (int, error) {
	if s.links != nil {
		s.links.Add(1)
	}
	return s.Store.ResolvePending(ctx, since)
}

func (s countingStore) ExecutiveScores(ctx context.Context, days int) (map[string][]event.ExecutiveScore, error) {
	s.scores.Add(1)
	return s.Store.ExecutiveScores(ctx, days)
}

func (s countingStore) QueueReminders(ctx context.Context) (int, error) {
	s.reminders.Add(1)
	return s.Store.QueueReminders(ctx)
}

func (s countingStore) Purge(ctx context.Context, r cloud.NotificationRetention) (int64, error) {
	s.purges.Add(1)
	return s.Store.Purge(ctx, r)
}

// countingPasses counts a replica's claims (its ticks).
type countingPasses struct {
	postgres.Passes
	mu     *sync.Mutex
	claims map[string]int
}

func (p countingPasses) count(job string) {
	p.mu.Lock()
	p.claims[job]++
	p.mu.Unlock()
}

func (p countingPasses) Claim(ctx context.Context, job string, hold time.Duration) (func(context.Context, time.Duration) error, bool, error) {
	p.count(job)
	return p.Passes.Claim(ctx, job, hold)
}

func (p countingPasses) Keep(ctx context.Context, job, holder string, hold time.Duration) (func(context.Context, time.Duration) error, bool, bool, error) {
	p.count(job)
	return p.Passes.Keep(ctx, job, holder, hold)
}

func (e *env) feedback(branch, ticket, exec string, csat, nps int) {
	e.exec(`INSERT INTO feedback (branch, ticket, channel, day, executive, csat, nps, expires_at, answered_at)
		VALUES ($1, $2, 'tablet', current_date, $3, $4, $5, now(), now())`, branch, ticket, exec, csat, nps)
}

// TestReplicasRunPassesOncePerCluster: two replicas' Telegram services
// (RunShared, as ticketero-cloud runs them) on one database each tick the
// pending links, scores, reminders and purge once at start; with Passes one
// replica runs each job and the other skips it (one scores query, each
// branch's scores sent once), without Passes both run everything. (The
// links tick every 2 s: a run slower than that sees a second period, one
// pass per two claims.)
func TestReplicasRunPassesOncePerCluster(t *testing.T) {
	for _, shared := range []bool{true, false} {
		name := map[bool]string{true: "Passes", false: "NoPasses"}[shared]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, telegramtest.Options{})
			e.feedback("SC-A", "t1", "E01", 5, 10)
			e.feedback("SC-B", "t2", "E07", 4, 9)
			var scores, reminders, purges, links atomic.Int64
			var mu sync.Mutex
			claims := map[string]int{}
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for range 2 {
				cfg := telegram.Config{Token: testToken, Mode: telegram.ModePolling, APIBase: e.fake.URL, DataKey: testKey}
				svc, err := telegram.NewService(cfg, countingStore{Store: e.store, scores: &scores, reminders: &reminders, purges: &purges,
					links: &links}, e.pub, nil, nil)
				require.NoError(t, err)
				if shared {
					svc.Passes = countingPasses{Passes: postgres.Passes{Pool: e.pool}, mu: &mu, claims: claims}
				}
				wg.Add(1)
				go func() { defer wg.Done(); _ = svc.RunShared(ctx) }()
			}
			want := int64(2)
			if shared {
				want = 1
				require.Eventually(t, func() bool {
					mu.Lock()
					defer mu.Unlock()
					return claims[telegram.ScoresJob] == 2 && claims[telegram.RemindersJob] == 2 && claims[telegram.PurgeJob] == 2 &&
						claims[telegram.LinksJob] >= 2
				}, 10*time.Second, 10*time.Millisecond, "each replica ticks each job once")
			}
			require.Eventually(t, func() bool {
				return scores.Load() >= want && reminders.Load() >= want && purges.Load() >= want && links.Load() >= want &&
					len(e.pub.published()) >= 2*int(want)
			}, 10*time.Second, 10*time.Millisecond)
			time.Sleep(200 * time.Millisecond) // a pass the other replica should not run
			cancel()
			wg.Wait()
			assert.Equal(t, want, scores.Load(), "scores passes")
			assert.Equal(t, want, reminders.Load(), "reminder passes")
			assert.Equal(t, want, purges.Load(), "purge passes")
			assert.Len(t, e.pub.published(), 2*int(want), "each branch's scores sent once per replica running the pass")
			if shared {
				mu.Lock()
				assert.LessOrEqual(t, 2*links.Load(), int64(claims[telegram.LinksJob]+1), "one links pass per period")
				mu.Unlock()
			} else {
				assert.GreaterOrEqual(t, links.Load(), want, "links passes")
			}
		})
	}
}

// TestScoresOnePublisherPerCluster: two replicas' score publishers on one
// database, ticking every 200 ms: the one that claimed the job keeps it (one
// scores query per period, not two; unchanged scores not sent again); when
// it stops, it hands the job over and the other sends every branch's
// scores once; when the first takes the job back, it has forgotten what it
// sent before (the other replica sent since), so a set it sent once, which
// the branch no longer has, goes out again.
func TestScoresOnePublisherPerCluster(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	e.feedback("SC-A", "t1", "E01", 5, 10)
	e.feedback("SC-B", "t2", "E07", 4, 9)
	const every = 200 * time.Millisecond
	var queries [2]atomic.Int64
	var ps [2]*telegram.ScorePublisher
	for i := range ps {
		var reminders, purges atomic.Int64
		ps[i] = &telegram.ScorePublisher{Store: countingStore{Store: e.store, scores: &queries[i], reminders: &reminders, purges: &purges},
			Commands: e.pub, Passes: postgres.Passes{Pool: e.pool}, Every: every}
	}
	ctx := context.Background()
	require.NoError(t, ps[0].Pass(ctx))
	require.Len(t, e.pub.published(), 2)
	byBranch := func() map[string]string {
		m := map[string]string{}
		for _, c := range e.pub.published() {
			m[c.Branch] = c.ID
		}
		return m
	}

	// Both loops run; the first keeps the job.
	ctx0, stop0 := context.WithCancel(ctx)
	ctx1, stop1 := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	go func() { _ = ps[0].Run(ctx0); done <- struct{}{} }()
	go func() { _ = ps[1].Run(ctx1); done <- struct{}{} }()
	start := time.Now()
	time.Sleep(10 * every)
	periods := int64(time.Since(start)/every) + 2
	assert.Zero(t, queries[1].Load(), "the second replica never ran a pass")
	assert.LessOrEqual(t, queries[0].Load(), periods, "at most one pass per period")
	assert.Len(t, e.pub.published(), 2, "unchanged scores are not sent again")

	e.exec(`UPDATE feedback SET csat = 1 WHERE branch = 'SC-B'`)
	require.Eventually(t, func() bool { return len(e.pub.published()) == 3 }, 5*time.Second, 5*time.Millisecond)

	// The first replica stops: the second takes the job over at its tick.
	stop0()
	<-done
	require.Eventually(t, func() bool { return len(e.pub.published()) == 5 }, 5*time.Second, 5*time.Millisecond,
		"the second replica sends every branch's scores once")
	assert.Positive(t, queries[1].Load())
	time.Sleep(5 * every)
	assert.Len(t, e.pub.published(), 5, "then only what changes")

	// SC-B's scores change on the second replica's watch; it stops, they
	// go back to the set the first replica last sent, and the first takes
	// the job back: what it remembers sending is no longer what the branch
	// has.
	changed := byBranch()["SC-B"]
	e.exec(`UPDATE feedback SET csat = 4 WHERE branch = 'SC-B'`)
	require.Eventually(t, func() bool { return len(e.pub.published()) == 6 }, 5*time.Second, 5*time.Millisecond)
	stop1()
	<-done
	e.exec(`UPDATE feedback SET csat = 1 WHERE branch = 'SC-B'`)
	require.NoError(t, ps[0].Pass(ctx))
	assert.Len(t, e.pub.published(), 8, "taken back: every branch again")
	assert.Equal(t, changed, byBranch()["SC-B"], "the branch has the set again, though the first replica sent it before")
}

// The pending links pass links a chat whose /start raced its ticket's
// ingest (neither saw the other) once, with its confirmation; a link whose
// ticket has not arrived stays pending and, once the ingest has linked it,
// is only marked resolved (no second confirmation); a link older than the
// pass's 24 h is left alone. Resolved links are no longer read (00034).
func TestResolvePendingLinksOnce(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	ctx := context.Background()
	const b = "SCL-RES"
	chat := func(id int64) int64 {
		sealed, err := e.keys.SealChat(id)
		require.NoError(t, err)
		var row int64
		require.NoError(t, e.pool.QueryRow(ctx, `INSERT INTO telegram_chats (chat_hash, chat_enc) VALUES ($1, $2) RETURNING id`,
			e.keys.ChatHash(id), sealed).Scan(&row))
		return row
	}
	raced, later, old := chat(9101), chat(9102), chat(9103)
	e.feed(b, e.issued(b, "r1", "C", 1, 1, "tok-race", ""), e.issued(b, "r3", "C", 3, 2, "tok-old", ""))
	// The /start links as LinkToken writes them when its transaction did
	// not see the ticket.
	e.exec(`INSERT INTO telegram_token_links (token, chat_id) VALUES ('tok-race', $1), ('tok-later', $2)`, raced, later)
	e.exec(`INSERT INTO telegram_token_links (token, chat_id, created_at) VALUES ('tok-old', $1, now() - interval '25 hours')`, old)
	confirms := func(chat int64) int {
		return e.count(`SELECT count(*) FROM telegram_jobs WHERE chat_id = $1 AND kind = 'confirm'`, chat)
	}
	pending := func(token string) bool {
		return e.count(`SELECT count(*) FROM telegram_token_links WHERE token = $1 AND resolved_at IS NULL`, token) == 1
	}

	n, err := e.store.ResolvePending(ctx, 24*time.Hour)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM telegram_ticket_chats WHERE ticket = 'r1' AND chat_id = $1`, raced))
	assert.Equal(t, 1, confirms(raced))
	assert.False(t, pending("tok-race"), "resolved")
	assert.True(t, pending("tok-later"), "its ticket has not arrived")
	assert.Zero(t, e.count(`SELECT count(*) FROM telegram_ticket_chats WHERE chat_id = $1`, old), "older than the pass's window")

	n, err = e.store.ResolvePending(ctx, 24*time.Hour)
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, 1, confirms(raced), "linked once")

	// The ticket arrives: its ingest links the chat and confirms; the pass
	// then only marks the link.
	e.feed(b, e.issued(b, "r2", "C", 2, 2, "tok-later", ""))
	assert.Equal(t, 1, confirms(later))
	assert.True(t, pending("tok-later"))
	n, err = e.store.ResolvePending(ctx, 24*time.Hour)
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.False(t, pending("tok-later"))
	assert.Equal(t, 1, confirms(later), "confirmed once")
	assert.Zero(t, e.count(`SELECT count(*) FROM telegram_ticket_chats WHERE chat_id = $1`, old))
}

// BenchmarkLinksTick compares what a pending-links tick costs a replica
// (one ResolvePending with nothing pending, the usual case) with what a
// claim per tick would add (Passes.Claim while another replica's claim
// holds, as N − 1 replicas would see it; and a claim and its end, as the
// one running the pass would); then the tick over a 5,000-branch day's
// links: the pass with every link resolved, and with the links made since
// the last tick to mark.
func BenchmarkLinksTick(b *testing.B) {
	e := newEnv(b, telegramtest.Options{})
	ctx := context.Background()
	p := postgres.Passes{Pool: e.pool}
	b.Run("links", func(b *testing.B) {
		for b.Loop() {
			_, err := e.store.ResolvePending(ctx, 24*time.Hour)
			require.NoError(b, err)
		}
	})
	b.Run("claim-skipped", func(b *testing.B) {
		_, ok, err := p.Claim(ctx, "bench.held", time.Hour)
		require.NoError(b, err)
		require.True(b, ok)
		for b.Loop() {
			_, ok, err := p.Claim(ctx, "bench.held", time.Minute)
			require.NoError(b, err)
			require.False(b, ok)
		}
	})
	b.Run("claim-and-end", func(b *testing.B) {
		for b.Loop() {
			end, ok, err := p.Claim(ctx, "bench.run", time.Minute)
			require.NoError(b, err)
			require.True(b, ok)
			require.NoError(b, end(ctx, 0))
		}
	})
	// 5,000 branches, 500 tickets a day each, one in ten followed on
	// Telegram: 250,000 /start links a day, kept 48 h, each linked to its
	// ticket (nothing pending: the usual pass).
	e.exec(`INSERT INTO telegram_chats (chat_hash, chat_enc) VALUES ('bench', '\x00')`)
	e.exec(`INSERT INTO tickets (branch, id, day, origin_service, number, service, priority, status, token, queued_at, created_at, last_seq)
		SELECT 'B' || i % 5000, 't' || i, current_date, 'C', i, 'C', 'normal', 'served', 'tok' || i, now(), now(), i
		FROM generate_series(1, 500000) AS i`)
	e.exec(`INSERT INTO telegram_token_links (token, chat_id, created_at)
		SELECT 'tok' || i, (SELECT id FROM telegram_chats WHERE chat_hash = 'bench'), now() - i * interval '345 ms'
		FROM generate_series(1, 500000) AS i`)
	e.exec(`INSERT INTO telegram_ticket_chats (branch, ticket, chat_id)
		SELECT 'B' || i % 5000, 't' || i, (SELECT id FROM telegram_chats WHERE chat_hash = 'bench')
		FROM generate_series(1, 500000) AS i`)
	// The seeded links are new (resolved_at NULL): the first pass marks
	// those of its 24 h resolved, as passes do each link once after its
	// ingest linked it (migration 00034 marks a database's existing links).
	start := time.Now()
	_, err := e.store.ResolvePending(ctx, 24*time.Hour)
	require.NoError(b, err)
	b.Logf("first pass over the seeded links (marks 250,000): %v", time.Since(start))
	e.exec(`VACUUM ANALYZE tickets, telegram_token_links, telegram_ticket_chats`)
	b.Run("links-500k", func(b *testing.B) {
		for b.Loop() {
			_, err := e.store.ResolvePending(ctx, 24*time.Hour)
			require.NoError(b, err)
		}
	})
	// Each tick, the 6 links a 2 s of that day brings (250,000 a day),
	// linked by their tickets' ingest before the pass, which marks them.
	next := 500000
	b.Run("links-500k-new", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			e.exec(`WITH n AS (SELECT i FROM generate_series($1::int + 1, $1::int + 6) AS i),
				t AS (INSERT INTO tickets (branch, id, day, origin_service, number, service, priority, status, token, queued_at, created_at, last_seq)
					SELECT 'B' || i % 5000, 't' || i, current_date, 'C', i, 'C', 'normal', 'waiting', 'tok' || i, now(), now(), i FROM n),
				l AS (INSERT INTO telegram_token_links (token, chat_id) SELECT 'tok' || i, (SELECT id FROM telegram_chats WHERE chat_hash = 'bench') FROM n)
				INSERT INTO telegram_ticket_chats (branch, ticket, chat_id)
				SELECT 'B' || i % 5000, 't' || i, (SELECT id FROM telegram_chats WHERE chat_hash = 'bench') FROM n`, next)
			next += 6
			b.StartTimer()
			_, err := e.store.ResolvePending(ctx, 24*time.Hour)
			require.NoError(b, err)
		}
	})
}
