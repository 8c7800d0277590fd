package queue_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/queue"
)

func TestParseRUT(t *testing.T) {
	valid := []struct{ in, want string }{
		{"12.345.678-5", "12345678-5"},
		{"12345678-5", "12345678-5"},
		{"123456785", "12345678-5"},
		{"  12.345.678-5  ", "12345678-5"},
		{"11.111.111-1", "11111111-1"},
		{"10.000.013-k", "10000013-K"}, // K check digit, lower case
		{"10000013K", "10000013-K"},
		{"7.654.321-6", "7654321-6"},  // 7-digit body
		{"07.654.321-6", "7654321-6"}, // leading zero
		{"007654321-6", "7654321-6"},
		{"1.000.005-K", "1000005-K"},
		{"99.999.999-9", "99999999-9"},
		{"76.086.428-5", "76086428-5"}, // a company
	}
	for _, tc := range valid {
		t.Run(tc.in, func(t *testing.T) {
			got, err := queue.ParseRUT(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.String())
		})
	}

	invalid := []struct{ in, reason string }{
		{"", "rut.empty"},
		{"   ", "rut.empty"},
		{"5", "rut.too_short"},
		{"-5", "rut.too_short"},
		{"12.345-6", "rut.too_short"},
		{"999.999-9", "rut.too_short"},
		{"123.456.789-0", "rut.too_long"},
		{"1234567890", "rut.too_long"},
		{"12.345.678-6", "rut.check_digit"},
		{"12345678-K", "rut.check_digit"},
		{"10000013-0", "rut.check_digit"},
		{"12.345.678-55", "rut.format"},
		{"12,345,678-5", "rut.format"},
		{"12.34.5678-5", "rut.format"},
		{"1234.5678-5", "rut.format"},
		{"12a45678-5", "rut.format"},
		{"12345678-X", "rut.format"},
		{"12345678-", "rut.format"},
		{"12 345 678-5", "rut.format"},
		{"+12345678-5", "rut.format"},
	}
	for _, tc := range invalid {
		t.Run("invalid "+tc.in, func(t *testing.T) {
			_, err := queue.ParseRUT(tc.in)
			require.Error(t, err)
			assert.Equal(t, queue.CodeInvalid, queue.ErrorCode(err))
			assert.Equal(t, tc.reason, queue.ErrorReason(err))
			assert.NotEmpty(t, queue.ErrorMessage("es", err))
		})
	}
}

func TestCheckDigit(t *testing.T) {
	assert.Equal(t, byte('5'), queue.CheckDigit(12345678))
	assert.Equal(t, byte('K'), queue.CheckDigit(10000013))
	assert.Equal(t, byte('0'), queue.CheckDigit(11111117)) // 11 - 0 → 0
}

func TestRUTFormatAndMask(t *testing.T) {
	r, err := queue.ParseRUT("12345678-5")
	require.NoError(t, err)
	assert.Equal(t, "12.345.678-5", r.Format())
	assert.Equal(t, "12.***.***-5", r.Masked())
	r7, err := queue.ParseRUT("7654321-6")
	require.NoError(t, err)
	assert.Equal(t, "7.654.321-6", r7.Format())
	assert.Equal(t, "7.***.***-6", r7.Masked())
	assert.Equal(t, "", queue.RUT("").Masked())
}
