package event_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// TestGoldenIssuedRUTHash pins ticket.issued as agents that held the
// network-wide RUT hash key sent it (rut_hash, no rut_sealed): the cloud still
// decodes and projects it. ticket_issued.json is what agents send now.
func TestGoldenIssuedRUTHash(t *testing.T) {
	checkGolden(t, "ticket_issued_rut_hash", event.TicketIssued, event.Issued{
		TicketRef: event.TicketRef{Ticket: "01JDZ8ABCDEF", Service: "C", Number: 23, Day: "2026-11-28", Printed: "C-023"},
		Priority:  "preferential", QueuedAt: at, Position: 4, QuotedTypical: 600, QuotedUpper: 900,
		Token: "tk_9f8e7d6c5b4a", RUTHash: "b64hash", Channel: "kiosk",
	})
	raw, err := os.ReadFile(filepath.Join("testdata", "ticket_issued.json"))
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "rut_hash", "new agents send the sealed RUT, never a hash")
	assert.Contains(t, string(raw), `"rut_sealed"`)
}

// TestConfigRUTSealKeyGolden pins the config's rut_seal_key (the cloud's
// public key; no rut_key) and its validation.
func TestConfigRUTSealKeyGolden(t *testing.T) {
	c := event.Config{V: 1, Branch: "SCL-001", Version: 4, TimeZone: "America/Santiago",
		Services: queue.DefaultServices()[:1], Counters: []queue.Counter{}, Executives: []event.ConfigExecutive{},
		Rules: event.DefaultRules(), RUTSealKey: "9Hc4N0yyUfnLWtrpIbwyGSSZpGWdp6wNm7L2rt8pI3E=",
		PublishedAt: at}
	got, err := json.MarshalIndent(c, "", "  ")
	require.NoError(t, err)
	path := filepath.Join("testdata", "config", "config_rut_seal_key.json")
	if *update {
		require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(got))
	assert.NotContains(t, string(want), "rut_key")
	var back event.Config
	require.NoError(t, json.Unmarshal(want, &back))
	assert.Equal(t, c, back)
	require.NoError(t, back.Validate())

	for _, bad := range []string{"not base64!", "c2hvcnQ=", "9Hc4N0yyUfnLWtrpIbwyGSSZpGWdp6wNm7L2rt8pI3E"} {
		c.RUTSealKey = bad
		assert.Error(t, c.Validate(), bad)
	}
}
