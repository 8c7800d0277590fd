package hq_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/cloud/postgres/postgrestest"
	"github.com/ticketero/ticketero/migrations"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

// TestRepublishRUTSealKey: after the upgrade every branch's retained config
// is published again with the cloud's public sealing key and without HQ's
// RUT hash key (PostgreSQL migration 00014 strips it from stored snapshots
// too); a branch already on the key is left alone, and replicas starting
// together bump each branch once.
func TestRepublishRUTSealKey(t *testing.T) {
	ctx := context.Background()
	pool := postgrestest.MustPool(t)
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	s := hq.New(pool, func() time.Time { return now })

	keyOf := func(secret string) string {
		k, err := seal.NewRUTKeys([]byte(secret))
		require.NoError(t, err)
		return k.PublicKey()
	}
	current, next := keyOf("the cloud's RUT hash key, 32 b."), keyOf("a rotated RUT hash key, 32 bytes")
	put := func(branch string, version int64, mut func(*event.Config)) {
		c := event.Config{V: 1, Branch: branch, Version: version, TimeZone: "America/Santiago",
			Services: queue.DefaultServices()[:1], Counters: []queue.Counter{}, Executives: []event.ConfigExecutive{},
			Rules: event.DefaultRules(), BranchName: "Sucursal " + branch, PublishedAt: now.Add(-time.Hour)}
		if mut != nil {
			mut(&c)
		}
		raw, err := json.Marshal(c)
		require.NoError(t, err)
		_, err = pool.Exec(ctx, `INSERT INTO hq_branch_configs (branch, version, snapshot, published_at, published_by)
			VALUES ($1, $2, $3, $4, 'admin@hq.cl')`, branch, version, raw, c.PublishedAt)
		require.NoError(t, err)
	}
	// As an older cloud stored them: HQ's hash key in the snapshot.
	put("RS-001", 1, func(c *event.Config) { c.RUTKey = "SFEgbmV0d29yay13aWRlIFJVVCBoYXNoIGtleQ==" })
	put("RS-002", 1, nil)
	put("RS-002", 2, nil)
	put("RS-003", 4, func(c *event.Config) { c.RUTSealKey = current })
	mig, err := fs.ReadFile(migrations.Postgres(), "00014_rut_key_off_snapshots.sql")
	require.NoError(t, err)
	up, _, _ := strings.Cut(string(mig), "-- +goose Down")
	_, err = pool.Exec(ctx, up)
	require.NoError(t, err)
	var left int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM hq_branch_configs WHERE snapshot ? 'rut_key'`).Scan(&left))
	assert.Zero(t, left, "migration 00014 strips rut_key from stored snapshots")

	got, err := s.RepublishRUTSealKey(ctx, current)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "RS-001", got[0].Branch)
	assert.Equal(t, int64(2), got[0].Version)
	assert.Equal(t, "RS-002", got[1].Branch)
	assert.Equal(t, int64(3), got[1].Version)
	for _, c := range got {
		assert.Equal(t, current, c.RUTSealKey)
		assert.Empty(t, c.RUTKey)
		assert.Equal(t, "Sucursal "+c.Branch, c.BranchName, "the configuration itself is unchanged")
		assert.Equal(t, now, c.PublishedAt)
		latest, err := s.LatestConfig(ctx, c.Branch)
		require.NoError(t, err)
		assert.Equal(t, c, latest)
	}
	var audited int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM hq_audit WHERE actor = $1 AND action = $2`,
		hq.RUTSealActor, cloud.AuditConfigPublish).Scan(&audited))
	assert.Equal(t, 2, audited)

	got, err = s.RepublishRUTSealKey(ctx, current)
	require.NoError(t, err)
	assert.Empty(t, got, "every branch already carries the key")

	// A rotated key, two replicas at once: each branch is bumped once.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var all []event.Config
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs, err := s.RepublishRUTSealKey(ctx, next)
			assert.NoError(t, err)
			mu.Lock()
			all = append(all, cs...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	assert.Len(t, all, 3)
	for branch, want := range map[string]int64{"RS-001": 3, "RS-002": 4, "RS-003": 5} {
		latest, err := s.LatestConfig(ctx, branch)
		require.NoError(t, err)
		assert.Equal(t, want, latest.Version, branch)
		assert.Equal(t, next, latest.RUTSealKey, branch)
	}
}

// TestQuarantinePreviewMasksRUTHash: the HQ branch page previews quarantined
// events raw; RUT pseudonyms and sealed RUTs in them show as "***".
func TestQuarantinePreviewMasksRUTHash(t *testing.T) {
	s, f, c := newStore(t)
	ctx := context.Background()
	f.Branch("QR-001", "Quillota", "V", true)
	for i, raw := range []string{`{"seq":3,"type":"ticket.issued","data":{"rut_hash":"5MaEsr9QE8xg_KyG9_NIWVzaXyrEnGRRodvKj_e-t3E","reason":"x\u0000"}}`,
		`{"seq":4,"data":{"RUT_Sealed" : "c2VhbGVkLXJ1dA==","token":"t"}}`,
		`{"seq":5,"data":{"channel":"kiosk","priority":"normal","position":1,"quoted_typical_s":600,"quoted_upper_s":900,"token":"tok","rut_hash":"5MaEsr9QE8xg_KyG9_NIWVzaXyrEnGRRodvKj_e-t3E"}}`} {
		_, err := f.Pool.Exec(ctx, `INSERT INTO ingest_quarantine (branch, seq, event_id, type, raw, raw_sha256, reason, detail, received_at)
			VALUES ('QR-001', $1, 'e', 'ticket.issued', $2, $3, 'text', 'NUL', $4)`,
			3+i, []byte(raw), []byte{byte(i)}, c.t.Add(-time.Duration(3-i)*time.Minute))
		require.NoError(t, err)
	}
	d, err := s.BranchView(ctx, cloud.AllBranches, "QR-001", "")
	require.NoError(t, err)
	require.Len(t, d.Quarantined, 3)
	for _, q := range d.Quarantined {
		assert.NotContains(t, q.Preview, "5MaEsr9Q")
		assert.NotContains(t, q.Preview, "c2VhbGVk")
	}
	assert.Contains(t, d.Quarantined[2].Preview, `"rut_hash":"***","reason"`)
	assert.Contains(t, d.Quarantined[1].Preview, `"RUT_Sealed" : "***","token"`)
	assert.True(t, strings.HasSuffix(d.Quarantined[0].Preview, `"rut_hash":"***"`), "a value cut by the preview: %s", d.Quarantined[0].Preview)
}
