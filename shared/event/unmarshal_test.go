package event_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/eventgen"
)

// unmarshalCorpus is what TestUnmarshalAsEncodingJSON and its fuzz target
// decode: the golden messages, generated streams and the odd inputs
// encoding/json has particular answers to.
func unmarshalCorpus(t testing.TB) [][]byte {
	var corpus [][]byte
	files, err := filepath.Glob("testdata/*.json")
	require.NoError(t, err)
	legacy, err := filepath.Glob("testdata/legacy/*.json")
	require.NoError(t, err)
	for _, f := range append(files, legacy...) {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		corpus = append(corpus, raw)
	}
	for seed := range uint64(10) {
		evs := eventgen.New("SCL-001", seed).Take(60)
		msg, err := event.EncodeBatch("SCL-001", evs)
		require.NoError(t, err)
		corpus = append(corpus, msg)
	}
	for _, s := range []string{
		`{"v":1,"branch":"SCL-001","events":[{"seq":1,"id":"a","type":"ticket.called","at":"2026-11-28T13:04:05Z","data":{"ticket":"T"}}]} {}`,
		`{"V":1,"BRANCH":"SCL-001","Events":[{"SEQ":1,"Id":"a","tYpe":"ticket.called","AT":"2026-11-28T13:04:05Z","Data":{"Ticket":"T","COUNTER":3}}]}`,
		`{"seq":1,"seq":2,"id":"a","id":"b","data":{"ticket":"x","ticket":"y"}}`,
		`{"seq":-1}`, `{"seq":1.0}`, `{"seq":18446744073709551616}`, `{"seq":"1"}`, `{"seq":null,"id":null,"at":null,"data":null}`,
		`{"at":"2026-11-28T13:04:05+25:00"}`, `{"at":"2026-11-28"}`, `{"at":1}`,
		"{\"id\":\"a\xffb\",\"data\":{\"ticket\":\"\xc3\"}}", `{"id":"\u0000","data":{"ticket":"\ud800","executive":"\udc00x"}}`,
		`{"id":"\ud83d\ude00","data":{"counter":1e2,"number":-0,"position":2.5}}`,
		`{"data":{"number":99999999999999999999,"counter":"5","recall":true,"services":"C","targets":{"C":"x"}}}`,
		`{"data":[1,2]}`, `{"data":"x"}`, `{"data":{"ticket":{"nested":[1,{"a":null}]}}}`, `[]`, `null`, `""`, `{`, `{"a":}`, `{"a":1,}`,
		` {"seq":1} `, "\t\n{\"seq\":1}\r\n", `{"seq":1}x`, `{"seq":01}`, `{"seq":1e400}`, `{"id":"\x"}`, `{"id":"\u12"}`,
		`{"v":1,"branch":"B","events":[{"seq":1},"x",7,null]}`, `{"v":1,"branch":"B","events":{}}`,
	} {
		corpus = append(corpus, []byte(s))
	}
	return corpus
}

// unmarshalCases splits raw into what the decoder unmarshals: the message
// into the envelope, each event into event.Event, each event's data into
// every payload type (the right one and the wrong ones).
func unmarshalCases(raw []byte) []unmarshalCase {
	cases := []unmarshalCase{{raw, func() any {
		return new(struct {
			V      int               `json:"v"`
			Branch string            `json:"branch"`
			Events []json.RawMessage `json:"events"`
		})
	}, true}}
	var env struct {
		Events []json.RawMessage `json:"events"`
	}
	values := []json.RawMessage{raw}
	if json.Unmarshal(raw, &env) == nil {
		values = append(values, env.Events...)
	}
	for _, v := range values {
		cases = append(cases, unmarshalCase{v, func() any { return new(event.Event) }, false})
		var e struct {
			Data json.RawMessage `json:"data"`
		}
		data := []byte(v)
		if json.Unmarshal(v, &e) == nil && e.Data != nil {
			data = e.Data
		}
		for _, mk := range event.Types {
			cases = append(cases, unmarshalCase{data, mk, false})
		}
	}
	return cases
}

type unmarshalCase struct {
	data  []byte
	mk    func() any
	whole bool // a whole message (unmarshalOne)
}

// checkAsEncodingJSON says the decoder gives what encoding/json gives: the
// same value (raw messages byte for byte) and the same error text.
func checkAsEncodingJSON(t *testing.T, c unmarshalCase) {
	t.Helper()
	got, want := c.mk(), c.mk()
	var gotErr, wantErr error
	if c.whole {
		gotErr = event.UnmarshalOne(c.data, got)
		dec := json.NewDecoder(bytes.NewReader(c.data))
		if wantErr = dec.Decode(want); wantErr == nil && dec.More() {
			wantErr = errors.New("trailing data after the batch")
		}
	} else {
		gotErr, wantErr = event.Unmarshal(c.data, got), json.Unmarshal(c.data, want)
	}
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("%T from %q: error %v, encoding/json %v", want, c.data, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%T from %q:\n got %#v\nwant %#v", want, c.data, got, want)
	}
}

// TestUnmarshalAsEncodingJSON: the decoder's codec accepts and refuses what
// encoding/json does, with the same values and the same error texts.
func TestUnmarshalAsEncodingJSON(t *testing.T) {
	n := 0
	for _, raw := range unmarshalCorpus(t) {
		for _, c := range unmarshalCases(raw) {
			checkAsEncodingJSON(t, c)
			n++
		}
	}
	require.Greater(t, n, 10000)
}

// FuzzUnmarshalAsEncodingJSON is TestUnmarshalAsEncodingJSON on mutated
// inputs (go test -fuzz FuzzUnmarshalAsEncodingJSON ./event/).
func FuzzUnmarshalAsEncodingJSON(f *testing.F) {
	for _, raw := range unmarshalCorpus(f) {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, c := range unmarshalCases(raw) {
			checkAsEncodingJSON(t, c)
		}
	})
}
