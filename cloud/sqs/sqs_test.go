package sqs_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/ingest"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/sqs"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/eventgen"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// fauxqs finds or installs the SQS-compatible server (npm package fauxqs@1,
// which speaks the JSON protocol of aws-sdk-go-v2; goaws does not). It is
// installed once into $TMPDIR/ticketero-fauxqs, or taken from TICKETERO_FAUXQS.
func fauxqs(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TICKETERO_FAUXQS"); p != "" {
		return p
	}
	if _, err := exec.LookPath("node"); err != nil {
		skipOrFail(t, "node not found: the SQS test needs the npm package fauxqs@1")
	}
	dir := filepath.Join(os.TempDir(), "ticketero-fauxqs")
	bin := filepath.Join(dir, "node_modules", ".bin", "fauxqs")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--silent", "fauxqs@1")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		skipOrFail(t, "npm install fauxqs@1 failed: %v: %s", err, out)
	}
	return bin
}

func startFauxqs(t *testing.T) string {
	t.Helper()
	bin := fauxqs(t)
	port, err := mqtttest.FreePort()
	require.NoError(t, err)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), fmt.Sprintf("FAUXQS_PORT=%d", port), "FAUXQS_LOGGER=false", "FAUXQS_HOST=127.0.0.1")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	require.Eventually(t, func() bool {
		resp, err := http.Get(endpoint + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, 20*time.Second, 50*time.Millisecond, "fauxqs did not start")
	return endpoint
}

type acks struct {
	mu  sync.Mutex
	got []event.Ack
}

func (a *acks) Ack(_ context.Context, ack event.Ack) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, ack)
	return nil
}

func (a *acks) last() event.Ack {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.got) == 0 {
		return event.Ack{}
	}
	return a.got[len(a.got)-1]
}

// ruleBody is what the IoT rule SELECT *, topic() AS topic produces.
func ruleBody(t *testing.T, topic, branch string, evs []event.Event) string {
	t.Helper()
	b, err := event.EncodeBatch(branch, evs)
	require.NoError(t, err)
	return strings.TrimSuffix(string(b), "}") + `,"topic":"` + topic + `"}`
}

// rig is fauxqs with a queue, and a migrated database behind an ingest.
type rig struct {
	pool   *pgxpool.Pool
	client *awssqs.Client
	queue  *awssqs.CreateQueueOutput
	ack    *acks
	proc   *ingest.Processor
}

func newRig(ctx context.Context, t *testing.T, queue string) *rig {
	t.Helper()
	endpoint := startFauxqs(t)
	pool, err := postgres.Open(ctx, pgtest.New(t))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, postgres.Migrate(ctx, pool))
	store := postgres.NewEventStore(pool, nil)
	r := &rig{pool: pool, ack: &acks{}}
	r.proc = ingest.New(store, store, r.ack, nil, nil)
	r.client = sqs.NewClient(aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}, endpoint)
	r.queue, err = r.client.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(queue)})
	require.NoError(t, err)
	return r
}

// requireEmpty waits until no message is left in the queue, visible or not.
func (r *rig) requireEmpty(ctx context.Context, t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool {
		a, err := r.client.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: r.queue.QueueUrl,
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages,
				types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		return err == nil && a.Attributes["ApproximateNumberOfMessages"] == "0" &&
			a.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
	}, 10*time.Second, 100*time.Millisecond)
}

