package event

import (
	"bytes"
	"encoding/json"
	"reflect"

	jsonv1 "github.com/go-json-experiment/json/v1"
)

// The cloud decodes every event it receives three times over (the message's
// envelope, each event, its payload): encoding/json was two thirds of the
// ingest's Go CPU. unmarshal decodes with go-json-experiment/json's v1
// package, the implementation behind encoding/json under GOEXPERIMENT=jsonv2
// (one validating pass instead of a scan and a decode, a quarter of the
// allocations), whose results are encoding/json's (TestUnmarshalAsEncodingJSON).
// Its error texts may differ, so a value it refuses is decoded again with
// encoding/json, which decides: a refusal's reason and detail, and what is
// accepted, stay encoding/json's exactly. Encoding stays with encoding/json
// (the golden protocol files are its bytes).

// unmarshal decodes data into v (a pointer to a zero value) as json.Unmarshal.
func unmarshal(data []byte, v any) error {
	if jsonv1.Unmarshal(data, v) == nil {
		return nil
	}
	reflect.ValueOf(v).Elem().SetZero() // what the refused decode filled in
	return json.Unmarshal(data, v)
}

// unmarshalOne decodes a whole message into v (a pointer to a zero value) as
// one value of a json.Decoder, refusing anything after it but white space.
func unmarshalOne(data []byte, v any) error {
	if jsonv1.Unmarshal(data, v) == nil {
		return nil
	}
	reflect.ValueOf(v).Elem().SetZero()
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errTrailing
	}
	return nil
}
