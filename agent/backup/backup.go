// Package backup makes online backups of the agent's SQLite database while the
// agent keeps writing (SQLite's backup API: a consistent snapshot of one
// moment, WAL readers never block the writer), keeps the newest N on the box,
// optionally uploads each to S3, and restores one into place.
package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/ticketero/ticketero/shared/queue"
)

// Prefix and Suffix frame a backup's file name: agent-20261128T030000Z.db.
const (
	Prefix = "agent-"
	Suffix = ".db"
	// stamp is the file name's time layout (UTC), sortable as text.
	stamp = "20060102T150405Z"
)

// Config says what to back up and where.
type Config struct {
	// DB is the live database file.
	DB string
	// Dir is the folder of backups on the box (<data>/backups).
	Dir string
	// Keep is how many backups stay on the box (7 when zero).
	Keep int
	// Upload, when set, receives every backup (S3).
	Upload Uploader
	Now    func() time.Time
	Logger *slog.Logger
}

// Uploader stores a backup file off the box.
type Uploader interface {
	// Upload stores the file at path under name; it returns where it went.
	Upload(ctx context.Context, name, path string) (string, error)
}

// Result is one backup made.
type Result struct {
	Path     string
	Size     int64
	Uploaded string // remote location, when uploaded
	Removed  []string
}

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC()
	}
	return time.Now().UTC()
}

// Run makes one backup: an online copy into a temporary file, an integrity
// check of the copy, fsync and rename, retention, then the upload. A failed
// upload keeps the local backup and returns the error.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Keep <= 0 {
		cfg.Keep = 7
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return Result{}, fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Stat(cfg.DB); err != nil {
		return Result{}, fmt.Errorf("backup: database: %w", err)
	}
	name := Prefix + cfg.now().Format(stamp) + Suffix
	final := filepath.Join(cfg.Dir, name)
	tmp := final + ".part"
	removeWithSidecars(tmp)
	defer removeWithSidecars(tmp) // nothing is left behind, whatever happens
	if err := Copy(ctx, cfg.DB, tmp); err != nil {
		return Result{}, err
	}
	if err := Check(ctx, tmp); err != nil {
		return Result{}, err
	}
	if err := syncFile(tmp); err != nil {
		return Result{}, err
	}
	if err := os.Rename(tmp, final); err != nil {
		return Result{}, fmt.Errorf("backup: %w", err)
	}
	fi, err := os.Stat(final)
	if err != nil {
		return Result{}, fmt.Errorf("backup: %w", err)
	}
	res := Result{Path: final, Size: fi.Size()}
	res.Removed, err = Prune(cfg.Dir, cfg.Keep)
	if err != nil {
		return res, err
	}
	if cfg.Upload != nil {
		res.Uploaded, err = cfg.Upload.Upload(ctx, name, final)
		if err != nil {
			return res, fmt.Errorf("backup: upload %s: %w", name, err)
		}
	}
	return res, nil
}

// Copy copies the database at src into a new file dst with SQLite's online
// backup API, in one step: the copy is the database as of one committed
// transaction, while writers go on (WAL).
// dst is created 0600: a backup holds the branch's data.
func Copy(ctx context.Context, src, dst string) error {
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600) // #nosec G304 -- path from the operator's configuration (flag, env or data directory), never from a request
	if err != nil {
		return fmt.Errorf("backup: create %s: %w", dst, err)
	}
	f.Close()
	srcDB, err := sql.Open("sqlite3", "file:"+url.PathEscape(src)+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return fmt.Errorf("backup: open %s: %w", src, err)
	}
	defer srcDB.Close()
	dstDB, err := sql.Open("sqlite3", "file:"+url.PathEscape(dst)+"?_busy_timeout=5000")
	if err != nil {
		return fmt.Errorf("backup: open %s: %w", dst, err)
	}
	defer dstDB.Close()
	sc, err := srcDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("backup: %s: %w", src, err)
	}
	defer sc.Close()
	dc, err := dstDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("backup: %s: %w", dst, err)
	}
	defer dc.Close()
	if err := dc.Raw(func(d any) error {
		return sc.Raw(func(s any) error {
			dconn, ok1 := d.(*sqlite3.SQLiteConn)
			sconn, ok2 := s.(*sqlite3.SQLiteConn)
			if !ok1 || !ok2 {
				return errors.New("backup: not a mattn/go-sqlite3 connection")
			}
			bk, err := dconn.Backup("main", sconn, "main")
			if err != nil {
				return fmt.Errorf("backup: start: %w", err)
			}
			for {
				done, err := bk.Step(-1)
				if err != nil {
					_ = bk.Finish()
					return fmt.Errorf("backup: step: %w", err)
				}
				if done {
					break
				}
			}
			if err := bk.Finish(); err != nil {
				return fmt.Errorf("backup: finish: %w", err)
			}
			return nil
		})
	}); err != nil {
		return err
	}
	// The copy inherits the source's WAL mode, and every later open would leave
	// dst-wal and dst-shm beside it: a backup is one self-contained file.
	if _, err := dc.ExecContext(ctx, "PRAGMA journal_mode=DELETE"); err != nil {
		return fmt.Errorf("backup: %s: journal mode: %w", dst, err)
	}
	return nil
}

// removeWithSidecars removes path and the -wal, -shm and -journal files SQLite
// may have left beside it.
func removeWithSidecars(path string) {
	for _, s := range []string{"", "-wal", "-shm", "-journal"} {
		_ = os.Remove(path + s)
	}
}

// Check runs PRAGMA integrity_check on the database at path.
// Errors: invalid backup.corrupt.
func Check(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite3", "file:"+url.PathEscape(path)+"?mode=ro")
	if err != nil {
		return fmt.Errorf("backup: open %s: %w", path, err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return queue.Errorf(queue.CodeInvalid, "backup.corrupt", filepath.Base(path), err.Error())
	}
	if res != "ok" {
		return queue.Errorf(queue.CodeInvalid, "backup.corrupt", filepath.Base(path), res)
	}
	return nil
}

// List returns the backups in dir, newest first.
func List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("backup: list: %w", err)
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasPrefix(n, Prefix) && strings.HasSuffix(n, Suffix) {
			out = append(out, filepath.Join(dir, n))
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out, nil
}

// Prune deletes all but the newest keep backups in dir and returns the deleted.
func Prune(dir string, keep int) ([]string, error) {
	all, err := List(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for i := keep; i < len(all); i++ {
		if err := os.Remove(all[i]); err != nil {
			return removed, fmt.Errorf("backup: prune: %w", err)
		}
		removed = append(removed, all[i])
	}
	return removed, nil
}

func syncFile(path string) error {
	f, err := os.Open(path) // #nosec G304 -- path from the operator's configuration (flag, env or data directory), never from a request
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("backup: fsync: %w", err)
	}
	return nil
}
