package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Reject reasons: why a message was refused. They label metrics and logs.
const (
	RejectTooLarge       = "too_large"
	RejectMalformed      = "malformed"
	RejectVersion        = "version"
	RejectTopic          = "topic"
	RejectBranchMismatch = "branch_mismatch"
	RejectSeq            = "seq"
	RejectEvent          = "event"
	// RejectSeqConflict: a seq the cloud already stores arrives with another
	// event ID — the box restarted its sequence (replaced or wiped without
	// resuming), so its batch is held, never taken for a duplicate.
	RejectSeqConflict = "seq_conflict"
)

// DecodeError is a refused message with a stable Reason (Reject*) and a detail.
type DecodeError struct {
	Reason string
	Detail string
}

func (e *DecodeError) Error() string { return "event: rejected (" + e.Reason + "): " + e.Detail }

func reject(reason, format string, args ...any) error {
	return &DecodeError{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// EncodeBatch marshals a batch of one branch's events. It fails when the result
// exceeds MaxMessageBytes: split with SplitBatch first.
func EncodeBatch(branch string, events []Event) ([]byte, error) {
	b, err := json.Marshal(Batch{V: Version, Branch: branch, Events: events})
	if err != nil {
		return nil, fmt.Errorf("event: encode batch: %w", err)
	}
	if len(b) > MaxMessageBytes {
		return nil, reject(RejectTooLarge, "batch of %d events is %d bytes", len(events), len(b))
	}
	return b, nil
}

// envelopeOverhead bounds the bytes of a batch beyond its events' own JSON.
const envelopeOverhead = 128

// RejectInvalidJSON names an event whose data is not valid JSON.
const RejectInvalidJSON = "invalid_json"

// SplitBatch splits events (in seq order) into consecutive runs whose encoded
// batch fits in maxBytes (≤ MaxMessageBytes), and returns the encoded messages
// with the last seq of each. An event that can never be sent (too large on its
// own, or data that is not JSON) is sent as an event.unsendable stand-in at
// its seq, so one bad event never stops a branch's sync; the stand-ins are
// returned in replaced for the caller to report.
func SplitBatch(branch string, events []Event, maxBytes int) (msgs [][]byte, lastSeqs []uint64, replaced []Event, err error) {
	if maxBytes <= 0 || maxBytes > MaxMessageBytes {
		maxBytes = MaxMessageBytes
	}
	start, size := 0, envelopeOverhead+len(branch)
	// Each event is marshalled once, here; a message is its events' JSON
	// joined inside the batch envelope, byte for byte what EncodeBatch
	// (json.Marshal of the Batch) writes for the same events.
	head, err := json.Marshal(branch)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("event: encode batch: %w", err)
	}
	head = append(append([]byte(`{"v":`+strconv.Itoa(Version)+`,"branch":`), head...), `,"events":[`...)
	encoded := make([][]byte, len(events))
	flush := func(end int) error {
		n := len(head) + 2
		for _, one := range encoded[start:end] {
			n += len(one) + 1
		}
		b := append(make([]byte, 0, n), head...)
		for i, one := range encoded[start:end] {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, one...)
		}
		b = append(b, "]}"...)
		if len(b) > MaxMessageBytes {
			return reject(RejectTooLarge, "batch of %d events is %d bytes", end-start, len(b))
		}
		msgs = append(msgs, b)
		lastSeqs = append(lastSeqs, events[end-1].Seq)
		start, size = end, envelopeOverhead+len(branch)
		return nil
	}
	copied := false
	for i, e := range events {
		one, err := json.Marshal(e)
		reason := ""
		switch {
		case err != nil:
			reason = RejectInvalidJSON
		case envelopeOverhead+len(branch)+len(one)+1 > maxBytes:
			reason = RejectTooLarge
		}
		if reason != "" {
			stand, serr := New(e.Seq, e.ID, EventUnsendable, e.At, Unsendable{Type: e.Type, Reason: reason, Bytes: len(e.Data)})
			if serr != nil {
				return nil, nil, nil, serr
			}
			if !copied { // never write into the caller's slice
				events, copied = slices.Clone(events), true
			}
			events[i] = stand
			replaced = append(replaced, stand)
			if one, err = json.Marshal(stand); err != nil {
				return nil, nil, nil, fmt.Errorf("event: encode event %d: %w", e.Seq, err)
			}
		}
		encoded[i] = one
		n := len(one) + 1
		if size+n > maxBytes && i > start {
			if err := flush(i); err != nil {
				return nil, nil, nil, err
			}
		}
		size += n
	}
	if start < len(events) {
		if err := flush(len(events)); err != nil {
			return nil, nil, nil, err
		}
	}
	return msgs, lastSeqs, replaced, nil
}

