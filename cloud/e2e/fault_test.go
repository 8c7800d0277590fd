package e2e

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
)

// The plain path: a simulated day flows to the cloud and converges.
func TestSyncDay(t *testing.T) {
	parallel(t)
	e := newEnv(t, "E2E-DAY")
	e.startCloud()
	e.startAgent()
	e.day(5)
	e.checkInvariant()
	var st struct {
		LastSeq uint64 `json:"last_seq"`
		Online  bool   `json:"online"`
		Gaps    []any  `json:"gaps"`
	}
	s := e.agentSync()
	require.Eventually(t, func() bool {
		req, _ := http.NewRequest(http.MethodGet, "http://"+e.cloudAddr+"/api/v1/branches/"+e.branch+"/sync", nil)
		req.Header.Set("Authorization", "Bearer "+opsToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		_ = json.NewDecoder(resp.Body).Decode(&st)
		return st.Online && st.LastSeq == s.LastSeq
	}, 10*time.Second, 50*time.Millisecond, "the cloud's sync API shows the agent online and caught up")
	assert.Empty(t, st.Gaps)
	assert.Equal(t, "mqtt", s.Mode)
	assert.True(t, s.Connected)

	// A graceful stop leaves the retained status offline.
	e.agent.stop()
	require.Eventually(t, func() bool {
		var online bool
		err := e.db.QueryRow(context.Background(), `SELECT online FROM branch_sync WHERE branch = $1`, e.branch).Scan(&online)
		return err == nil && !online
	}, 10*time.Second, 50*time.Millisecond, "offline status after the agent stops")
}

func TestFaultBrokerRestartMidStream(t *testing.T) {
	parallel(t)
	e := newEnv(t, "E2E-BRK")
	e.startCloud()
	e.startAgent()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); e.day(8) }()
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, e.broker.Restart(500*time.Millisecond))
	wg.Wait()
	e.checkInvariant()
	assert.Contains(t, e.agent.output(), "broker link lost", "the fault happened")
}

func TestFaultCloudDownDuringDay(t *testing.T) {
	parallel(t)
	e := newEnv(t, "E2E-CLD")
	cloud := e.startCloud()
	e.startAgent()
	e.day(2)
	cloud.kill()
	e.day(6) // the branch works on with its cloud down
	s := e.agentSync()
	require.Positive(t, s.Backlog, "events wait in the outbox while the cloud is down")
	e.startCloud()
	e.checkInvariant()
}

// SIGKILL between commit and publish: with the broker down the events are
// committed and cannot be published; the agent dies; all come back.
func TestFaultAgentKilledBetweenCommitAndPublish(t *testing.T) {
	parallel(t)
	e := newEnv(t, "E2E-KCP")
	e.startCloud()
	e.startAgent()
	e.day(2)
	e.converge(30 * time.Second)
	e.broker.Stop()
	e.day(3)
	e.agent.kill()
	require.NoError(t, e.broker.Start())
	e.startAgent()
	e.day(1)
	e.checkInvariant()
}

// SIGKILL between publish and ack: the cloud is down, so batches are published
// (and dropped by the broker, no subscriber) but never acked; the agent dies
// and, restarted, resends from its last ack. A second round kills it while a
// live cloud is acking.
func TestFaultAgentKilledBetweenPublishAndAck(t *testing.T) {
	parallel(t)
	e := newEnv(t, "E2E-KPA")
	cloud := e.startCloud()
	e.startAgent()
	e.day(2)
	cloud.kill()
	e.day(3)
	e.agent.kill()
	e.startCloud()
	e.startAgent()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); e.day(4) }()
	time.Sleep(200 * time.Millisecond)
	e.agent.kill() // mid-stream: some published, some acked, some neither
	wg.Wait()
	require.Eventually(t, func() bool {
		var online bool
		err := e.db.QueryRow(context.Background(), `SELECT online FROM branch_sync WHERE branch = $1`, e.branch).Scan(&online)
		return err == nil && !online
	}, 10*time.Second, 50*time.Millisecond, "the last will marks the killed agent offline")
	e.startAgent()
	e.day(1)
	e.checkInvariant()
}

