package event_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// One bad event is refused on its own; the batch keeps the others.
func TestDecodeBatchEvents(t *testing.T) {
	topic := event.EventsTopic("SCL-001")
	good := func(seq string) string {
		return `{"seq":` + seq + `,"id":"e` + seq + `","type":"executive.paused","at":"2026-11-28T13:04:05Z","data":{"executive":"x","reason":"ok"}}`
	}
	cases := []struct {
		name, bad, reason string
		seq               uint64
	}{
		{"nul", strings.Replace(good("2"), `"ok"`, `"almuerzo\u0000"`, 1), event.RejectText, 2},
		{"nul in id", strings.Replace(good("2"), `"e2"`, `"e\u0000"`, 1), event.RejectText, 2},
		{"lone surrogate", strings.Replace(good("2"), `"ok"`, `"\udc00"`, 1), event.RejectText, 2},
		{"invalid utf8", strings.Replace(good("2"), `"ok"`, "\"caf\xe9\"", 1), event.RejectUTF8, 2},
		{"seq above int64", good("9223372036854775808"), event.RejectSeqRange, 9223372036854775808},
		{"wrong shape", strings.Replace(good("2"), `"executive":"x"`, `"executive":["x"]`, 1), event.RejectPayload, 2},
		{"seq not a number", strings.Replace(good("2"), `"seq":2`, `"seq":"2"`, 1), event.RejectEvent, 0},
		{"at not a time", strings.Replace(good("2"), `"2026-11-28T13:04:05Z"`, `"ayer"`, 1), event.RejectEvent, 2},
		{"seq beyond uint64", good("18446744073709551616"), event.RejectEvent, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			payload := `{"v":1,"branch":"SCL-001","events":[` + good("1") + `,` + tc.bad + `]}`
			b, refused, err := event.DecodeBatchEvents(topic, []byte(payload))
			require.NoError(t, err)
			require.Len(t, b.Events, 1)
			assert.Equal(t, uint64(1), b.Events[0].Seq)
			require.Len(t, refused, 1)
			assert.Equal(t, tc.reason, refused[0].Reason, refused[0].Detail)
			assert.Equal(t, tc.seq, refused[0].Seq)
			assert.Equal(t, tc.bad, string(refused[0].Raw), "kept as received")
		})
	}

	t.Run("escaped backslash is not an escape", func(t *testing.T) {
		payload := `{"v":1,"branch":"SCL-001","events":[` + strings.Replace(good("1"), `"ok"`, `"a\\u0000b"`, 1) + `]}`
		b, refused, err := event.DecodeBatchEvents(topic, []byte(payload))
		require.NoError(t, err)
		assert.Empty(t, refused)
		assert.Len(t, b.Events, 1)
	})
	t.Run("surrogate pair kept", func(t *testing.T) {
		payload := `{"v":1,"branch":"SCL-001","events":[` + strings.Replace(good("1"), `"ok"`, `"\ud83d\ude00"`, 1) + `]}`
		_, refused, err := event.DecodeBatchEvents(topic, []byte(payload))
		require.NoError(t, err)
		assert.Empty(t, refused)
	})
	t.Run("envelope errors stay whole", func(t *testing.T) {
		_, _, err := event.DecodeBatchEvents(topic, []byte(`{"v":1,`))
		var de *event.DecodeError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, event.RejectMalformed, de.Reason)
		_, _, err = event.DecodeBatchEvents(topic, []byte(`{"v":1,"branch":"SCL-001","events":[`+good("2")+`,`+good("1")+`]}`))
		require.ErrorAs(t, err, &de)
		assert.Equal(t, event.RejectSeq, de.Reason)
	})
}

// A config carrying names the cloud could not store in events is refused
// before it is published or applied.
func TestConfigRefusesPoisonText(t *testing.T) {
	base := func() event.Config {
		return event.Config{V: 1, Branch: "SCL-001", Version: 1, TimeZone: "America/Santiago", Rules: event.DefaultRules(),
			Services: queue.DefaultServices(), Counters: []queue.Counter{{Number: 1, Name: "Caja 1"}},
			Executives: []event.ConfigExecutive{{Executive: queue.Executive{ID: "E01", Name: "Ana Pérez", Services: []string{"C"}}}},
			BranchName: "Ñuñoa"}
	}
	require.NoError(t, base().Validate())
	for name, edit := range map[string]func(*event.Config){
		"executive name": func(c *event.Config) { c.Executives[0].Name = "Ana\x00" },
		"counter name":   func(c *event.Config) { c.Counters[0].Name = "Caja\n1" },
		"service name":   func(c *event.Config) { c.Services[0].Name = "Caj\xe1" },
		"branch name":    func(c *event.Config) { c.BranchName = "Ñuñoa\x1b" },
	} {
		c := base()
		edit(&c)
		assert.Error(t, c.Validate(), name)
	}
}
