package event

import (
	"bytes"
	"io"
	"math"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// The general decoder (DecodeBatchEvents' screening) goes over every byte of
// a message about six times: the envelope is validated and decoded into raw
// events (each copied), each event is validated and decoded (its data
// copied), checked for UTF-8 and escapes, and its data validated and decoded
// into its type's struct. That was half of the ingest's Go CPU.
//
// decodeOnePass takes the messages a branch sends (the agent's encoding:
// known field names in their own spelling, each once, the type before the
// data, nothing refused) in one pass of one strict decoder over the message:
// each event's fields and typed payload are decoded where they stand, and
// Data is the payload's bytes in the message (not a copy). Whatever it does
// not take as certain (a name spelled otherwise, a duplicate name, a null,
// invalid UTF-8, a bad escape, any value it cannot decode, any event the
// screening would refuse, any envelope error) makes it give up, and the
// general decoder decides the whole message, as before: what is refused,
// with which reason and detail, is the general decoder's alone
// (TestOnePassAsGeneral compares the two on every input of
// TestUnmarshalAsEncodingJSON).

// onePassOpts are unmarshal's semantics (encoding/json's, as jsonv1) for
// values read from a jsontext.Decoder (given to the decoder once, not to
// each call: joining them costs more than decoding a field). Legacy error reporting is off: it
// validates each value in a pass of its own before decoding it, and an error
// here only sends the message to the general decoder, which reports it.
var onePassOpts = jsonv2.JoinOptions(jsonv1.DefaultOptionsV1(), jsonv1.ReportErrorsWithLegacySemantics(false))

// decodeOnePass decodes payload, received on topic, when every event of it
// is accepted; ok false says the general decoder must decide.
func decodeOnePass(topic string, payload []byte) (b Batch, ok bool) {
	if len(payload) > MaxMessageBytes {
		return Batch{}, false
	}
	branch, kind, ok := ParseTopic(topic)
	if !ok || kind != KindEvents {
		return Batch{}, false
	}
	// Valid JSON has a backslash only in strings' escapes: with none, no
	// string of the message has \u0000 or a lone surrogate.
	if bytes.IndexByte(payload, '\\') >= 0 && badEscape(payload) != "" {
		return Batch{}, false
	}
	// The decoder reads a bytes.Buffer's bytes in place (no copy); by
	// its own values (not unmarshal's), it refuses duplicate names and invalid
	// UTF-8.
	dec := jsontext.NewDecoder(bytes.NewBuffer(payload), onePassOpts,
		jsontext.AllowDuplicateNames(false), jsontext.AllowInvalidUTF8(false))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return Batch{}, false
	}
	sawEvents := false
	for dec.PeekKind() == '"' {
		name, err := dec.ReadValue()
		if err != nil {
			return Batch{}, false
		}
		switch string(name) {
		case `"v"`:
			err = jsonv2.UnmarshalDecode(dec, &b.V)
		case `"branch"`:
			err = jsonv2.UnmarshalDecode(dec, &b.Branch)
		case `"events"`:
			sawEvents = true
			// The events' number if their data hold no nested object (an
			// event and its data are two objects): the slice rarely grows.
			b.Events, ok = decodeEvents(dec, payload, make([]Event, 0, bytes.Count(payload, []byte{'{'})/2))
			if !ok {
				return Batch{}, false
			}
		default:
			return Batch{}, false
		}
		if err != nil {
			return Batch{}, false
		}
	}
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '}' {
		return Batch{}, false
	}
	if _, err := dec.ReadToken(); err != io.EOF { // nothing but white space after it
		return Batch{}, false
	}
	if !sawEvents || len(b.Events) == 0 || b.V != Version || b.Branch != branch {
		return Batch{}, false
	}
	return b, true
}

