// Package pgtest gives tests their own PostgreSQL database on the real server
// named by TICKETERO_TEST_DATABASE_URL: created with a unique name, dropped
// after. An unreachable server skips the test (fails it when CI=true).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is used when TICKETERO_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/ticketero_test?sslmode=disable"

// BaseURL is the server the test databases are created on.
func BaseURL() string {
	if u := os.Getenv("TICKETERO_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Create makes a new empty database named after prefix and returns its URL and a
// function that drops it (terminating leftover connections).
func Create(ctx context.Context, prefix string) (dbURL string, drop func(), err error) {
	base := BaseURL()
	conn, err := connect(ctx, base)
	if err != nil {
		return "", nil, err
	}
	defer conn.Close(ctx)
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	name := strings.ToLower(sanitize(prefix)) + "_" + hex.EncodeToString(rnd[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", nil, fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("pgtest: parse %s: %w", "TICKETERO_TEST_DATABASE_URL", err)
	}
	u.Path = "/" + name
	drop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
	return u.String(), drop, nil
}

func connect(ctx context.Context, u string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("pgtest: connect to the test server: %w", err)
	}
	return c, nil
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		if b.Len() >= 40 {
			break
		}
	}
	if b.Len() == 0 {
		return "t"
	}
	return b.String()
}

// Skip reports err as a skip locally and a failure when CI=true.
func Skip(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("PostgreSQL unreachable with CI=true: %v", err)
	}
	tb.Skipf("PostgreSQL unreachable (set TICKETERO_TEST_DATABASE_URL or run scripts/dev-services.sh): %v", err)
}

// New creates a database for the test, dropped at cleanup, and returns its URL.
func New(tb testing.TB) string {
	tb.Helper()
	u, drop, err := Create(context.Background(), "ticketero_"+tb.Name())
	if err != nil {
		Skip(tb, err)
	}
	tb.Cleanup(drop)
	return u
}
