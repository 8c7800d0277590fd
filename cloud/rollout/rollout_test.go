package rollout_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/mqtt"
	"github.com/ticketero/ticketero/cloud/postgres"
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

// Stopping a rollout withdraws the offers branches hold of it: a branch that
// an earlier active rollout still covers gets that one instead; any other
// gets its retained offer cleared (an empty retained message, so a box
// connecting later gets nothing), and HQ sees "stopped" for it.
func TestStopWithdrawsOffers(t *testing.T) {
	ctx := context.Background()
	broker := mqtttest.Start(t)
	pool, err := postgres.Open(ctx, pgtest.New(t))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, postgres.Migrate(ctx, pool))
	_, err = pool.Exec(ctx, `INSERT INTO branches (id, region) VALUES ('WD-001', 'RM'), ('WD-002', 'BIO')`)
	require.NoError(t, err)
	store := postgres.Releases{Pool: pool}
	for _, v := range []string{"4.0.0", "5.0.0"} {
		require.NoError(t, store.AddArtifact(ctx, postgres.Artifact{Version: v, OS: "linux", Arch: "amd64",
			Manifest: []byte("{}"), Signature: []byte("s"), S3Key: "agent-releases/" + v + "/linux-amd64/ticketero-agent"}))
	}

	cloudTLS, err := broker.PKI.TLSConfig(broker.Cloud)
	require.NoError(t, err)
	pub, err := mqtt.New(mqtt.Config{URL: broker.URL(), TLS: cloudTLS, ClientID: "cloud-rollout"}, nil, nil)
	require.NoError(t, err)
	pub.Connect()
	t.Cleanup(pub.Close)
	require.Eventually(t, pub.Ready, 10*time.Second, 20*time.Millisecond)
	// Pre-signing is local: no S3 server is needed to build the URLs.
	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, nil
		})})
	loop := &rollout.Loop{Store: store, Bucket: &rollout.Bucket{Client: s3c, Presign: s3.NewPresignClient(s3c), Name: "releases"},
		Pub: pub, Refresh: time.Hour, URLTTL: 2 * time.Hour}
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
