package ingest_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/ingest"
	"github.com/ticketero/ticketero/cloud/mqtt"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/eventgen"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
)

// poison is an event the cloud must refuse on its own, with the quarantine
// reason it must get.
type poison struct {
	reason string
	raw    func(seq uint64) string
}

func badEvent(seq uint64, id, typ, data string) string {
	return `{"seq":` + strconv.FormatUint(seq, 10) + `,"id":"` + id + `","type":"` + typ +
		`","at":"2026-11-28T13:04:05Z","data":` + data + `}`
}

var poisons = []poison{
	{event.RejectText, func(s uint64) string { // the pause reason
		return badEvent(s, "bad-nul", "executive.paused", `{"executive":"E1","counter":1,"reason":"almuerzo\u0000"}`)
	}},
	{event.RejectUTF8, func(s uint64) string {
		return badEvent(s, "bad-utf8", "executive.logged_in", "{\"executive\":\"E1\",\"name\":\"Jos\xe9\",\"counter\":1}")
	}},
	{event.RejectData, func(s uint64) string { // PostgreSQL: 22003 value overflows numeric format
		return badEvent(s, "bad-range", "executive.paused", `{"executive":"E1","counter":1,"reason":"x","extra":1e400000}`)
	}},
	{event.RejectPayload, func(s uint64) string {
		return badEvent(s, "bad-shape", "ticket.called", `{"ticket":["t"],"counter":"uno"}`)
	}},
}

// poisonedStream is a branch's stream with a poisoned event after every few
// valid ones: the messages to send and the valid events among them.
func poisonedStream(t *testing.T, branch string) (msgs []string, lastSeqs []uint64, good []event.Event) {
	t.Helper()
	gen := eventgen.New(branch, 7).Take(40)
	seq := uint64(0)
	for i, p := range poisons {
		var parts []string
		for _, e := range gen[i*8 : i*8+8] {
			seq++
			e.Seq = seq
			good = append(good, e)
			b, err := json.Marshal(e)
			require.NoError(t, err)
			parts = append(parts, string(b))
			if len(parts) == 4 {
				seq++
				parts = append(parts, p.raw(seq))
			}
		}
		msgs = append(msgs, `{"v":1,"branch":"`+branch+`","events":[`+strings.Join(parts, ",")+`]}`)
		lastSeqs = append(lastSeqs, seq)
	}
	return msgs, lastSeqs, good
}

