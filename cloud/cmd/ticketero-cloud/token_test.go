package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

// TestTokenCreateExpires: `token create --expires` makes a token that works
// through its last day in Santiago, and refuses a past day in Spanish
// without making one.
func TestTokenCreateExpires(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	loc, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	last := time.Now().In(loc).AddDate(0, 2, 0).Format(time.DateOnly)
	var out, errb bytes.Buffer
	require.NoError(t, tokenCommand(ctx, []string{"create", "--db", db, "--name", "erp", "--role", "admin", "--expires", last}, &out, &errb), errb.String())
	assert.True(t, strings.HasPrefix(out.String(), "tkt_"), out.String())

	pool, err := postgres.Open(ctx, db)
	require.NoError(t, err)
	defer pool.Close()
	tokens, err := hq.New(pool, time.Now).Tokens(ctx)
	require.NoError(t, err)
	require.Len(t, tokens, 1)
	require.NotNil(t, tokens[0].ExpiresAt)
	assert.Equal(t, last, tokens[0].ExpiresAt.Add(-time.Second).In(loc).Format(time.DateOnly))
	assert.Equal(t, "cli", tokens[0].CreatedBy)

	out.Reset()
	err = tokenCommand(ctx, []string{"create", "--db", db, "--name", "viejo", "--role", "viewer", "--expires", "2020-01-01"}, &out, &errb)
	require.Error(t, err)
	assert.Contains(t, err.Error()+errb.String(), "La fecha de expiración del token debe ser futura")
	assert.Empty(t, out.String())
}
