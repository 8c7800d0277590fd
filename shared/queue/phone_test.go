package queue

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePhone(t *testing.T) {
	for _, in := range []string{"+56 9 1234 5678", "56912345678", "9 1234 5678", "912345678", " +56-9-1234-5678 ", "+56 (9) 1234.5678"} {
		p, err := ParsePhone(in)
		require.NoError(t, err, in)
		assert.Equal(t, Phone("+56912345678"), p, in)
	}
	for in, reason := range map[string]string{
		"":                   "phone.empty",
		"+56 2 2345 6789":    "phone.not_mobile", // a landline
		"9123 4567":          "phone.not_mobile",
		"+54 9 11 1234 5678": "phone.not_mobile",
		"9 1234 567a":        "phone.format",
		"56+912345678":       "phone.format",
	} {
		_, err := ParsePhone(in)
		var qe *Error
		require.ErrorAs(t, err, &qe, in)
		assert.Equal(t, CodeInvalid, qe.Code, in)
		assert.Equal(t, reason, qe.Reason, in)
	}
	assert.Equal(t, "+56 9 **** **78", Phone("+56912345678").Masked())
}
