package backup

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"github.com/ticketero/ticketero/shared/queue"
)

// Restore puts the backup at from in place of the database db, with the agent
// stopped: the backup is copied next to db, checked (integrity and, when
// branch is set, that it belongs to that branch), the old database is kept
// as db.before-restore and its WAL and shared-memory files removed, and the
// copy renamed into place. It returns the kept old database's path ("" when
// there was none). Nothing changes when a check fails.
// Errors: invalid backup.corrupt.
func Restore(ctx context.Context, from, db, branch string) (string, error) {
	tmp := db + ".restore"
	if err := copyFile(from, tmp); err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	if err := Check(ctx, tmp); err != nil {
		return "", err
	}
	if branch != "" {
		got, err := branchOf(ctx, tmp)
		if err != nil {
			return "", err
		}
		if got != "" && got != branch {
			return "", queue.Errorf(queue.CodeInvalid, "backup.corrupt", filepath.Base(from), "branch "+got+" ≠ "+branch)
		}
	}
	if err := syncFile(tmp); err != nil {
		return "", err
	}
	kept := ""
	if _, err := os.Stat(db); err == nil {
		kept = db + ".before-restore"
		_ = os.Remove(kept)
		if err := os.Rename(db, kept); err != nil {
			return "", fmt.Errorf("backup: restore: %w", err)
		}
	}
	// A WAL left by the old database must never be replayed onto the restored one.
	for _, ext := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(db + ext); err == nil {
			if kept != "" {
				_ = os.Rename(db+ext, kept+ext)
			} else {
				_ = os.Remove(db + ext)
			}
		}
	}
	if err := os.Rename(tmp, db); err != nil {
		return kept, fmt.Errorf("backup: restore: %w", err)
	}
	if d, err := os.Open(filepath.Dir(db)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return kept, nil
}

func branchOf(ctx context.Context, path string) (string, error) {
	db, err := sql.Open("sqlite3", "file:"+url.PathEscape(path)+"?mode=ro")
	if err != nil {
		return "", fmt.Errorf("backup: open %s: %w", path, err)
	}
	defer db.Close()
	var b string
	err = db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'branch'").Scan(&b)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", queue.Errorf(queue.CodeInvalid, "backup.corrupt", filepath.Base(path), err.Error())
	}
	return b, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from) // #nosec G304 -- path from the operator's configuration (flag, env or data directory), never from a request
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600) // #nosec G304 -- path from the operator's configuration (flag, env or data directory), never from a request
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("backup: copy: %w", err)
	}
	return out.Close()
}
