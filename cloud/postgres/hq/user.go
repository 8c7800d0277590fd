package hq

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/shared/queue"
)

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 10

// BootstrapEmail is the e-mail of the admin created on first run.
const BootstrapEmail = "admin@ticketero.local"

// User is an HQ account (never with its password hash).
type User struct {
	ID          int64
	Email       string
	Name        string
	Role        Role
	Regions     []string
	Branches    []string
	LockedUntil *time.Time
	Disabled    bool
	CreatedAt   time.Time
}

// NewUser is the input of CreateUser.
type NewUser struct {
	Email    string
	Name     string
	Password string
	Role     Role
	Regions  []string
	Branches []string
}

// validate checks a new user. Errors: invalid hq.user.email, hq.user.password,
// hq.role.invalid, hq.user.scope, branch.invalid.
func (u *NewUser) validate() error {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
		return queue.Errorf(queue.CodeInvalid, "hq.user.email", u.Email)
	}
	if len(u.Password) < MinPasswordLen {
		return queue.Errorf(queue.CodeInvalid, "hq.user.password", MinPasswordLen)
	}
	if _, err := ParseRole(string(u.Role)); err != nil {
		return err
	}
	for _, b := range u.Branches {
		if _, err := queue.ParseBranchID(b); err != nil {
			return err
		}
	}
	if u.Role == RoleSupervisor && len(u.Regions) == 0 && len(u.Branches) == 0 {
		return queue.Errorf(queue.CodeInvalid, "hq.user.scope")
	}
	return nil
}

// CreateUser adds an account. Errors: invalid (see NewUser), conflict hq.user.exists.
func (s *Store) CreateUser(ctx context.Context, u NewUser) (User, error) {
	if err := u.validate(); err != nil {
		return User{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), s.BcryptCost)
	if err != nil {
		return User{}, wrap("hash password", err)
	}
	out := User{Email: u.Email, Name: u.Name, Role: u.Role, Regions: nonNil(u.Regions), Branches: nonNil(u.Branches)}
	err = s.pool.QueryRow(ctx, `INSERT INTO hq_users (email, name, password_hash, role, regions, branches, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, created_at`,
		u.Email, u.Name, string(hash), string(u.Role), out.Regions, out.Branches, s.now()).Scan(&out.ID, &out.CreatedAt)
	if isUniqueViolation(err) {
		return User{}, queue.Errorf(queue.CodeConflict, "hq.user.exists", u.Email)
	}
	return out, wrap("create user", err)
}

// Bootstrap creates the first admin when there is no user at all and returns
// its generated password (created false when users already exist). Concurrent
// replicas are serialised by an advisory lock so only one admin is created.
func (s *Store) Bootstrap(ctx context.Context) (email, password string, created bool, err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", "", false, wrap("bootstrap", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('hq_bootstrap'))`); err != nil {
		return "", "", false, wrap("bootstrap lock", err)
	}
	var any bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM hq_users)`).Scan(&any); err != nil {
		return "", "", false, wrap("bootstrap", err)
	}
	if any {
		return "", "", false, nil
	}
	password = randomToken(18)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.BcryptCost)
	if err != nil {
		return "", "", false, wrap("bootstrap hash", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO hq_users (email, name, password_hash, role, created_at) VALUES ($1, 'Admin', $2, 'admin', $3)`,
		BootstrapEmail, string(hash), s.now()); err != nil {
		return "", "", false, wrap("bootstrap insert", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return "", "", false, wrap("bootstrap commit", err)
	}
	return BootstrapEmail, password, true, nil
}

// dummyHash is compared when the e-mail is unknown, so a failed sign-in takes
// as long whether or not the account exists.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("ticketero-dummy-password"), bcrypt.MinCost)