// decodeEvents decodes the events array at dec's position, appending to
// evs, when every event is one the screening accepts (see screenEvent) and
// their seqs increase.
func decodeEvents(dec *jsontext.Decoder, payload []byte, evs []Event) ([]Event, bool) {
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '[' {
		return nil, false
	}
	var prev uint64
	for dec.PeekKind() == '{' {
		e, ok := decodeEvent(dec, payload)
		if !ok || e.Seq <= prev {
			return nil, false
		}
		prev = e.Seq
		evs = append(evs, e)
	}
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != ']' {
		return nil, false
	}
	return evs, true
}

// decodeEvent decodes the event object at dec's position, its typed payload
// with it, if the screening would accept it.
func decodeEvent(dec *jsontext.Decoder, payload []byte) (e Event, ok bool) {
	ok = true
	if _, err := dec.ReadToken(); err != nil { // '{', peeked by the caller
		return Event{}, false
	}
	for dec.PeekKind() == '"' {
		name, err := dec.ReadValue()
		if err != nil {
			return Event{}, false
		}
		switch string(name) {
		case `"seq"`:
			e.Seq, ok = readUint(dec)
		case `"id"`:
			e.ID, ok = readString(dec)
		case `"type"`:
			var t string
			t, ok = readString(dec)
			e.Type = Type(t)
		case `"at"`:
			var v jsontext.Value
			if v, err = dec.ReadValue(); err == nil {
				// What encoding/json does: the method on the quoted value.
				err = e.At.UnmarshalJSON(v)
			}
		case `"data"`:
			if dec.PeekKind() != '{' {
				return Event{}, false
			}
			// The value starts after the name's colon and white space.
			start := int(dec.InputOffset())
			for start < len(payload) && payload[start] != '{' {
				start++
			}
			if mk, known := Types[e.Type]; known {
				v := mk()
				err = jsonv2.UnmarshalDecode(dec, v)
				e.body = v
			} else {
				// An unknown type (stored, not projected), or the type
				// after the data (not the agent's order): raw bytes only.
				_, err = dec.ReadValue()
			}
			end := int(dec.InputOffset())
			if err != nil || end <= start || end > len(payload) {
				return Event{}, false
			}
			e.Data = payload[start:end:end]
			e.from = e.Data
		default:
			return Event{}, false
		}
		if err != nil || !ok {
			return Event{}, false
		}
	}
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '}' {
		return Event{}, false
	}
	// What screenEvent accepts (UTF-8 and escapes are checked above).
	switch {
	case e.Seq == 0 || e.Seq > math.MaxInt64:
		return Event{}, false
	case e.Type == "" || e.ID == "" || len(e.ID) > 64 || e.At.IsZero() || len(e.Data) == 0:
		return Event{}, false
	}
	if e.body == nil {
		if mk, known := Types[e.Type]; known {
			// The type came after the data: decode it now, once.
			v := mk()
			if jsonv2.Unmarshal(e.Data, v, onePassOpts) != nil {
				return Event{}, false
			}
			e.body = v
		} else {
			e.from = nil
		}
	}
	if _, unsendable := e.body.(*Unsendable); unsendable {
		return Event{}, false
	}
	return e, true
}

// readUint reads a JSON number as encoding/json decodes it into a uint64:
// digits only (no sign, fraction or exponent), at most 2^64−1.
func readUint(dec *jsontext.Decoder) (uint64, bool) {
	v, err := dec.ReadValue()
	if err != nil || v.Kind() != '0' {
		return 0, false
	}
	var n uint64
	for _, c := range v {
		if c < '0' || c > '9' || n > (math.MaxUint64-uint64(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// readString reads a JSON string without escapes (valid UTF-8: the decoder
// checks it); one with escapes is left to the general decoder.
func readString(dec *jsontext.Decoder) (string, bool) {
	v, err := dec.ReadValue()
	if err != nil || v.Kind() != '"' || bytes.IndexByte(v, '\\') >= 0 {
		return "", false
	}
	return string(v[1 : len(v)-1]), true
}
