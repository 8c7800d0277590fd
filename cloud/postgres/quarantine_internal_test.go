package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
)

// Data errors are quarantined per event; everything else stays transient
// (nothing acked, the agent resends).
func TestIsDataError(t *testing.T) {
	wrapped := func(code string) error {
		return fmt.Errorf("postgres: ingest X: insert events: %w", &pgconn.PgError{Code: code})
	}
	for _, code := range []string{"22P05", "22021", "22003", "22P02", "54001"} {
		assert.True(t, isDataError(wrapped(code)), code)
	}
	for _, code := range []string{"08006", "57P01", "40001", "53300", "23505"} {
		assert.False(t, isDataError(wrapped(code)), code)
	}
	assert.False(t, isDataError(context.DeadlineExceeded))
	assert.False(t, isDataError(errors.New("connection refused")))
	assert.False(t, isDataError(nil))
}

func TestCleanText(t *testing.T) {
	assert.Equal(t, "a\uFFFDb\uFFFD", cleanText("a\x00b\xe9", 100))
	assert.Equal(t, "ñ", cleanText("ñá", 3), "cut on a rune boundary")
}