// TestPoisonedEventsKeepBranchSyncing sends, through a real Mosquitto to the
// cloud's shared subscription and a real PostgreSQL, a branch stream carrying
// every class of poisoned event: each is quarantined raw, the ack passes its
// seq, and every later valid event is projected.
func TestPoisonedEventsKeepBranchSyncing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	broker := mqtttest.Start(t)
	pool, store := newStore(t)

	cloudTLS, err := broker.PKI.TLSConfig(broker.Cloud)
	require.NoError(t, err)
	client, err := mqtt.New(mqtt.Config{URL: broker.URL(), TLS: cloudTLS, ClientID: "cloud-poison", Workers: 2}, store, nil)
	require.NoError(t, err)
	defer client.Close()
	reg := prometheus.NewRegistry()
	p := ingest.New(store, store, client, reg, nil)
	client.Connect()
	runDone := make(chan struct{})
	go func() { defer close(runDone); _ = client.Run(ctx, p.Handle) }()
	defer func() { cancel(); <-runDone }()
	require.Eventually(t, client.Ready, 10*time.Second, 20*time.Millisecond)

	const branch = "QTN-001"
	boxTLS, err := broker.PKI.TLSConfig(broker.MustBranchCert(t, branch))
	require.NoError(t, err)
	box := paho.NewClient(paho.NewClientOptions().AddBroker(broker.URL()).SetClientID(branch).SetTLSConfig(boxTLS))
	require.True(t, box.Connect().WaitTimeout(10*time.Second))
	defer box.Disconnect(100)
	acks := make(chan event.Ack, 16)
	require.True(t, box.Subscribe(event.AckTopic(branch), 1, func(_ paho.Client, m paho.Message) {
		var a event.Ack
		if json.Unmarshal(m.Payload(), &a) == nil {
			acks <- a
		}
	}).WaitTimeout(5*time.Second))
	send := func(payload string) {
		t.Helper()
		require.True(t, box.Publish(event.EventsTopic(branch), 1, false, payload).WaitTimeout(5*time.Second))
	}
	ackOf := func() event.Ack {
		t.Helper()
		select {
		case a := <-acks:
			return a
		case <-time.After(10 * time.Second):
			t.Fatal("no ack: the branch is blocked")
			return event.Ack{}
		}
	}

	msgs, lastSeqs, good := poisonedStream(t, branch)
	for i, m := range msgs {
		send(m)
		a := ackOf()
		assert.Equal(t, lastSeqs[i], a.Seq, "message %d: the ack passes the %s event", i, poisons[i].reason)
		assert.Zero(t, a.Gap)
	}

	// The agent's resend (its ack lost) changes nothing and is acked again.
	send(msgs[0])
	assert.Equal(t, lastSeqs[len(lastSeqs)-1], ackOf().Seq)

	// A message that is not a batch at all is kept but acks nothing.
	send(`{"v":1,"branch":"` + branch + `","events":[{"seq":`)
	// A seq above 2^63-1 (no column holds it) after valid events: acked past.
	last := lastSeqs[len(lastSeqs)-1]
	next := eventgen.New(branch, 8).Take(1)[0]
	next.Seq, next.ID = last+1, "after-range"
	nb, err := json.Marshal(next)
	require.NoError(t, err)
	huge := uint64(1) << 63
	send(`{"v":1,"branch":"` + branch + `","events":[` + string(nb) + `,` +
		badEvent(huge, "bad-seq", "ticket.called", `{"ticket":"t","counter":1}`) + `]}`)
	assert.Equal(t, huge, ackOf().Seq, "the ack passes a seq above 2^63-1")

	// Every valid event is projected, in spite of the poisoned ones between.
	want := eventgen.Statuses(append(good, next))
	got := map[string]string{}
	rows, err := pool.Query(ctx, `SELECT id, status FROM tickets WHERE branch = $1`, branch)
	require.NoError(t, err)
	for rows.Next() {
		var id, st string
		require.NoError(t, rows.Scan(&id, &st))
		got[id] = st
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, want, got)
	var applied int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT applied_seq FROM branch_sync WHERE branch = $1`, branch).Scan(&applied))
	assert.Equal(t, int64(last+1), applied)

	// Each poisoned event is in quarantine once, raw as sent. The message
	// that is not a batch acks nothing, so nothing says when its worker has
	// stored it: wait for its row.
	var reasons map[string]int
	var raws map[string][]byte
	readQuarantine := func() bool {
		reasons, raws = map[string]int{}, map[string][]byte{}
		qrows, err := pool.Query(ctx, `SELECT reason, coalesce(seq::text, ''), raw FROM ingest_quarantine WHERE branch = $1`, branch)
		require.NoError(t, err)
		defer qrows.Close()
		for qrows.Next() {
			var reason, seq string
			var raw []byte
			require.NoError(t, qrows.Scan(&reason, &seq, &raw))
			reasons[reason]++
			raws[seq] = raw
		}
		require.NoError(t, qrows.Err())
		return reasons[event.RejectMalformed] > 0
	}
	require.Eventually(t, readQuarantine, 10*time.Second, 20*time.Millisecond, "the malformed message is quarantined")
	assert.Equal(t, map[string]int{event.RejectText: 1, event.RejectUTF8: 1, event.RejectData: 1, event.RejectPayload: 1,
		event.RejectSeqRange: 1, event.RejectMalformed: 1}, reasons)
	assert.Equal(t, poisons[0].raw(5), string(raws["5"]), "the NUL event kept byte for byte")
	assert.Equal(t, `{"seq":`+strconv.FormatUint(huge, 10), string(raws[strconv.FormatUint(huge, 10)][:len(`{"seq":`)+19]))
	var placeholder string
	require.NoError(t, pool.QueryRow(ctx, `SELECT type FROM events WHERE branch = $1 AND seq = 5`, branch).Scan(&placeholder))
	assert.Equal(t, string(postgres.QuarantinedType), placeholder)
	for _, r := range []string{event.RejectText, event.RejectUTF8, event.RejectData, event.RejectPayload, event.RejectSeqRange, event.RejectMalformed} {
		assert.Equal(t, 1.0, testutil.ToFloat64(p.Metrics.Quarantined.WithLabelValues(r)), r)
	}
	assert.Zero(t, testutil.ToFloat64(p.Metrics.Errors), "no data error was taken for a transient one")
}