// Duplicated and reordered batches: a spy records the agent's real batches,
// then they are injected again, shuffled, with the branch's own certificate.
func TestFaultDuplicatedAndReorderedBatches(t *testing.T) {
	parallel(t)
	e := newEnv(t, "E2E-DUP")
	cloudCfg, err := e.broker.PKI.TLSConfig(e.broker.Cloud)
	require.NoError(t, err)
	spy := paho.NewClient(paho.NewClientOptions().AddBroker(e.broker.URL()).SetClientID("spy").SetTLSConfig(cloudCfg))
	require.True(t, spy.Connect().WaitTimeout(10*time.Second))
	defer spy.Disconnect(100)
	var mu sync.Mutex
	var seen [][]byte
	require.True(t, spy.Subscribe(event.EventsTopic(e.branch), 1, func(_ paho.Client, m paho.Message) {
		mu.Lock()
		seen = append(seen, append([]byte(nil), m.Payload()...))
		mu.Unlock()
	}).WaitTimeout(5*time.Second))

	e.startCloud()
	e.startAgent()
	e.day(4)
	e.converge(30 * time.Second)

	branchCfg, err := e.broker.PKI.TLSConfig(e.broker.MustBranchCert(t, e.branch))
	require.NoError(t, err)
	inj := paho.NewClient(paho.NewClientOptions().AddBroker(e.broker.URL()).SetClientID(e.branch + "-inject").SetTLSConfig(branchCfg))
	require.True(t, inj.Connect().WaitTimeout(10*time.Second))
	defer inj.Disconnect(100)
	mu.Lock()
	batches := append([][]byte(nil), seen...)
	mu.Unlock()
	require.NotEmpty(t, batches)
	rnd := rand.New(rand.NewPCG(1, 2))
	for round := range 3 {
		rnd.Shuffle(len(batches), func(i, j int) { batches[i], batches[j] = batches[j], batches[i] })
		for _, b := range batches {
			require.True(t, inj.Publish(event.EventsTopic(e.branch), 1, false, b).WaitTimeout(5*time.Second))
		}
		if round == 1 {
			e.day(1) // new events interleave with the replays
		}
	}
	time.Sleep(500 * time.Millisecond)
	e.checkInvariant()
}

// The database drops every connection of the cloud repeatedly during ingest
// (what a PostgreSQL restart looks like from the cloud). The shared server of
// this machine is not restarted: other suites use it.
func TestFaultDatabaseConnectionsDroppedDuringIngest(t *testing.T) {
	parallel(t)
	e := newEnv(t, "E2E-PGR")
	e.startCloud()
	e.startAgent()
	var wg sync.WaitGroup
	wg.Add(1)
	stop := make(chan struct{})
	var terminated atomic.Int64
	go func() {
		defer wg.Done()
		admin, err := e.db.Acquire(context.Background())
		if err != nil {
			return
		}
		defer admin.Release()
		for {
			select {
			case <-stop:
				return
			case <-time.After(150 * time.Millisecond):
			}
			tag, err := admin.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> 'e2e'`)
			if err == nil {
				terminated.Add(tag.RowsAffected())
			}
		}
	}()
	e.day(6)
	close(stop)
	wg.Wait()
	e.checkInvariant()
	assert.Positive(t, terminated.Load(), "the cloud's connections were dropped")
}

func TestFaultTwoReplicasOneKilled(t *testing.T) {
	parallel(t)
	e := newEnv(t, "E2E-REP")
	a := e.startCloud()
	e.startCloud()
	e.startAgent()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); e.day(8) }()
	time.Sleep(400 * time.Millisecond)
	a.kill()
	wg.Wait()
	e.checkInvariant()
}