func TestSQSSource(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := newRig(ctx, t, "ticketero-events")
	pool, client, q, ack, proc := r.pool, r.client, r.queue, r.ack, r.proc

	evs := eventgen.New("SQS-001", 1).Take(60)
	topic := event.EventsTopic("SQS-001")
	bodies := []string{
		ruleBody(t, topic, "SQS-001", evs[20:40]), // out of order: held behind a gap
		ruleBody(t, topic, "SQS-001", evs[0:20]),
		ruleBody(t, topic, "SQS-001", evs[0:20]),                         // duplicate
		ruleBody(t, event.EventsTopic("SQS-002"), "SQS-001", evs[40:60]), // topic of another branch
		`{"v":1,"broken`,
		ruleBody(t, topic, "SQS-001", evs[40:60]),
	}
	for _, b := range bodies {
		_, err := client.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(b)})
		require.NoError(t, err)
	}
	src := &sqs.Source{API: client, QueueURL: aws.ToString(q.QueueUrl), Wait: time.Second}
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, proc.Handle) }()

	require.Eventually(t, func() bool { return ack.last().Seq == 60 }, 20*time.Second, 50*time.Millisecond)
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE branch = 'SQS-001'`).Scan(&n))
	assert.Equal(t, 60, n)
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM ingest_rejects WHERE reason IN ('branch_mismatch', 'topic')`).Scan(&n))
	assert.Equal(t, 2, n)

	// Every settled message was deleted: the queue is empty.
	r.requireEmpty(ctx, t)
	cancel()
	assert.NoError(t, <-done)
}

// Several branches' batches, queued out of order, through several receive
// loops: every branch ends stored whole and acked, the queue empty, and a
// receive's messages reached the ingest together.
func TestSQSSourceReceivers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := newRig(ctx, t, "ticketero-events-many")
	pool, client, q, proc := r.pool, r.client, r.queue, r.proc

	const branches, batches, per = 12, 4, 5
	var bodies []string
	for b := range branches {
		branch := fmt.Sprintf("SQM-%03d", b)
		evs := eventgen.New(branch, uint64(b+1)).Take(batches * per)
		for i := batches - 1; i >= 0; i-- { // last batch first: each held behind a gap
			bodies = append(bodies, ruleBody(t, event.EventsTopic(branch), branch, evs[i*per:(i+1)*per]))
		}
	}
	for i := 0; i < len(bodies); i += 10 {
		var entries []types.SendMessageBatchRequestEntry
		for j, b := range bodies[i:min(i+10, len(bodies))] {
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(j)), MessageBody: aws.String(b)})
		}
		_, err := client.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: q.QueueUrl, Entries: entries})
		require.NoError(t, err)
	}

	var mu sync.Mutex
	most := 0
	h := func(ctx context.Context, msgs ...cloud.Message) error {
		mu.Lock()
		most = max(most, len(msgs))
		mu.Unlock()
		return proc.Handle(ctx, msgs...)
	}
	src := &sqs.Source{API: client, QueueURL: aws.ToString(q.QueueUrl), Wait: time.Second, Receivers: 4}
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, h) }()

	require.Eventually(t, func() bool {
		var n, full int
		err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE applied_seq = $1) FROM branch_sync WHERE branch LIKE 'SQM-%'`,
			batches*per).Scan(&n, &full)
		return err == nil && n == branches && full == branches
	}, 30*time.Second, 100*time.Millisecond, "every branch applied to its last seq")
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE branch LIKE 'SQM-%'`).Scan(&n))
	assert.Equal(t, branches*batches*per, n, "each event once")
	mu.Lock()
	assert.Greater(t, most, 1, "a receive's messages handed to the ingest together")
	mu.Unlock()
	r.requireEmpty(ctx, t)
	cancel()
	assert.NoError(t, <-done)
}

// fakeQueue hands out prepared receives, then long-polls empty until the
// context ends, and records the deletes.
type fakeQueue struct {
	mu       sync.Mutex
	receives [][]types.Message
	deleted  []string
	deletes  chan struct{}
}

func (f *fakeQueue) ReceiveMessage(ctx context.Context, _ *awssqs.ReceiveMessageInput, _ ...func(*awssqs.Options)) (*awssqs.ReceiveMessageOutput, error) {
	f.mu.Lock()
	if len(f.receives) > 0 {
		ms := f.receives[0]
		f.receives = f.receives[1:]
		f.mu.Unlock()
		return &awssqs.ReceiveMessageOutput{Messages: ms}, nil
	}
	f.mu.Unlock()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(50 * time.Millisecond):
		return &awssqs.ReceiveMessageOutput{}, nil
	}
}

