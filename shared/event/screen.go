package event

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Reasons for refusing one event of a batch on its own (Refused.Reason); the
// batch's other events are kept. They label metrics and quarantine rows.
const (
	// RejectSeqRange: a seq above 2^63−1, which no column or ack
	// arithmetic of the cloud holds.
	RejectSeqRange = "seq_range"
	// RejectUTF8: bytes that are not UTF-8 in the event.
	RejectUTF8 = "utf8"
	// RejectText: a string with NUL (\u0000) or an unpaired surrogate, which
	// PostgreSQL text and jsonb refuse.
	RejectText = "text"
	// RejectPayload: data that does not fit its (known) type.
	RejectPayload = "payload"
	// RejectData: the database refused the event's data (SQLSTATE class 22);
	// set by the store, not by the decoder.
	RejectData = "data"
	// RejectUnsendable: the branch could not send the event and sent an
	// event.unsendable stand-in at its seq (see SplitBatch).
	RejectUnsendable = "unsendable"
)

// Refused is one event of a batch refused on its own. The cloud quarantines
// it (raw, for inspection) and, when its Seq is known, counts that seq as done
// so that one event never blocks a branch's stream.
type Refused struct {
	// Seq is the event's seq; 0 when it could not be identified.
	Seq uint64
	// ID and Type as sent, when they could be read (possibly not valid text).
	ID, Type string
	// At is the event's time when it could be read.
	At time.Time
	// Raw is the event's JSON as received.
	Raw    json.RawMessage
	Reason string // Reject*
	Detail string
}

// DecodeBatchEvents is DecodeBatch that refuses an event on its own rather
// than the whole batch: the batch keeps its valid events (in seq order) and
// every other event is returned as Refused (bad shape, seq 0 or above 2^63−1,
// invalid UTF-8, NUL, a payload that does not fit its type). What must hold
// for the whole message (size, topic, JSON envelope, version, branch, at
// least one event, identified seqs strictly increasing) is still an error
// (*DecodeError).
func DecodeBatchEvents(topic string, payload []byte) (Batch, []Refused, error) {
	if b, ok := decodeOnePass(topic, payload); ok {
		return b, nil, nil
	}
	return decodeScreening(topic, payload)
}

// decodeScreening is DecodeBatchEvents for any message: the envelope, then
// each event screened on its own (screenEvent).
func decodeScreening(topic string, payload []byte) (Batch, []Refused, error) {
	env, err := decodeEnvelope(topic, payload)
	if err != nil {
		return Batch{}, nil, err
	}
	b := Batch{V: env.V, Branch: env.Branch}
	var refused []Refused
	var prev uint64
	for i, raw := range env.Events {
		e, r := screenEvent(raw)
		seq := e.Seq
		if r != nil {
			seq = r.Seq
		}
		if seq != 0 {
			if seq <= prev {
				return Batch{}, nil, reject(RejectSeq, "event %d has seq %d after %d", i, seq, prev)
			}
			prev = seq
		}
		if r != nil {
			refused = append(refused, *r)
			continue
		}
		b.Events = append(b.Events, e)
	}
	return b, refused, nil
}

// screenEvent decodes one event and checks what the cloud needs to store and
// project it.
func screenEvent(raw json.RawMessage) (Event, *Refused) {
	var e Event
	if err := unmarshal(raw, &e); err != nil {
		// Identify what can be: the seq (to ack past it), the ID and type.
		r := &Refused{Raw: raw, Reason: RejectEvent, Detail: err.Error()}
		var loose struct {
			Seq  json.RawMessage `json:"seq"`
			ID   json.RawMessage `json:"id"`
			Type json.RawMessage `json:"type"`
		}
		if json.Unmarshal(raw, &loose) == nil {
			if n, err := strconv.ParseUint(string(loose.Seq), 10, 64); err == nil {
				r.Seq = n
			}
			_ = json.Unmarshal(loose.ID, &r.ID)
			_ = json.Unmarshal(loose.Type, &r.Type)
		}
		if r.Seq > math.MaxInt64 {
			r.Reason = RejectSeqRange
		}
		return Event{}, r
	}
	refuse := func(reason, format string, args ...any) *Refused {
		return &Refused{Seq: e.Seq, ID: e.ID, Type: string(e.Type), At: e.At, Raw: raw, Reason: reason, Detail: fmt.Sprintf(format, args...)}
	}
	switch {
	case e.Seq == 0:
		return e, refuse(RejectSeq, "seq 0")
	case e.Seq > math.MaxInt64:
		return e, refuse(RejectSeqRange, "seq %d above 2^63-1", e.Seq)
	case !utf8.Valid(raw):
		return e, refuse(RejectUTF8, "event seq %d is not valid UTF-8", e.Seq)
	}
	if bad := badEscape(raw); bad != "" {
		return e, refuse(RejectText, "event seq %d has %s", e.Seq, bad)
	}
	switch {
	case e.Type == "" || e.ID == "" || len(e.ID) > 64:
		return e, refuse(RejectEvent, "event seq %d lacks a type or a valid id", e.Seq)
	case e.At.IsZero():
		return e, refuse(RejectEvent, "event seq %d lacks its time", e.Seq)
	case len(e.Data) == 0 || e.Data[0] != '{':
		return e, refuse(RejectEvent, "event seq %d data is not an object", e.Seq)
	}
	if e.Type.Known() {
		p, err := e.Decode()
		if err != nil {
			return e, refuse(RejectPayload, "event seq %d data: %v", e.Seq, err)
		}
		if u, ok := p.(*Unsendable); ok {
			return e, refuse(RejectUnsendable, "the branch could not send event seq %d (%s, %s, %d bytes)", e.Seq, u.Type, u.Reason, u.Bytes)
		}
	}
	return e, nil
}

// badEscape finds, in valid JSON, a string escape that PostgreSQL text or
// jsonb refuses: \u0000 or an unpaired UTF-16 surrogate. Outside strings valid
// JSON has no backslash, so a linear scan of escapes is exact.
func badEscape(raw []byte) string {
	hex := func(i int) (rune, bool) {
		if i+4 > len(raw) {
			return 0, false
		}
		n, err := strconv.ParseUint(string(raw[i:i+4]), 16, 16)
		return rune(n), err == nil
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++
		if i >= len(raw) || raw[i] != 'u' {
			continue
		}
		r, ok := hex(i + 1)
		if !ok {
			return "a bad \\u escape"
		}
		i += 4
		switch {
		case r == 0:
			return "NUL (\\u0000) in a string"
		case r >= 0xDC00 && r <= 0xDFFF:
			return "an unpaired surrogate"
		case r >= 0xD800 && r <= 0xDBFF:
			if i+2 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
				return "an unpaired surrogate"
			}
			lo, ok := hex(i + 3)
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return "an unpaired surrogate"
			}
			i += 6
		}
	}
	return ""
}
