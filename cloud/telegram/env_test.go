package telegram_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/notify"
	"github.com/ticketero/ticketero/cloud/postgres/postgrestest"
	"github.com/ticketero/ticketero/cloud/telegram"
	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
	"github.com/ticketero/ticketero/shared/event"
)

const (
	testToken = "123456:TEST-token_abc"
	testDay   = "2026-11-28"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// env is one test's world: its own database, the real ingest, a fake Bot API.
type env struct {
	t      testing.TB
	pool   *pgxpool.Pool
	ingest *postgres.EventStore
	store  *notify.Store
	keys   *telegram.Keys
	fake   *telegramtest.Server
	bot    *telegram.Bot
	pub    *recorder

	mu       sync.Mutex
	seq      map[string]uint64
	updateID int64
}

func newEnv(tb testing.TB, opt telegramtest.Options) *env {
	tb.Helper()
	pool := postgrestest.MustPool(tb)
	if opt.ChatGap == 0 {
		opt.ChatGap = 100 * time.Millisecond // functional tests: fast per-chat pacing
	}
	keys, err := telegram.NewKeys(testKey)
	require.NoError(tb, err)
	store := notify.New(pool, keys)
	// Jobs are written inside the ingest's transaction, as in the cloud.
	e := &env{t: tb, pool: pool, ingest: postgres.NewEventStore(pool, nil, postgres.WithJobs(store)), store: store, keys: keys,
		fake: telegramtest.New(testToken, opt), pub: &recorder{}, seq: map[string]uint64{}, updateID: 500}
	tb.Cleanup(e.fake.Close)
	e.bot = &telegram.Bot{Store: e.store, Keys: keys, Commands: e.pub}
	return e
}

// feed ingests events of a branch as the cloud does (the real ingest, with the
// notification hook in its transaction).
func (e *env) feed(branch string, evs ...event.Event) {
	e.t.Helper()
	res, err := e.ingest.Ingest(context.Background(), event.Batch{V: event.Version, Branch: branch, Events: evs})
	require.NoError(e.t, err)
	require.Equal(e.t, evs[len(evs)-1].Seq, res.Applied)
}

func (e *env) ev(branch string, typ event.Type, data any) event.Event {
	e.mu.Lock()
	e.seq[branch]++
	seq := e.seq[branch]
	e.mu.Unlock()
	ev, err := event.New(seq, fmt.Sprintf("%s-%d", branch, seq), typ, time.Now(), data)
	require.NoError(e.t, err)
	return ev
}

func ref(ticket, service string, number int) event.TicketRef {
	return event.TicketRef{Ticket: ticket, Service: service, Number: number, Day: testDay}
}

func (e *env) issued(branch, ticket, service string, number, position int, token, rut string) event.Event {
	return e.ev(branch, event.TicketIssued, event.Issued{TicketRef: ref(ticket, service, number), Priority: "normal",
		QueuedAt: time.Now().Add(time.Duration(number) * time.Millisecond), Position: position,
		QuotedTypical: 300 * position, QuotedUpper: 420 * position, Token: token, RUTHash: rut, Channel: "kiosk"})
}

func (e *env) called(branch, ticket, service string, number, counter int, name string, recall int) event.Event {
	typ := event.TicketCalled
	if recall > 0 {
		typ = event.TicketRecalled
	}
	r := ref(ticket, service, number)
	r.Counter, r.Executive = counter, "ex-"+name
	return e.ev(branch, typ, event.Called{TicketRef: r, ExecutiveName: name, Recall: recall})
}

// say delivers a private text message from chat as an update.
func (e *env) say(chat int64, lang, text string) int64 {
	e.t.Helper()
	e.mu.Lock()
	e.updateID++
	id := e.updateID
	e.mu.Unlock()
	u := telegram.Update{UpdateID: id, Message: &telegram.Message{MessageID: id, Text: text,
		Chat: telegram.Chat{ID: chat, Type: "private"}, From: &telegram.User{ID: chat, LanguageCode: lang}}}
	require.NoError(e.t, e.bot.Handle(context.Background(), u))
	return id
}

func (e *env) worker(rate float64) *telegram.Worker {
	return &telegram.Worker{Store: e.store, Bot: telegram.NewClient(e.fake.URL, testToken, nil), Keys: e.keys,
		Limiter: telegram.NewLimiter(rate), Retries: []time.Duration{20 * time.Millisecond, 40 * time.Millisecond,
			80 * time.Millisecond}, Poll: 10 * time.Millisecond,
		Pacing: notify.Pacing{Private: 150 * time.Millisecond, Group: telegram.DefaultPacing.Group, Lease: time.Minute}}
}

// run starts w until the test ends (or stop is called).
func run(tb testing.TB, w *telegram.Worker) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	tb.Cleanup(stop)
	return stop
}

// waitTexts waits until chat received n messages and returns them.
func (e *env) waitTexts(chat int64, n int) []string {
	e.t.Helper()
	var got []string
	require.Eventually(e.t, func() bool { got = e.fake.SentTo(chat); return len(got) >= n }, 15*time.Second,
		5*time.Millisecond, "chat %d: want %d messages", chat, n)
	return got
}

func (e *env) jobCounts() map[string]int {
	e.t.Helper()
	c, err := e.store.JobCounts(context.Background())
	require.NoError(e.t, err)
	return c
}

func (e *env) exec(sql string, args ...any) {
	e.t.Helper()
	_, err := e.pool.Exec(context.Background(), sql, args...)
	require.NoError(e.t, err)
}

func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// recorder is a CommandPublisher that records what it published (it stands in
// for the MQTT adapter, whose own tests run against a real broker).
type recorder struct {
	mu   sync.Mutex
	cmds []event.Command
	fail bool
}

func (r *recorder) PublishCommand(_ context.Context, c event.Command) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return fmt.Errorf("broker down")
	}
	r.cmds = append(r.cmds, c)
	return nil
}

func (r *recorder) published() []event.Command {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event.Command(nil), r.cmds...)
}

func contains(texts []string, sub string) bool {
	for _, s := range texts {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
