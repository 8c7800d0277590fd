package queue

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestValidPIN(t *testing.T) {
	for _, pin := range []string{"135790", "240681", "583920", "123457", "000001", "987653", "240681357913"} {
		assert.True(t, ValidPIN(pin), pin)
	}
	for _, pin := range []string{"", "1234", "9999", "12345", "111111", "123456", "987654", "890123", "210987", "123456789012",
		"1234567890123", "12345a", "１２３４５６", "24068 1"} {
		assert.False(t, ValidPIN(pin), pin)
	}
}
