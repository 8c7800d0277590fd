package event_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/eventgen"
)

// onePassInputs are the messages TestOnePassAsGeneral decodes: each input
// of TestUnmarshalAsEncodingJSON as a message, and each event or value in
// it inside a valid envelope.
func onePassInputs(raw []byte) [][]byte {
	msgs := [][]byte{raw}
	for _, c := range unmarshalCases(raw) {
		if c.whole {
			continue
		}
		msgs = append(msgs, []byte(`{"v":1,"branch":"SCL-001","events":[`+string(c.data)+`]}`),
			[]byte(`{"v":1,"branch":"SCL-001","events":[{"seq":1,"id":"a","type":"ticket.called","at":"2026-11-28T13:04:05Z","data":`+
				string(c.data)+`}]}`))
	}
	return msgs
}

// checkOnePass says that where the one-pass decoder decides, it gives what
// the screening decoder gives: the same batch, nothing refused.
func checkOnePass(t *testing.T, msg []byte) (decided bool) {
	t.Helper()
	topic := event.EventsTopic("SCL-001")
	got, ok := event.DecodeOnePass(topic, msg)
	want, refused, err := event.DecodeScreening(topic, msg)
	if !ok {
		return false
	}
	if err != nil || len(refused) > 0 {
		t.Fatalf("one pass took %q; screening: err %v, refused %+v", msg, err, refused)
	}
	require.Equal(t, want.V, got.V)
	require.Equal(t, want.Branch, got.Branch)
	require.Len(t, got.Events, len(want.Events), "%q", msg)
	for i, w := range want.Events {
		g := got.Events[i]
		if g.Seq != w.Seq || g.ID != w.ID || g.Type != w.Type || !g.At.Equal(w.At) || g.At.String() != w.At.String() ||
			string(g.Data) != string(w.Data) {
			t.Fatalf("event %d of %q:\n got %+v\nwant %+v", i, msg, g, w)
		}
		gp, gerr := g.Payload()
		wp, werr := w.Payload()
		require.NoError(t, gerr)
		require.NoError(t, werr)
		if !reflect.DeepEqual(gp, wp) {
			t.Fatalf("payload of event %d of %q:\n got %#v\nwant %#v", i, msg, gp, wp)
		}
	}
	return true
}

// TestOnePassAsGeneral: the one-pass decoder decides only messages the
// screening decoder accepts whole, with the same events and payloads; it
// decides the agent's own messages and leaves odd ones to the screening.
func TestOnePassAsGeneral(t *testing.T) {
	decided, n := 0, 0
	for _, raw := range unmarshalCorpus(t) {
		for _, msg := range onePassInputs(raw) {
			n++
			if checkOnePass(t, msg) {
				decided++
			}
		}
	}
	t.Logf("%d of %d messages decided in one pass", decided, n)
	require.Greater(t, decided, 100)

	t.Run("agent's messages", func(t *testing.T) {
		for seed := range uint64(5) {
			evs := eventgen.New("SCL-001", seed).Take(200)
			msg, err := event.EncodeBatch("SCL-001", evs)
			require.NoError(t, err)
			require.True(t, checkOnePass(t, msg), "seed %d", seed)
		}
	})
	good := `{"seq":1,"id":"a","type":"executive.paused","at":"2026-11-28T13:04:05Z","data":{"executive":"x","reason":"ok"}}`
	for name, ev := range map[string]string{
		"golden order":      `{"at":"2026-11-28T13:04:05Z","data":{"executive":"x","reason":"ok"},"id":"a","seq":1,"type":"executive.paused"}`,
		"unknown type":      strings.Replace(good, "executive.paused", "ticket.teleported", 1),
		"escaped text":      strings.Replace(good, `"ok"`, `"a\\u0000b \u00e9 \ud83d\ude00"`, 1),
		"white space":       strings.ReplaceAll(strings.ReplaceAll(good, ",", " ,\n "), `":`, "\" :\t"),
		"unknown data name": strings.Replace(good, `"reason"`, `"extra":[1,{"a":null}],"reason"`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			msg := `{"v":1,"branch":"SCL-001","events":[` + ev + `]}`
			require.True(t, checkOnePass(t, []byte(msg)))
		})
	}
	for name, ev := range map[string]string{
		"refused nul":       strings.Replace(good, `"ok"`, `"almuerzo\u0000"`, 1),
		"lone surrogate":    strings.Replace(good, `"ok"`, `"\udc00"`, 1),
		"invalid utf8":      strings.Replace(good, `"ok"`, "\"caf\xe9\"", 1),
		"invalid utf8 kept": strings.Replace(good, `"reason"`, "\"x\":\"\xe9\",\"reason\"", 1),
		"name in capitals":  strings.Replace(good, `"seq"`, `"SEQ"`, 1),
		"escaped name":      strings.Replace(good, `"seq"`, `"s\u0065q"`, 1),
		"duplicate name":    strings.Replace(good, `"reason":"ok"`, `"reason":"ok","reason":"no"`, 1),
		"null data":         strings.Replace(good, `{"executive":"x","reason":"ok"}`, `null`, 1),
		"unknown field":     strings.Replace(good, `"seq":1`, `"seq":1,"extra":2`, 1),
		"wrong shape":       strings.Replace(good, `"executive":"x"`, `"executive":["x"]`, 1),
		"unsendable":        `{"seq":1,"id":"a","type":"event.unsendable","at":"2026-11-28T13:04:05Z","data":{"type":"x","reason":"too_large","bytes":9}}`,
		"seq 0":             strings.Replace(good, `"seq":1`, `"seq":0`, 1),
		"id too long":       strings.Replace(good, `"id":"a"`, `"id":"`+strings.Repeat("a", 65)+`"`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			msg := `{"v":1,"branch":"SCL-001","events":[` + ev + `]}`
			_, ok := event.DecodeOnePass(event.EventsTopic("SCL-001"), []byte(msg))
			require.False(t, ok, "left to the screening")
		})
	}
}

// The payload decoded in the pass is the event's own: Data is its bytes in
// the message, and Payload returns it without decoding again.
func TestOnePassPayloadKept(t *testing.T) {
	evs := eventgen.New("SCL-001", 1).Take(50)
	msg, err := event.EncodeBatch("SCL-001", evs)
	require.NoError(t, err)
	b, refused, err := event.DecodeBatchEvents(event.EventsTopic("SCL-001"), msg)
	require.NoError(t, err)
	require.Empty(t, refused)
	for i, e := range b.Events {
		assert.JSONEq(t, string(evs[i].Data), string(e.Data))
		p1, err := e.Payload()
		require.NoError(t, err)
		p2, err := e.Payload()
		require.NoError(t, err)
		if e.Type.Known() {
			require.Same(t, p1, p2, "decoded once")
		}
		var fresh event.Event
		require.NoError(t, json.Unmarshal(mustMarshal(t, e), &fresh))
		p3, err := fresh.Payload()
		require.NoError(t, err)
		require.Equal(t, p3, p1)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// FuzzOnePassAsGeneral is TestOnePassAsGeneral on mutated inputs
// (go test -fuzz FuzzOnePassAsGeneral ./event/).
func FuzzOnePassAsGeneral(f *testing.F) {
	for _, raw := range unmarshalCorpus(f) {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkOnePass(t, raw)
	})
}
