package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/migrations"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

// hqRUTKey is HQ's network-wide RUT hash key as an older cloud published it.
var hqRUTKey = []byte("HQ network-wide RUT hash key 32b")

func cloudRUTKeys(t *testing.T) *seal.RUTKeys {
	t.Helper()
	k, err := seal.NewRUTKeys(hqRUTKey)
	require.NoError(t, err)
	return k
}

func rutConfig(version int64, keys *seal.RUTKeys) event.Config {
	c := event.Config{V: 1, Branch: "SCL-001", Version: version, TimeZone: "America/Santiago",
		Services: queue.DefaultServices(), Counters: []queue.Counter{{Number: 1}}, Executives: []event.ConfigExecutive{},
		Rules: event.DefaultRules()}
	if keys != nil {
		c.RUTSealKey = keys.PublicKey()
	}
	return c
}

// assertNoHQKey checks that no file of the database (WAL included) holds HQ's
// RUT hash key, raw or base64.
func assertNoHQKey(t *testing.T, path string) {
	t.Helper()
	files, err := filepath.Glob(path + "*")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.False(t, bytes.Contains(b, hqRUTKey), "%s holds HQ's RUT hash key", f)
		assert.False(t, bytes.Contains(b, []byte(base64.StdEncoding.EncodeToString(hqRUTKey))), "%s holds HQ's RUT hash key (base64)", f)
	}
	var n int
	db, err := sql.Open("sqlite3", path)
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.QueryRow("SELECT count(*) FROM meta WHERE key = 'rut_key'").Scan(&n))
	assert.Zero(t, n, "meta rut_key")
}

// TestRUTSealedNotHashed: the box keeps no network-wide RUT hash key (an old
// cloud's rut_key is applied without being stored) and sends the RUT sealed
// to the cloud's public key, which the cloud opens, never a hash of its own.
func TestRUTSealedNotHashed(t *testing.T) {
	e := MustStore(t, 2)
	ctx := context.Background()
	keys := cloudRUTKeys(t)

	old := rutConfig(3, keys)
	old.RUTKey = base64.StdEncoding.EncodeToString(hqRUTKey)
	require.NoError(t, e.st.ApplyConfig(ctx, old), "an old cloud's config still applies")
	v, err := e.st.ConfigVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(3), v)

	tk, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C", RUT: "12.345.678-5"})
	require.NoError(t, err)
	evs, err := e.st.Pending(ctx, 0, 100)
	require.NoError(t, err)
	var iss *event.Issued
	for _, ev := range evs {
		if ev.Type == event.TicketIssued {
			assert.NotContains(t, string(ev.Data), "rut_hash")
			assert.NotContains(t, string(ev.Data), "12345678")
			p, err := ev.Payload()
			require.NoError(t, err)
			iss = p.(*event.Issued)
		}
	}
	require.NotNil(t, iss)
	assert.Equal(t, tk.ID, iss.Ticket)
	assert.Empty(t, iss.RUTHash)
	require.NotEmpty(t, iss.RUTSealed)
	rut, err := keys.Open(iss.RUTSealed)
	require.NoError(t, err)
	assert.Equal(t, "12345678-5", rut, "the cloud opens the normalised RUT")
	assert.Equal(t, seal.HashRUT(hqRUTKey, "12345678-5"), keys.Hash(rut), "and computes the hash agents used to")

	// The box's own ticket hash is not HQ's pseudonym.
	var local string
	require.NoError(t, e.st.DB().QueryRow("SELECT rut_hash FROM tickets WHERE id = ?", tk.ID).Scan(&local))
	assert.NotEmpty(t, local)
	assert.NotEqual(t, keys.Hash("12345678-5"), local)

	// A config without the sealing key (a cloud without TICKETERO_RUT_KEY):
	// no RUT pseudonym at all.
	require.NoError(t, e.st.ApplyConfig(ctx, rutConfig(4, nil)))
	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "C", RUT: "12.345.678-5"})
	require.NoError(t, err)
	evs, err = e.st.Pending(ctx, 0, 100)
	require.NoError(t, err)
	last := evs[len(evs)-1]
	for _, ev := range evs {
		if ev.Type == event.TicketIssued {
			last = ev
		}
	}
	var data map[string]any
	require.NoError(t, json.Unmarshal(last.Data, &data))
	assert.NotContains(t, data, "rut_sealed")
	assert.NotContains(t, data, "rut_hash")

	// The sealing key survives a restart.
	require.NoError(t, e.st.ApplyConfig(ctx, rutConfig(5, keys)))
	e.reopen(t, 2)
	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "C", RUT: "12.345.678-5"})
	require.NoError(t, err)
	evs, err = e.st.Pending(ctx, 0, 100)
	require.NoError(t, err)
	p, err := evs[len(evs)-1].Payload()
	require.NoError(t, err)
	rut, err = keys.Open(p.(*event.Issued).RUTSealed)
	require.NoError(t, err)
	assert.Equal(t, "12345678-5", rut)

	require.NoError(t, e.st.Close())
	assertNoHQKey(t, e.path)
}

// TestRUTKeyDroppedFromOldBox: a box that stored HQ's key (an older agent)
// loses it, and the ticket hashes made with it, when it upgrades (migration
// 00007), and again when it applies a config.
func TestRUTKeyDroppedFromOldBox(t *testing.T) {
	e := MustStore(t, 2)
	ctx := context.Background()
	_, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C", RUT: "12.345.678-5"})
	require.NoError(t, err)
	require.NoError(t, e.st.Close())

	// What an older agent left: HQ's key in meta, tickets hashed with it;
	// then migration 00007 runs.
	raw, err := sql.Open("sqlite3", e.path)
	require.NoError(t, err)
	oldHash := seal.HashRUT(hqRUTKey, "12345678-5")
	mig, err := fs.ReadFile(migrations.SQLite(), "00007_rut_key_off_box.sql")
	require.NoError(t, err)
	up, _, _ := strings.Cut(string(mig), "-- +goose Down")
	for _, q := range []string{"INSERT INTO meta (key, value) VALUES ('rut_key', '" + base64.StdEncoding.EncodeToString(hqRUTKey) + "')",
		"UPDATE tickets SET rut_hash = '" + oldHash + "'", up} {
		_, err := raw.Exec(q)
		require.NoError(t, err, q)
	}
	require.NoError(t, raw.Close())

	e.open(t, 2)
	var n int
	require.NoError(t, e.st.DB().QueryRow("SELECT count(*) FROM tickets WHERE rut_hash = ?", oldHash).Scan(&n))
	assert.Zero(t, n, "hashes made with HQ's key are gone")
	require.NoError(t, e.st.DB().QueryRow("SELECT count(*) FROM tickets WHERE rut_enc IS NOT NULL").Scan(&n))
	assert.Equal(t, 1, n, "the RUT itself stays, sealed with the box's data key")
	require.NoError(t, e.st.Close())
	assertNoHQKey(t, e.path)

	// A restored old backup brings the key back: the next config drops it.
	raw, err = sql.Open("sqlite3", e.path)
	require.NoError(t, err)
	_, err = raw.Exec("INSERT INTO meta (key, value) VALUES ('rut_key', ?)", base64.StdEncoding.EncodeToString(hqRUTKey))
	require.NoError(t, err)
	require.NoError(t, raw.Close())
	e.open(t, 2)
	require.NoError(t, e.st.ApplyConfig(ctx, rutConfig(1, cloudRUTKeys(t))))
	require.NoError(t, e.st.Close())
	assertNoHQKey(t, e.path)
}