// Authenticate checks an e-mail and password. A wrong password counts towards
// the lockout. Errors: unauthorized hq.login.failed, forbidden hq.login.locked.
func (s *Store) Authenticate(ctx context.Context, email, password string) (Principal, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var (
		p       Principal
		hash    string
		locked  *time.Time
		disable bool
	)
	err := s.pool.QueryRow(ctx, `SELECT id, email, name, password_hash, role, regions, branches, locked_until, disabled
		FROM hq_users WHERE email = $1`, email).
		Scan(&p.UserID, &p.Email, &p.Name, &hash, &p.Role, &p.Regions, &p.Branches, &locked, &disable)
	if errors.Is(err, pgx.ErrNoRows) {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return Principal{}, queue.Errorf(queue.CodeUnauthorized, "hq.login.failed")
	}
	if err != nil {
		return Principal{}, wrap("authenticate", err)
	}
	now := s.now()
	if locked != nil && locked.After(now) {
		return Principal{}, queue.Errorf(queue.CodeForbidden, "hq.login.locked")
	}
	if disable {
		return Principal{}, queue.Errorf(queue.CodeUnauthorized, "hq.login.failed")
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		var n int
		err := s.pool.QueryRow(ctx, `UPDATE hq_users SET
			failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END,
			locked_until  = CASE WHEN failed_logins + 1 >= $2 THEN $3::timestamptz ELSE locked_until END
			WHERE id = $1 RETURNING failed_logins`, p.UserID, s.MaxFailedLogins, now.Add(s.LockoutFor)).Scan(&n)
		if err != nil {
			return Principal{}, wrap("count failed login", err)
		}
		return Principal{}, queue.Errorf(queue.CodeUnauthorized, "hq.login.failed")
	}
	if _, err := s.pool.Exec(ctx, `UPDATE hq_users SET failed_logins = 0, locked_until = NULL WHERE id = $1`, p.UserID); err != nil {
		return Principal{}, wrap("reset failed logins", err)
	}
	return p, nil
}

// Users lists every account by e-mail.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, email, name, role, regions, branches, locked_until, disabled, created_at FROM hq_users ORDER BY email`)
	if err != nil {
		return nil, wrap("users", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) {
		var u User
		err := r.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Regions, &u.Branches, &u.LockedUntil, &u.Disabled, &u.CreatedAt)
		return u, err
	})
	return out, wrap("users", err)
}

// SplitList parses a comma-separated list (flags and forms), trimming blanks.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Unlock clears a user's lockout and failed sign-in count. Errors: not_found
// hq.user.not_found.
func (s *Store) Unlock(ctx context.Context, id int64) (string, error) {
	var email string
	err := s.pool.QueryRow(ctx, `UPDATE hq_users SET failed_logins = 0, locked_until = NULL WHERE id = $1 RETURNING email`, id).Scan(&email)
	return email, notFound(wrap("unlock", err), "hq.user.not_found", id)
}

// SetPassword replaces a user's password and signs out his sessions. Errors:
// invalid hq.user.password; not_found hq.user.not_found.
func (s *Store) SetPassword(ctx context.Context, id int64, password string) (string, error) {
	if len(password) < MinPasswordLen {
		return "", queue.Errorf(queue.CodeInvalid, "hq.user.password", MinPasswordLen)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.BcryptCost)
	if err != nil {
		return "", wrap("hash password", err)
	}
	var email string
	err = s.pool.QueryRow(ctx, `WITH d AS (DELETE FROM hq_sessions WHERE user_id = $1)
		UPDATE hq_users SET password_hash = $2, failed_logins = 0, locked_until = NULL WHERE id = $1 RETURNING email`, id, string(hash)).Scan(&email)
	return email, notFound(wrap("set password", err), "hq.user.not_found", id)
}

// SetDisabled disables (signing out his sessions) or re-enables a user.
// Errors: not_found hq.user.not_found.
func (s *Store) SetDisabled(ctx context.Context, id int64, disabled bool) (string, error) {
	var email string
	err := s.pool.QueryRow(ctx, `WITH d AS (DELETE FROM hq_sessions WHERE user_id = $1 AND $2)
		UPDATE hq_users SET disabled = $2 WHERE id = $1 RETURNING email`, id, disabled).Scan(&email)
	return email, notFound(wrap("disable user", err), "hq.user.not_found", id)
}
