package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/retention"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

func TestParseRetentionEnv(t *testing.T) {
	c, err := ParseRetentionEnv(func(string) string { return "" })
	require.NoError(t, err)
	assert.Equal(t, 30, c.Days)
	assert.Equal(t, 5000, c.Batch)
	c, err = ParseRetentionEnv(func(k string) string { return map[string]string{"TICKETERO_RETENTION_DAYS": "90"}[k] })
	require.NoError(t, err)
	assert.Equal(t, 90, c.Days)
	for _, bad := range []string{"x", "0", "-5", "99999"} {
		_, err := ParseRetentionEnv(func(k string) string { return map[string]string{"TICKETERO_RETENTION_DAYS": bad}[k] })
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "TICKETERO_RETENTION_DAYS")
	}
}

// TestServeRunsRetention: serve runs the retention job at start, and the
// run is audited.
func TestServeRunsRetention(t *testing.T) {
	broker := mqtttest.Start(t)
	db := pgtest.New(t)
	m := NewMain(envConfig(t, Config{DB: db, MQTT: broker.URL(), Cert: broker.Cloud.CertFile, Key: broker.Cloud.KeyFile,
		CA: broker.PKI.CAFile, HTTP: "127.0.0.1:0", Workers: 2}), nil)
	require.NoError(t, m.Run(context.Background()))
	t.Cleanup(func() { _ = m.Close() })
	require.Eventually(t, func() bool {
		var n int
		err := m.Pool.QueryRow(context.Background(), `SELECT count(*) FROM hq_audit WHERE action = $1 AND actor = $2
			AND detail LIKE '%retention_days=30%'`, retention.AuditAction, retention.AuditActor).Scan(&n)
		return err == nil && n == 1
	}, 10*time.Second, 20*time.Millisecond)
}
