package event_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
)

// TestPayloadDecodedOnce: the decoders keep each payload, so Payload hands
// back the same value without decoding again, until Data is replaced.
func TestPayloadDecodedOnce(t *testing.T) {
	msg := []byte(`{"v":1,"branch":"SCL-001","events":[{"seq":1,"id":"e1","type":"ticket.called","at":"2026-11-28T12:00:00Z",` +
		`"data":{"ticket":"T1","service":"C","number":1,"day":"2026-11-28","counter":2}}]}`)
	decoders := map[string]func() (event.Batch, error){
		"batch": func() (event.Batch, error) { return event.DecodeBatch(event.EventsTopic("SCL-001"), msg) },
		"events": func() (event.Batch, error) {
			b, _, err := event.DecodeBatchEvents(event.EventsTopic("SCL-001"), msg)
			return b, err
		},
	}
	for name, decode := range decoders {
		t.Run(name, func(t *testing.T) {
			b, err := decode()
			require.NoError(t, err)
			e := b.Events[0]
			p1, err := e.Payload()
			require.NoError(t, err)
			p2, err := e.Payload()
			require.NoError(t, err)
			assert.Same(t, p1, p2, "kept by the decoder, not decoded again")
			assert.Equal(t, 2, p1.(*event.Called).Counter)

			e.Data = json.RawMessage(`{"ticket":"T1","service":"C","number":1,"day":"2026-11-28","counter":5}`)
			p3, err := e.Payload()
			require.NoError(t, err)
			assert.Equal(t, 5, p3.(*event.Called).Counter, "new data is decoded, never the stale payload")
		})
	}
}

// BenchmarkDecodeBatch is the codec's cost per message of 100 events, payloads included.
func BenchmarkDecodeBatch(b *testing.B) {
	evs := make([]event.Event, 100)
	for i := range evs {
		var err error
		evs[i], err = event.New(uint64(i+1), "e", event.TicketCalled, at, event.Called{
			TicketRef: event.TicketRef{Ticket: "T1", Service: "C", Number: i, Day: "2026-11-28", Counter: 2, Executive: "E01"}})
		require.NoError(b, err)
	}
	msg, err := event.EncodeBatch("SCL-001", evs)
	require.NoError(b, err)
	topic := event.EventsTopic("SCL-001")
	for b.Loop() {
		if _, _, err := event.DecodeBatchEvents(topic, msg); err != nil {
			b.Fatal(err)
		}
	}
}
