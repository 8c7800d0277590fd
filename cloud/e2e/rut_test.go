package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

// TestRUTKeyOffTheBox upgrades a branch whose retained config still carries
// HQ's RUT hash key (as an older cloud published it), with the real binaries:
// the agent applies it without storing the key; the upgraded cloud publishes
// the config again with only its public sealing key (the retained message
// loses the hash key); the agent then sends the RUT sealed, and the cloud
// stores the same keyed hash older agents computed. No sealed RUT is stored,
// no file of the box holds the key.
func TestRUTKeyOffTheBox(t *testing.T) {
	parallel(t)
	e := newEnv(t, "RUT-E2E")
	ctx := context.Background()
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	secretB64 := base64.StdEncoding.EncodeToString(secret)
	e.setenv("TICKETERO_RUT_KEY", secretB64)

	// The database as an older cloud left it: a published config with rut_key,
	// retained on the broker.
	e.startCloud().stop()
	old := event.Config{V: 1, Branch: e.branch, Version: 1, TimeZone: "America/Santiago",
		Services: queue.DefaultServices(), Counters: []queue.Counter{{Number: 1, Name: "Módulo 1"}},
		Executives: []event.ConfigExecutive{}, Rules: event.DefaultRules(), BranchName: "Sucursal RUT",
		RUTKey: secretB64, PublishedAt: time.Now().UTC()}
	raw, err := json.Marshal(old)
	require.NoError(t, err)
	_, err = e.db.Exec(ctx, `INSERT INTO hq_branch_configs (branch, version, snapshot, published_at, published_by)
		VALUES ($1, 1, $2, $3, 'admin@hq.cl')`, e.branch, raw, old.PublishedAt)
	require.NoError(t, err)
	e.publishConfig(old)

	e.startAgent()
	require.Eventually(t, func() bool {
		var b map[string]any
		code, err := e.do("GET", "/api/v1/branch", "", nil, &b)
		return err == nil && code == 200 && fmt.Sprint(b["name"]) == "Sucursal RUT"
	}, 30*time.Second, 50*time.Millisecond, "old config not applied: %s", e.agent.output())
	issueRUT := func() string {
		var tk struct {
			ID string `json:"id"`
		}
		code, err := e.do("POST", "/api/v1/tickets", "", map[string]string{"service": "C", "rut": "12.345.678-5"}, &tk)
		require.NoError(t, err)
		require.Equal(t, 201, code)
		e.mu.Lock()
		e.tickets = append(e.tickets, tk.ID)
		e.mu.Unlock()
		return tk.ID
	}
	before := issueRUT() // no sealing key yet: no pseudonym at all

	// The upgraded cloud publishes the config again with its public key.
	e.startCloud()
	require.Eventually(t, func() bool {
		var n int
		_ = e.db.QueryRow(ctx, `SELECT count(*) FROM events WHERE branch = $1 AND type = 'config.applied'
			AND (data->>'version')::int = 2`, e.branch).Scan(&n)
		return n == 1
	}, 60*time.Second, 100*time.Millisecond, "config v2 not applied")
	after := issueRUT()
	e.converge(30 * time.Second)

	keys, err := seal.NewRUTKeys(secret)
	require.NoError(t, err)
	hashOf := func(id string) *string {
		var h *string
		require.NoError(t, e.db.QueryRow(ctx, `SELECT rut_hash FROM tickets WHERE branch = $1 AND id = $2`, e.branch, id).Scan(&h))
		return h
	}
	assert.Nil(t, hashOf(before))
	want := seal.HashRUT(secret, "12345678-5")
	require.NotNil(t, hashOf(after))
	assert.Equal(t, want, *hashOf(after), "the cloud's hash of the sealed RUT is the one older agents sent")
	assert.Equal(t, want, keys.Hash("12345678-5"))
	var sealed int
	require.NoError(t, e.db.QueryRow(ctx, `SELECT count(*) FROM events WHERE data::text LIKE '%rut_sealed%'`).Scan(&sealed))
	assert.Zero(t, sealed, "no sealed RUT is stored")
	e.checkInvariant()

	// The retained config now carries the public key only.
	tlsCfg, err := e.broker.PKI.TLSConfig(e.broker.Cloud)
	require.NoError(t, err)
	got := make(chan []byte, 1)
	sub := paho.NewClient(paho.NewClientOptions().AddBroker(e.broker.URL()).SetTLSConfig(tlsCfg).
		SetClientID(fmt.Sprintf("rut-%d", time.Now().UnixNano()%1e6)))
	require.True(t, sub.Connect().WaitTimeout(10*time.Second))
	defer sub.Disconnect(100)
	require.True(t, sub.Subscribe(event.ConfigTopic(e.branch), 1, func(_ paho.Client, m paho.Message) {
		select {
		case got <- m.Payload():
		default:
		}
	}).WaitTimeout(10*time.Second))
	select {
	case p := <-got:
		var c event.Config
		require.NoError(t, json.Unmarshal(p, &c))
		assert.Equal(t, int64(2), c.Version)
		assert.Equal(t, keys.PublicKey(), c.RUTSealKey)
		assert.NotContains(t, string(p), "rut_key")
		assert.NotContains(t, string(p), secretB64)
	case <-time.After(10 * time.Second):
		t.Fatal("no retained config")
	}

	// No file of the box holds the key.
	e.agent.stop()
	files, err := filepath.Glob(filepath.Join(e.data, "*"))
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // a directory
		}
		assert.False(t, bytes.Contains(b, secret) || bytes.Contains(b, []byte(secretB64)), "%s holds HQ's RUT hash key", f)
	}
}
