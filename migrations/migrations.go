// Package migrations embeds the database schemas of both sides and applies them
// with goose: sqlite/ for the branch agent, postgres/ for the cloud. go:embed cannot
// reach parent folders, hence this tiny module. Never edit a shipped migration: add
// the next numbered file.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

//go:embed sqlite/*.sql
var sqliteFS embed.FS

//go:embed postgres/*.sql
var postgresFS embed.FS

// SQLite returns the agent's migrations.
func SQLite() fs.FS { sub, _ := fs.Sub(sqliteFS, "sqlite"); return sub }

// Postgres returns the cloud's migrations.
func Postgres() fs.FS { sub, _ := fs.Sub(postgresFS, "postgres"); return sub }

// UpSQLite applies every pending agent migration to db (a mattn/go-sqlite3 handle).
func UpSQLite(ctx context.Context, db *sql.DB) error {
	return up(ctx, goose.DialectSQLite3, db, SQLite())
}

// UpPostgres applies every pending cloud migration to db (a pgx stdlib handle).
func UpPostgres(ctx context.Context, db *sql.DB) error {
	return up(ctx, goose.DialectPostgres, db, Postgres())
}

func up(ctx context.Context, dialect goose.Dialect, db *sql.DB, fsys fs.FS) error {
	// Out of order: parallel branches of work land migrations whose numbers
	// were assigned up front, so a database may have run 00026 before 00025
	// lands; goose applies the missing one instead of refusing to start.
	p, err := goose.NewProvider(dialect, db, fsys, goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("migrations: %s provider: %w", dialect, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations: %s up: %w", dialect, err)
	}
	return nil
}
