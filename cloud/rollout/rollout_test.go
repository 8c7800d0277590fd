package rollout_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/mqtt"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/postgrestest"
	"github.com/ticketero/ticketero/cloud/rollout"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

// watch subscribes as branch's box to its release topic and records each
// payload it gets (an empty one is a withdrawal); stop disconnects it.
func watch(t *testing.T, broker *mqtttest.Broker, branch string) (seen func() []string, stop func()) {
	t.Helper()
	tc, err := broker.PKI.TLSConfig(broker.MustBranchCert(t, branch))
	require.NoError(t, err)
	var mu sync.Mutex
	var got []string
	c := paho.NewClient(paho.NewClientOptions().AddBroker(broker.URL()).SetClientID(branch).SetTLSConfig(tc).
		SetCleanSession(true).SetAutoReconnect(false))
	tok := c.Connect()
	require.True(t, tok.WaitTimeout(10*time.Second))
	require.NoError(t, tok.Error())
	t.Cleanup(func() { c.Disconnect(0) })
	tok = c.Subscribe(event.ReleaseTopic(branch), 1, func(_ paho.Client, m paho.Message) {
		mu.Lock()
		got = append(got, string(m.Payload()))
		mu.Unlock()
	})
	require.True(t, tok.WaitTimeout(10*time.Second))
	require.NoError(t, tok.Error())
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}, func() { c.Disconnect(50) }
}

// cloudClient is a cloud replica's broker client, connected.
func cloudClient(t *testing.T, broker *mqtttest.Broker, id string) *mqtt.Client {
	t.Helper()
	cloudTLS, err := broker.PKI.TLSConfig(broker.Cloud)
	require.NoError(t, err)
	pub, err := mqtt.New(mqtt.Config{URL: broker.URL(), TLS: cloudTLS, ClientID: id}, nil, nil)
	require.NoError(t, err)
	pub.Connect()
	t.Cleanup(pub.Close)
	require.Eventually(t, pub.Ready, 10*time.Second, 20*time.Millisecond)
	return pub
}

// presignOnly is a bucket whose URLs are pre-signed locally: no S3 server
// is needed to build them.
func presignOnly() *rollout.Bucket {
	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, nil
		})})
	return &rollout.Bucket{Client: s3c, Presign: s3.NewPresignClient(s3c), Name: "releases"}
}

