package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/ingest"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/seal"
)

var hqRUTKey = []byte("HQ network-wide RUT hash key 32b")

func rutKeys(t *testing.T, secret []byte) *seal.RUTKeys {
	t.Helper()
	k, err := seal.NewRUTKeys(secret)
	require.NoError(t, err)
	return k
}

func issued(t *testing.T, seq uint64, rutHash, rutSealed string) event.Event {
	t.Helper()
	at := time.Date(2026, 11, 28, 12, 0, int(seq), 0, time.UTC)
	e, err := event.New(seq, fmt.Sprintf("ev-%d", seq), event.TicketIssued, at, event.Issued{
		TicketRef: event.TicketRef{Ticket: fmt.Sprintf("t%d", seq), Service: "C", Number: int(seq), Day: "2026-11-28"},
		Priority:  "normal", QueuedAt: at, Position: int(seq), Token: fmt.Sprintf("tok%d", seq),
		RUTHash: rutHash, RUTSealed: rutSealed, Channel: "kiosk"})
	require.NoError(t, err)
	return e
}

// TestSealedRUTHashedAtIngest: the cloud opens the RUT a box sealed to its
// public key and stores only its keyed hash, the same HMAC old agents sent
// (so a customer's old and new tickets link); an old event with rut_hash
// projects as before; a sealed RUT that does not open never blocks the
// branch: its ticket is projected without a hash, counted and logged without
// the payload.
func TestSealedRUTHashedAtIngest(t *testing.T) {
	ctx := context.Background()
	pool, store := newStore(t)
	a := &acks{}
	var logs bytes.Buffer
	p := ingest.New(store, store, a, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(&logs, nil)))
	keys := rutKeys(t, hqRUTKey)
	p.RUT.SetKeys(keys)

	pub, err := seal.ParseRUTSealKey(keys.PublicKey())
	require.NoError(t, err)
	sealTo := func(pub *[32]byte, rut string) string {
		s, err := seal.SealRUT(pub, rut)
		require.NoError(t, err)
		return s
	}
	otherPub, err := seal.ParseRUTSealKey(rutKeys(t, []byte("some other cloud's RUT hash key")).PublicKey())
	require.NoError(t, err)
	oldHash := seal.HashRUT(hqRUTKey, "12345678-5") // what an agent holding the key sent
	good := sealTo(pub, "12345678-5")
	evs := []event.Event{
		issued(t, 1, "", good),
		issued(t, 2, oldHash, ""),                         // an old agent
		issued(t, 3, "", "bm90IGEgYm94"),                  // garbage
		issued(t, 4, "", sealTo(otherPub, "12345678-5")),  // another cloud's key
		issued(t, 5, "", sealTo(pub, "12.345.678-5")),     // not normalised
		issued(t, 6, "forged-by-box", sealTo(pub, "7-1")), // not a RUT; the box's hash is not kept
		issued(t, 7, "", ""),                              // no RUT given
		issued(t, 8, "", ""),
		issued(t, 9, "", ""),
	}
	// Spellings Go still decodes as rut_sealed are not stored either.
	evs[7].Data = []byte(strings.Replace(string(evs[7].Data), `"channel"`, `"RUT_Sealed":"`+sealTo(pub, "12345678-5")+`","channel"`, 1))
	evs[8].Data = []byte(strings.Replace(string(evs[8].Data), `"channel"`, `"rut\u005fsealed":"bm90IGEgYm94","channel"`, 1))
	// The long s, which Go folds to s (passed sealed before 2026-12-02).
	evs[6].Data = []byte(strings.Replace(string(evs[6].Data), `"channel"`, `"rut_ſealed":"`+sealTo(pub, "12345678-5")+`","channel"`, 1))
	require.NoError(t, p.Handle(ctx, msg(t, "RUT-001", evs)))
	require.Equal(t, []event.Ack{{V: 1, Branch: "RUT-001", Seq: 9}}, a.got, "nothing blocks the branch")

	hashes := map[string]string{}
	rows, err := pool.Query(ctx, `SELECT id, coalesce(rut_hash, '') FROM tickets WHERE branch = 'RUT-001'`)
	require.NoError(t, err)
	for rows.Next() {
		var id, h string
		require.NoError(t, rows.Scan(&id, &h))
		hashes[id] = h
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, map[string]string{"t1": oldHash, "t2": oldHash, "t3": "", "t4": "", "t5": "", "t6": "", "t7": oldHash,
		"t8": oldHash, "t9": ""}, hashes,
		"the cloud's hash of the sealed RUT equals the old agents' hash; what does not open projects without one")

	var sealedLeft, hashed int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE lower(data::text) LIKE '%rut_sealed%' OR data::text LIKE '%ſealed%'),
		count(*) FILTER (WHERE data ? 'rut_hash') FROM events WHERE branch = 'RUT-001'`).Scan(&sealedLeft, &hashed))
	assert.Zero(t, sealedLeft, "no sealed RUT is stored")
	assert.Equal(t, 4, hashed)

	c := p.RUT.Counter()
	assert.Equal(t, 3.0, testutil.ToFloat64(c.WithLabelValues(ingest.RUTHashed)))
	assert.Equal(t, 3.0, testutil.ToFloat64(c.WithLabelValues(ingest.RUTUnopenable)))
	assert.Equal(t, 2.0, testutil.ToFloat64(c.WithLabelValues(ingest.RUTInvalid)))
	assert.Contains(t, logs.String(), "sealed RUT not hashed")
	for _, secret := range []string{good, "12345678", "bm90IGEgYm94", oldHash} {
		assert.NotContains(t, logs.String(), secret)
	}

	// A cloud without the key drops sealed RUTs (never stores them).
	p2 := ingest.New(store, store, a, prometheus.NewRegistry(), nil)
	require.NoError(t, p2.Handle(ctx, msg(t, "RUT-001", []event.Event{issued(t, 10, "", sealTo(pub, "12345678-5"))})))
	var h *string
	require.NoError(t, pool.QueryRow(ctx, `SELECT rut_hash FROM tickets WHERE branch = 'RUT-001' AND id = 't10'`).Scan(&h))
	assert.Nil(t, h)
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE data ? 'rut_sealed'`).Scan(&sealedLeft))
	assert.Zero(t, sealedLeft)
	assert.Equal(t, 1.0, testutil.ToFloat64(p2.RUT.Counter().WithLabelValues(ingest.RUTNoKey)))
}