// DecodeBatch parses and validates a message received on topic. It accepts only
// a batch on an events topic, at most MaxMessageBytes, version 1, whose branch
// matches the topic, with at least one event, seqs > 0 and strictly increasing,
// a type and an ID on every event. Unknown fields are ignored; unknown types are
// kept (Type.Known reports them). Errors are *DecodeError.
func DecodeBatch(topic string, payload []byte) (Batch, error) {
	env, err := decodeEnvelope(topic, payload)
	if err != nil {
		return Batch{}, err
	}
	b := Batch{V: env.V, Branch: env.Branch, Events: make([]Event, len(env.Events))}
	for i, raw := range env.Events {
		if err := unmarshal(raw, &b.Events[i]); err != nil {
			return Batch{}, reject(RejectMalformed, "event %d: %v", i, err)
		}
	}
	var prev uint64
	for i, e := range b.Events {
		if e.Seq == 0 || e.Seq <= prev {
			return Batch{}, reject(RejectSeq, "event %d has seq %d after %d", i, e.Seq, prev)
		}
		prev = e.Seq
		if e.Type == "" || e.ID == "" || len(e.ID) > 64 {
			return Batch{}, reject(RejectEvent, "event seq %d lacks a type or a valid id", e.Seq)
		}
		if e.At.IsZero() {
			return Batch{}, reject(RejectEvent, "event seq %d lacks its time", e.Seq)
		}
		if len(e.Data) == 0 || e.Data[0] != '{' {
			return Batch{}, reject(RejectEvent, "event seq %d data is not an object", e.Seq)
		}
		if e.Type.Known() {
			if _, err := b.Events[i].Decode(); err != nil {
				return Batch{}, reject(RejectEvent, "event seq %d data: %v", e.Seq, err)
			}
		}
	}
	return b, nil
}

// envelope is a batch whose events are not decoded yet.
type envelope struct {
	V      int               `json:"v"`
	Branch string            `json:"branch"`
	Events []json.RawMessage `json:"events"`
}

// errTrailing is unmarshalOne's refusal of what follows the message's value.
var errTrailing = errors.New("trailing data after the batch")

// decodeEnvelope checks what a whole message must be: size, topic, JSON,
// version, branch, at least one event.
func decodeEnvelope(topic string, payload []byte) (envelope, error) {
	if len(payload) > MaxMessageBytes {
		return envelope{}, reject(RejectTooLarge, "%d bytes", len(payload))
	}
	branch, kind, ok := ParseTopic(topic)
	if !ok || kind != KindEvents {
		return envelope{}, reject(RejectTopic, "not an events topic: %q", topic)
	}
	var env envelope
	if err := unmarshalOne(payload, &env); err != nil {
		return envelope{}, reject(RejectMalformed, "%v", err)
	}
	if env.V != Version {
		return envelope{}, reject(RejectVersion, "version %d", env.V)
	}
	if env.Branch != branch {
		return envelope{}, reject(RejectBranchMismatch, "batch branch %q on topic of %q", env.Branch, branch)
	}
	if len(env.Events) == 0 {
		return envelope{}, reject(RejectEvent, "no events")
	}
	return env, nil
}
