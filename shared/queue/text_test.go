package queue_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

func TestValidText(t *testing.T) {
	for _, s := range []string{"", "almuerzo", "Ñuñoa — café ☕", strings.Repeat("á", 10)} {
		assert.True(t, queue.ValidText(s, 20), "%q", s)
	}
	for _, s := range []string{"almuerzo\x00", "a\nb", "tab\there", "del\x7f", "c1\u0085", "sep\u2028", "caf\xe9", strings.Repeat("a", 21)} {
		assert.False(t, queue.ValidText(s, 20), "%q", s)
	}
}

func TestCheckStrings(t *testing.T) {
	type inner struct {
		Reason string `json:"reason"`
	}
	type req struct {
		Name   string            `json:"name"`
		Note   *string           `json:"note,omitempty"`
		Tags   []string          `json:"tags"`
		Extra  map[string]string `json:"extra"`
		Inner  inner             `json:"inner"`
		Count  int               `json:"count"`
		hidden string
	}
	ok := "bien"
	require.NoError(t, queue.CheckStrings(&req{Name: "Ana", Note: &ok, Tags: []string{"x"}, Extra: map[string]string{"k": "v"}, hidden: "\x00"}))
	bad := "mal\x00"
	for field, r := range map[string]req{
		"name":         {Name: bad},
		"note":         {Note: &bad},
		"tags":         {Tags: []string{"a", bad}},
		"extra":        {Extra: map[string]string{"k": bad}},
		"inner.reason": {Inner: inner{Reason: bad}},
	} {
		err := queue.CheckStrings(&r)
		require.Error(t, err, field)
		assert.Equal(t, queue.CodeInvalid, queue.ErrorCode(err))
		assert.Equal(t, "text.invalid", queue.ErrorReason(err))
		var qe *queue.Error
		require.ErrorAs(t, err, &qe)
		assert.Contains(t, qe.Message(i18n.ES), "El campo "+field+" ", field)
	}
}
