package main

import (
	"context"
	"encoding/base64"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

// TestOneReplicaEvaluatesAlerts: two replicas of the real program on one
// database: one leads (ticketero_cloud_leader 1) and runs the alert loop,
// the other reports 0; killing the leader's session hands the loop over.
func TestOneReplicaEvaluatesAlerts(t *testing.T) {
	broker := mqtttest.Start(t)
	db := pgtest.New(t)
	t.Setenv("TICKETERO_ALERT_EVERY", "300ms")
	logPath := filepath.Join(t.TempDir(), "replicas.log")
	logs, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = logs.Close()
		if b, _ := os.ReadFile(logPath); t.Failed() {
			for line := range strings.SplitSeq(string(b), "\n") {
				if strings.Contains(line, "component=leader") {
					t.Log(line)
				}
			}
		}
	})
	start := func(id string, noMigrate bool) *Main {
		log := slog.New(slog.NewTextHandler(logs, nil)).With("replica", id)
		m := NewMain(envConfig(t, Config{DB: db, MQTT: broker.URL(), Cert: broker.Cloud.CertFile, Key: broker.Cloud.KeyFile,
			CA: broker.PKI.CAFile, ClientID: id, HTTP: "127.0.0.1:0", Workers: 2, OpsToken: testOpsToken, NoMigrate: noMigrate}), log)
		require.NoError(t, m.Run(context.Background()))
		t.Cleanup(func() { _ = m.Close() })
		return m
	}
	ms := []*Main{start("leader-test-a", false), start("leader-test-b", true)}
	gauge := func(m *Main) string {
		for line := range strings.SplitSeq(getBody(t, "http://"+m.HTTPAddr()+"/metrics"), "\n") {
			if v, ok := strings.CutPrefix(line, "ticketero_cloud_leader "); ok {
				return v
			}
		}
		return "missing"
	}
	leader := func() int {
		switch a, b := gauge(ms[0]), gauge(ms[1]); {
		case a == "1" && b == "0":
			return 0
		case a == "0" && b == "1":
			return 1
		}
		return -1
	}
	require.Eventually(t, func() bool { return leader() >= 0 }, 10*time.Second, 50*time.Millisecond, "one replica leads")
	first := leader()
	time.Sleep(time.Second) // three intervals
	require.Equal(t, first, leader(), "the leadership stays put")

	var pid int32
	require.NoError(t, ms[0].Pool.QueryRow(context.Background(), `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND classid = ($1::bigint >> 32)::oid AND objid = ($1::bigint & 4294967295)::oid AND objsubid = 1
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
		postgres.LeaderLockKey).Scan(&pid))
	_, err = ms[0].Pool.Exec(context.Background(), `SELECT pg_terminate_backend($1)`, pid)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return leader() == 1-first }, 10*time.Second, 50*time.Millisecond,
		"the other replica leads once the leader's session is killed")
}

// TestOneReplicaPollsTelegram: two replicas of the real program in
// Telegram's polling mode on one database and bot. Only the leader calls
// getUpdates (Telegram, like the fake, ends a consumer's call with 409
// Conflict when a second one calls); when it stops, the other replica
// leads and answers the next update.
func TestOneReplicaPollsTelegram(t *testing.T) {
	const token = "4343:fake-token"
	fake := telegramtest.New(token, telegramtest.Options{})
	t.Cleanup(fake.Close)
	t.Setenv("TICKETERO_TELEGRAM_TOKEN", token)
	t.Setenv("TICKETERO_TELEGRAM_MODE", "polling")
	t.Setenv("TICKETERO_TELEGRAM_API", fake.URL)
	t.Setenv("TICKETERO_DATA_KEY", base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")))
	t.Setenv("TICKETERO_ALERT_EVERY", "300ms")
	broker := mqtttest.Start(t)
	db := pgtest.New(t)
	closed := map[*Main]bool{}
	start := func(id string, noMigrate bool) *Main {
		m := NewMain(envConfig(t, Config{DB: db, MQTT: broker.URL(), Cert: broker.Cloud.CertFile, Key: broker.Cloud.KeyFile,
			CA: broker.PKI.CAFile, ClientID: id, HTTP: "127.0.0.1:0", Workers: 2, OpsToken: testOpsToken, NoMigrate: noMigrate}), nil)
		require.NoError(t, m.Run(context.Background()))
		t.Cleanup(func() {
			if !closed[m] {
				_ = m.Close()
			}
		})
		return m
	}
	ms := []*Main{start("tg-poll-a", false), start("tg-poll-b", true)}
	leading := func(m *Main) bool { return m.leader.Leading() }
	require.Eventually(t, func() bool { return leading(ms[0]) != leading(ms[1]) }, 10*time.Second, 50*time.Millisecond,
		"one replica leads")

	fake.AddUpdate(telegramtest.TextUpdate(7001, "es", "/ayuda"))
	require.Eventually(t, func() bool { return len(fake.SentTo(7001)) == 1 }, 10*time.Second, 50*time.Millisecond,
		"the leader's poller answers")
	time.Sleep(time.Second) // both replicas have run three intervals since
	assert.Zero(t, fake.Stats().Conflicts, "one getUpdates consumer for the bot")

	old := 0
	if leading(ms[1]) {
		old = 1
	}
	require.NoError(t, ms[old].Close())
	closed[ms[old]] = true
	fake.AddUpdate(telegramtest.TextUpdate(7002, "es", "/ayuda"))
	require.Eventually(t, func() bool { return len(fake.SentTo(7002)) == 1 }, 20*time.Second, 50*time.Millisecond,
		"the other replica leads and polls")
	assert.True(t, leading(ms[1-old]))
}
