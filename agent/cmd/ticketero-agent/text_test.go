package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/shared/queue"
)

// TestPoisonTextRefused: text the cloud could not store (NUL, other control
// characters, bytes that are not UTF-8, too long) is refused at the branch's
// edge in every free-text field, 400 text.invalid in Spanish, and nothing is
// written: no event leaves the box with it.
func TestPoisonTextRefused(t *testing.T) {
	m := MustMain(t)
	kiosk := newClient(t, m.Addr)
	beto := kiosk.login("E02", 2)
	seqBefore := lastSeq(t, kiosk)
	cases := []struct {
		name, who, path, body string
	}{
		{"NUL in a pause reason (the issue's)", "beto", "/api/v1/sessions/current/pause", `{"reason":"almuerzo\u0000"}`},
		{"line break in a pause reason", "beto", "/api/v1/sessions/current/pause", `{"reason":"al\nmuerzo"}`},
		{"bytes not UTF-8 in a pause reason", "beto", "/api/v1/sessions/current/pause", "{\"reason\":\"colaci\xf3n\"}"},
		{"NUL in a service", "kiosk", "/api/v1/tickets", `{"service":"C\u0000"}`},
		{"escape in a RUT", "kiosk", "/api/v1/tickets", `{"service":"C","rut":"12.345.678-5\u001b"}`},
		{"NUL in a PIN", "kiosk", "/api/v1/sessions", `{"executive":"E03","pin":"1234\u0000","counter":3}`},
		{"too long", "kiosk", "/api/v1/tickets", `{"service":"` + strings.Repeat("C", queue.MaxText+1) + `"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := kiosk
			if tc.who == "beto" {
				c = beto
			}
			c.tb = t
			r := c.do("POST", tc.path, tc.body)
			require.Equal(t, 400, r.status, string(r.body))
			assert.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
			p := r.json(t)
			assert.Equal(t, "text.invalid", p["code"])
			assert.Contains(t, p["detail"], "caracteres no permitidos")
		})
	}
	beto.tb = t
	assert.Equal(t, seqBefore, lastSeq(t, kiosk), "no event written")
	r := beto.do("GET", "/api/v1/sessions/current", "")
	require.Equal(t, 200, r.status)
	assert.Equal(t, false, r.json(t)["paused"], "the session was not paused")
	r = beto.do("POST", "/api/v1/sessions/current/pause", `{"reason":"colación ☕"}`)
	assert.Equal(t, 200, r.status, "ordinary Spanish text passes: %s", r.body)
}

// The admin command that adds executives refuses names with control
// characters too: they would ride in every session event.
func TestAdminRefusesPoisonName(t *testing.T) {
	a, err := sqlite.OpenAdmin(context.Background(), filepath.Join(t.TempDir(), "agent.db"))
	require.NoError(t, err)
	defer a.Close()
	err = a.AddExecutive(context.Background(), queue.Executive{ID: "E09", Name: "Ana\x00", Services: []string{"C"}}, testPIN)
	assert.Equal(t, "text.invalid", queue.ErrorReason(err))
	execs, err := a.Executives(context.Background())
	require.NoError(t, err)
	for _, x := range execs {
		assert.NotEqual(t, "E09", x.ID, "nothing written")
	}
}
