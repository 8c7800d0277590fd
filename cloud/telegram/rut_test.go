package telegram_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/ingest"
	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/seal"
)

// TestRememberLinksSealedRUTs: /recordar works across branches with RUTs the
// boxes sealed (they hold no hash key): the cloud's ingest hashes them into
// the same pseudonym an older agent sent, so a consenting customer's tickets
// at other branches, sealed anew or hashed by an old box, reach his chat.
func TestRememberLinksSealedRUTs(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	ctx := context.Background()
	hashKey := []byte("HQ network-wide RUT hash key 32b")
	keys, err := seal.NewRUTKeys(hashKey)
	require.NoError(t, err)
	pub, err := seal.ParseRUTSealKey(keys.PublicKey())
	require.NoError(t, err)
	p := ingest.New(e.ingest, e.ingest, nil, prometheus.NewRegistry(), nil)
	p.RUT.SetKeys(keys)
	sealed := func(branch, ticket, service string, number int, token string) event.Event {
		s, err := seal.SealRUT(pub, "12345678-5")
		require.NoError(t, err)
		ev := e.issued(branch, ticket, service, number, 1, token, "")
		pl, err := ev.Payload()
		require.NoError(t, err)
		iss := *pl.(*event.Issued)
		iss.RUTSealed = s
		ev, err = event.New(ev.Seq, ev.ID, ev.Type, ev.At, iss)
		require.NoError(t, err)
		return ev
	}
	handle := func(branch string, ev event.Event) {
		b, err := event.EncodeBatch(branch, []event.Event{ev})
		require.NoError(t, err)
		require.NoError(t, p.Handle(ctx, cloud.Message{Topic: event.EventsTopic(branch), Payload: b}))
	}

	handle("SCL-101", sealed("SCL-101", "r1", "C", 1, "tok-r1"))
	e.say(7001, "es", "/start tok-r1")
	e.say(7001, "es", "/recordar")
	assert.Equal(t, "telegram.remember_ok", last(replies(e, 7001)))

	handle("SCL-102", sealed("SCL-102", "r2", "C", 7, ""))
	assert.Equal(t, "telegram.confirm", last(replies(e, 7001)), "a ticket sealed at another branch reaches the chat")
	n := len(replies(e, 7001))
	handle("SCL-103", e.issued("SCL-103", "r3", "C", 9, 1, "", seal.HashRUT(hashKey, "12345678-5")))
	assert.Len(t, replies(e, 7001), n+1, "so does one hashed by an old box")
	assert.Equal(t, "telegram.confirm", last(replies(e, 7001)))
	assert.Zero(t, e.count(`SELECT count(*) FROM events WHERE data ? 'rut_sealed'`))
}
