// Package postgres is the cloud's system of record on PostgreSQL (pgx): the
// idempotent, ordered ingest of branch events with its projections, and the
// branches' sync state.
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/ticketero/ticketero/migrations"
)

// Open connects a pool to dbURL and checks it answers.
func Open(ctx context.Context, dbURL string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse database URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: ping %s@%s: %w", cfg.ConnConfig.User, cfg.ConnConfig.Host, err)
	}
	return pool, nil
}

// Migrate applies every pending cloud migration (goose) through pool.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	return migrations.UpPostgres(ctx, db)
}

// Transient reports whether err is a database failure worth retrying later
// (connection lost, server shutting down, serialization) rather than a bug.
func Transient(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", "57", "40", "53":
			return true
		}
		return false
	}
	return err != nil
}