// Stopping a rollout withdraws the offers branches hold of it: a branch that
// an earlier active rollout still covers gets that one instead; any other
// gets its retained offer cleared (an empty retained message, so a box
// connecting later gets nothing), and HQ sees "stopped" for it.
func TestStopWithdrawsOffers(t *testing.T) {
	ctx := context.Background()
	broker := mqtttest.Start(t)
	pool := postgrestest.MustPool(t)
	_, err := pool.Exec(ctx, `INSERT INTO branches (id, region) VALUES ('WD-001', 'RM'), ('WD-002', 'BIO')`)
	require.NoError(t, err)
	store := postgres.Releases{Pool: pool}
	for _, v := range []string{"4.0.0", "5.0.0"} {
		require.NoError(t, store.AddArtifact(ctx, postgres.Artifact{Version: v, OS: "linux", Arch: "amd64",
			Manifest: []byte("{}"), Signature: []byte("s"), S3Key: "agent-releases/" + v + "/linux-amd64/ticketero-agent"}))
	}

	loop := &rollout.Loop{Store: store, Bucket: presignOnly(), Pub: cloudClient(t, broker, "cloud-rollout"),
		Refresh: time.Hour, URLTTL: 2 * time.Hour}
	seen1, stop1 := watch(t, broker, "WD-001")
	seen2, stop2 := watch(t, broker, "WD-002")

	_, err = store.StartRollout(ctx, postgres.Rollout{Version: "4.0.0", Ring: "region", Region: "RM", Window: "22:00-06:00"})
	require.NoError(t, err)
	_, err = store.StartRollout(ctx, postgres.Rollout{Version: "5.0.0", Ring: "all", Window: "22:00-06:00"})
	require.NoError(t, err)
	n, err := loop.Once(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	require.Eventually(t, func() bool { return len(seen1()) == 1 && len(seen2()) == 1 }, 10*time.Second, 20*time.Millisecond)
	assert.Contains(t, seen2()[0], `"version":"5.0.0"`)

	stopped, err := store.StopRollouts(ctx, "5.0.0")
	require.NoError(t, err)
	assert.Equal(t, int64(1), stopped)
	n, err = loop.Once(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "one branch re-offered 4.0.0, one withdrawn")
	require.Eventually(t, func() bool { return len(seen1()) == 2 && len(seen2()) == 2 }, 10*time.Second, 20*time.Millisecond)
	assert.Contains(t, seen1()[1], `"version":"4.0.0"`, "an earlier rollout still covering the branch supersedes the offer")
	assert.Empty(t, seen2()[1], "the retained offer is cleared")
	n, err = loop.Once(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "withdrawn once")

	boxes, err := store.Boxes(ctx)
	require.NoError(t, err)
	by := map[string][2]string{}
	for _, b := range boxes {
		by[b.Branch] = [2]string{b.Offered, b.Stopped}
	}
	assert.Equal(t, [2]string{"4.0.0", ""}, by["WD-001"])
	assert.Equal(t, [2]string{"", "5.0.0"}, by["WD-002"], "HQ sees the stopped rollout")

	// A box connecting now gets no offer (nothing retained); WD-001 gets 4.0.0.
	stop1()
	stop2()
	late1, _ := watch(t, broker, "WD-001")
	late2, _ := watch(t, broker, "WD-002")
	require.Eventually(t, func() bool { return len(late1()) == 1 }, 10*time.Second, 20*time.Millisecond)
	assert.Contains(t, late1()[0], `"version":"4.0.0"`)
	assert.Empty(t, late2(), "no retained offer for WD-002")

	// A new rollout reaches the withdrawn branch again.
	_, err = store.StartRollout(ctx, postgres.Rollout{Version: "5.0.0", Ring: "region", Region: "BIO", Window: "always"})
	require.NoError(t, err)
	n, err = loop.Once(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.Eventually(t, func() bool { return len(late2()) == 1 }, 10*time.Second, 20*time.Millisecond)
	assert.Contains(t, late2()[0], `"window":"always"`)
}

// counted is a replica's publisher: the real broker client, counting the
// offers it sends; the first waits until open is closed (a minute at most,
// entered closed when it starts waiting), and fail makes every offer fail.
type counted struct {
	rollout.Publisher
	mu      sync.Mutex
	offers  int
	once    sync.Once
	entered chan struct{}
	open    chan struct{}
	fail    bool
}

func (c *counted) PublishRelease(ctx context.Context, r event.Release) error {
	if c.open != nil {
		c.once.Do(func() {
			close(c.entered)
			select {
			case <-c.open:
			case <-time.After(time.Minute):
			}
		})
	}
	c.mu.Lock()
	fail := c.fail
	c.mu.Unlock()
	if fail {
		return errors.New("broker down")
	}
	c.mu.Lock()
	c.offers++
	c.mu.Unlock()
	return c.Publisher.PublishRelease(ctx, r)
}

func (c *counted) sent() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offers
}

// Two replicas' rollout loops on one database and broker run one pass at a
// time (postgres.Passes): while replica A's pass publishes, B's tick sends
// nothing, so each branch is offered once, not once per replica (B used to
// read the same due offers and publish them all again). A pass that fails
// (A's broker down) leaves the next to B at once; a claim whose replica
// died mid-pass holds the job until its hold runs out.
func TestReplicasOfferOncePerPass(t *testing.T) {
	ctx := context.Background()
	broker := mqtttest.Start(t)
	db := pgtest.New(t)
	const branches = 40
	replica := func(id string) (*rollout.Loop, *counted, *pgxpool.Pool) {
		pool, err := postgres.Open(ctx, db)
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		c := &counted{Publisher: cloudClient(t, broker, id)}
		return &rollout.Loop{Store: postgres.Releases{Pool: pool}, Bucket: presignOnly(), Pub: c,
			Passes: postgres.Passes{Pool: pool}, Refresh: time.Hour, URLTTL: 2 * time.Hour}, c, pool
	}
	a, pubA, pool := replica("cloud-rollout-a")
	require.NoError(t, postgres.Migrate(ctx, pool))
	b, pubB, _ := replica("cloud-rollout-b")
	_, err := pool.Exec(ctx, `INSERT INTO branches (id, region) SELECT 'PS-' || lpad(i::text, 3, '0'), 'RM' FROM generate_series(1, $1::int) i`, branches)
	require.NoError(t, err)
	store := postgres.Releases{Pool: pool}
	for _, v := range []string{"6.0.0", "7.0.0"} {
		require.NoError(t, store.AddArtifact(ctx, postgres.Artifact{Version: v, OS: "linux", Arch: "amd64",
			Manifest: []byte("{}"), Signature: []byte("s"), S3Key: "agent-releases/" + v + "/linux-amd64/ticketero-agent"}))
	}
	seen, _ := watch(t, broker, "PS-001")
	_, err = store.StartRollout(ctx, postgres.Rollout{Version: "6.0.0", Ring: "all", Window: "always"})
	require.NoError(t, err)

	pubA.entered, pubA.open = make(chan struct{}), make(chan struct{})
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() { n, err := a.Once(ctx); done <- result{n, err} }()
	select {
	case <-pubA.entered: // A holds the pass and publishes its first offer
	case <-time.After(time.Minute):
		t.Fatal("replica A never published")
	}
	n, err := b.Once(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "B's tick during A's pass sends nothing")
	close(pubA.open)
	r := <-done
	require.NoError(t, r.err)
	assert.Equal(t, branches, r.n)
	assert.Equal(t, branches, pubA.sent())
	assert.Zero(t, pubB.sent())
	n, err = b.Once(ctx) // A's pass ended (Every unset: no rest): B's finds nothing due
	require.NoError(t, err)
	assert.Zero(t, n)
	require.Eventually(t, func() bool { return len(seen()) == 1 }, 10*time.Second, 20*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	assert.Len(t, seen(), 1, "the box got its offer once")

	// A's broker is down: its pass fails and is ended at once, and B's
	// next tick sends the offers.
	_, err = store.StartRollout(ctx, postgres.Rollout{Version: "7.0.0", Ring: "all", Window: "always"})
	require.NoError(t, err)
	pubA.mu.Lock()
	pubA.fail = true
	pubA.mu.Unlock()
	_, err = a.Once(ctx)
	require.ErrorContains(t, err, "broker down")
	n, err = b.Once(ctx)
	require.NoError(t, err)
	assert.Equal(t, branches, n, "B takes the pass A failed")

	// A replica that claimed a pass and died holds it for its hold only.
	require.NoError(t, store.AddArtifact(ctx, postgres.Artifact{Version: "8.0.0", OS: "linux", Arch: "amd64",
		Manifest: []byte("{}"), Signature: []byte("s"), S3Key: "agent-releases/8.0.0/linux-amd64/ticketero-agent"}))
	_, err = store.StartRollout(ctx, postgres.Rollout{Version: "8.0.0", Ring: "all", Window: "always"})
	require.NoError(t, err)
	_, ok, err := postgres.Passes{Pool: pool}.Claim(ctx, rollout.PassJob, time.Second)
	require.NoError(t, err)
	require.True(t, ok)
	n, err = b.Once(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "the dead replica's claim still holds")
	require.Eventually(t, func() bool {
		n, err := b.Once(ctx)
		return err == nil && n == branches
	}, 10*time.Second, 100*time.Millisecond, "the claim runs out and B sends the offers")
}