func (f *fakeQueue) DeleteMessageBatch(_ context.Context, in *awssqs.DeleteMessageBatchInput, _ ...func(*awssqs.Options)) (*awssqs.DeleteMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range in.Entries {
		f.deleted = append(f.deleted, aws.ToString(e.ReceiptHandle))
	}
	if f.deletes != nil {
		f.deletes <- struct{}{}
	}
	return &awssqs.DeleteMessageBatchOutput{}, nil
}

func (f *fakeQueue) deletedHandles() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.deleted...)
}

// msg is a queue message from branch's events topic, its receipt handle id.
func msg(branch, id string) types.Message {
	body := fmt.Sprintf(`{"v":1,"branch":%q,"events":[],"topic":%q}`, branch, event.EventsTopic(branch))
	return types.Message{Body: aws.String(body), ReceiptHandle: aws.String(id)}
}

func topics(msgs []cloud.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Topic
	}
	return out
}

// A receive's messages reach the handler in one call; when it fails, each
// branch's messages are handed again alone and only those that succeed are
// deleted: the failing branch's stay for redelivery.
func TestSQSSourceDeletesOnlySettled(t *testing.T) {
	q := &fakeQueue{deletes: make(chan struct{}, 4), receives: [][]types.Message{{
		msg("A-1", "a1"), msg("B-1", "b1"), msg("A-1", "a2"), msg("C-1", "c1"),
	}}}
	var mu sync.Mutex
	var calls [][]string
	h := func(_ context.Context, msgs ...cloud.Message) error {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, topics(msgs))
		for _, m := range msgs {
			if m.Topic == event.EventsTopic("B-1") {
				return errors.New("database refused B-1")
			}
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := &sqs.Source{API: q, QueueURL: "q", Receivers: 1}
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, h) }()
	select {
	case <-q.deletes:
	case <-time.After(10 * time.Second):
		t.Fatal("no delete")
	}
	cancel()
	require.NoError(t, <-done)

	assert.ElementsMatch(t, []string{"a1", "a2", "c1"}, q.deletedHandles(), "B-1's message stays in the queue")
	a, b, c := event.EventsTopic("A-1"), event.EventsTopic("B-1"), event.EventsTopic("C-1")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, [][]string{{a, b, a, c}, {a, a}, {b}, {c}}, calls)
}

// When nothing of a receive is settled, nothing is deleted.
func TestSQSSourceKeepsAllWhenAllFail(t *testing.T) {
	q := &fakeQueue{receives: [][]types.Message{{msg("A-1", "a1"), msg("A-1", "a2")}}}
	handled := make(chan int, 4)
	h := func(_ context.Context, msgs ...cloud.Message) error {
		handled <- len(msgs)
		return errors.New("database down")
	}
	ctx, cancel := context.WithCancel(context.Background())
	src := &sqs.Source{API: q, QueueURL: "q", Receivers: 1}
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, h) }()
	select {
	case n := <-handled:
		assert.Equal(t, 2, n, "both messages in one call")
	case <-time.After(10 * time.Second):
		t.Fatal("not handled")
	}
	cancel()
	require.NoError(t, <-done)
	assert.Empty(t, q.deletedHandles())
	assert.Len(t, handled, 0, "one branch only: not handed again")
}

// Receivers loops run at once: the handler sees that many calls in flight.
func TestSQSSourceReceiversRunConcurrently(t *testing.T) {
	const n = 3
	var receives [][]types.Message
	for i := range n {
		receives = append(receives, []types.Message{msg(fmt.Sprintf("R-%d", i), fmt.Sprint(i))})
	}
	q := &fakeQueue{receives: receives}
	var wg sync.WaitGroup
	wg.Add(n)
	all := make(chan struct{})
	go func() { wg.Wait(); close(all) }()
	h := func(ctx context.Context, _ ...cloud.Message) error {
		wg.Done()
		select { // each call waits for the others: one loop alone never returns
		case <-all:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := &sqs.Source{API: q, QueueURL: "q", Receivers: n}
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, h) }()
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		t.Fatalf("%d handler calls were never in flight together", n)
	}
	require.Eventually(t, func() bool { return len(q.deletedHandles()) == n }, 10*time.Second, 10*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}
