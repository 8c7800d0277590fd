package sqs_test

import (
	"context"
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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

func TestSQSSource(t *testing.T) {
	endpoint := startFauxqs(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dbURL := pgtest.New(t)
	pool, err := postgres.Open(ctx, dbURL)
	require.NoError(t, err)
	defer pool.Close()
	require.NoError(t, postgres.Migrate(ctx, pool))
	store := postgres.NewEventStore(pool, nil)
	ack := &acks{}
	proc := ingest.New(store, store, ack, nil, nil)

	client := sqs.NewClient(aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}, endpoint)
	q, err := client.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("ticketero-events")})
	require.NoError(t, err)

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
	require.Eventually(t, func() bool {
		a, err := client.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages,
				types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		return err == nil && a.Attributes["ApproximateNumberOfMessages"] == "0" &&
			a.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
	}, 10*time.Second, 100*time.Millisecond)
	cancel()
	assert.NoError(t, <-done)
}
