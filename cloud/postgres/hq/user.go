package hq

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/queue"
)

// CreateUser adds an account. Errors: invalid (see NewUser), conflict hq.user.exists.
func (s *Store) CreateUser(ctx context.Context, u NewUser) (User, error) {
	if err := u.Validate(); err != nil {
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

// Bootstrap creates the first admin when there is no user at all, with a
// generated password it returns (created false when users already exist).
// See BootstrapWith.
func (s *Store) Bootstrap(ctx context.Context) (email, password string, created bool, err error) {
	return s.BootstrapWith(ctx, "", nil)
}

// BootstrapWith creates the first admin when there is no user at all, with
// password (generated when empty; invalid hq.user.password when too short),
// and returns it. deliver, when not nil, is called before the admin is
// committed: when it fails (the password could not be handed over) no admin
// is created. The admin must change the password at first sign-in.
// Concurrent replicas are serialised by an advisory lock so only one admin is
// created.
func (s *Store) BootstrapWith(ctx context.Context, password string, deliver func(email, password string) error) (email, pw string, created bool, err error) {
	if password != "" && len(password) < MinPasswordLen {
		return "", "", false, queue.Errorf(queue.CodeInvalid, "hq.user.password", MinPasswordLen)
	}
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
	if password == "" {
		password = randomToken(18)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.BcryptCost)
	if err != nil {
		return "", "", false, wrap("bootstrap hash", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO hq_users (email, name, password_hash, role, created_at, must_change_password)
		VALUES ($1, 'Admin', $2, 'admin', $3, true)`,
		BootstrapEmail, string(hash), s.now()); err != nil {
		return "", "", false, wrap("bootstrap insert", err)
	}
	if deliver != nil {
		if err := deliver(BootstrapEmail, password); err != nil {
			return "", "", false, fmt.Errorf("bootstrap: hand over the password: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return "", "", false, wrap("bootstrap commit", err)
	}
	return BootstrapEmail, password, true, nil
}

// dummyPassword is compared against a hash of it when no real hash may be
// checked (unknown e-mail, locked or disabled account), so every refused
// sign-in costs one bcrypt comparison at the store's cost, like a real one.
const dummyPassword = "ticketero-dummy-password" // #nosec G101 -- not a credential: the decoy compared when no real hash may be

// dummyHash returns the store's dummy hash, made once at BcryptCost (the
// cost of real hashes: a cheaper dummy would tell unknown e-mails apart by
// timing).
func (s *Store) dummyHash() []byte {
	s.dummyMu.Lock()
	defer s.dummyMu.Unlock()
	if s.dummy == nil || s.dummyCost != s.BcryptCost {
		h, err := bcrypt.GenerateFromPassword([]byte(dummyPassword), s.BcryptCost)
		if err != nil { // a cost out of range: fall back to the default
			h, _ = bcrypt.GenerateFromPassword([]byte(dummyPassword), bcrypt.DefaultCost)
		}
		s.dummy, s.dummyCost = h, s.BcryptCost
	}
	return s.dummy
}

func refused(cause string) error { return cloud.RefuseLogin(cause) }

// Authenticate checks an e-mail and password. Every attempt on an existing
// account is counted before its password is compared, in one UPDATE (the row
// lock serialises parallel attempts): the MaxFailedLogins-th consecutive
// attempt locks the account for LockoutFor, and attempts beyond it are
// refused without looking at the password, however many arrive at once. A
// success resets the count. Errors: *LoginRefused (unauthorized
// hq.login.refused).
func (s *Store) Authenticate(ctx context.Context, email, password string) (Principal, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var (
		p       Principal
		hash    string
		n       int
		disable bool
	)
	now := s.now()
	err := s.pool.QueryRow(ctx, `UPDATE hq_users SET
			failed_logins = CASE WHEN locked_until <= $2 THEN 1 ELSE LEAST(failed_logins + 1, 1000000) END,
			locked_until  = CASE
				WHEN locked_until <= $2 THEN CASE WHEN $3 <= 1 THEN $4::timestamptz END
				WHEN failed_logins + 1 = $3 THEN $4::timestamptz
				ELSE locked_until END
		WHERE email = $1
		RETURNING id, email, name, password_hash, role, regions, branches, disabled, failed_logins, must_change_password`,
		email, now, s.MaxFailedLogins, now.Add(s.LockoutFor)).
		Scan(&p.UserID, &p.Email, &p.Name, &hash, &p.Role, &p.Regions, &p.Branches, &disable, &n, &p.MustChangePassword)
	if errors.Is(err, pgx.ErrNoRows) {
		_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password))
		return Principal{}, refused("hq.login.unknown")
	}
	if err != nil {
		return Principal{}, wrap("authenticate", err)
	}
	if n > s.MaxFailedLogins {
		_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password))
		return Principal{}, refused("hq.login.locked")
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return Principal{}, refused("hq.login.failed")
	}
	if disable {
		return Principal{}, refused("hq.login.disabled")
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

// ChangePassword is a user changing his own password: the current one must
// match, the new one differ and be long enough. It clears the must-change
// flag and ends his other sessions (keep is the cookie token of the session
// making the change). Errors: invalid hq.user.password, hq.password.same;
// unauthorized hq.password.wrong; not_found hq.user.not_found.
func (s *Store) ChangePassword(ctx context.Context, id int64, current, password, keep string) error {
	if len(password) < MinPasswordLen {
		return queue.Errorf(queue.CodeInvalid, "hq.user.password", MinPasswordLen)
	}
	if password == current {
		return queue.Errorf(queue.CodeInvalid, "hq.password.same")
	}
	var hash string
	err := s.pool.QueryRow(ctx, `SELECT password_hash FROM hq_users WHERE id = $1`, id).Scan(&hash)
	if err != nil {
		return notFound(wrap("change password", err), "hq.user.not_found", id)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(current)) != nil {
		return queue.Errorf(queue.CodeUnauthorized, "hq.password.wrong")
	}
	nh, err := bcrypt.GenerateFromPassword([]byte(password), s.BcryptCost)
	if err != nil {
		return wrap("hash password", err)
	}
	// Only if the hash is still the one checked: two changes at once do not
	// both win.
	tag, err := s.pool.Exec(ctx, `WITH d AS (DELETE FROM hq_sessions WHERE user_id = $1 AND token_hash <> $4)
		UPDATE hq_users SET password_hash = $2, must_change_password = false WHERE id = $1 AND password_hash = $3`,
		id, string(nh), hash, sha256Hex(keep))
	if err != nil {
		return wrap("change password", err)
	}
	if tag.RowsAffected() == 0 {
		return queue.Errorf(queue.CodeUnauthorized, "hq.password.wrong")
	}
	return nil
}

// SetDisabled disables (signing out his sessions) or re-enables a user.
// Errors: not_found hq.user.not_found.
func (s *Store) SetDisabled(ctx context.Context, id int64, disabled bool) (string, error) {
	var email string
	err := s.pool.QueryRow(ctx, `WITH d AS (DELETE FROM hq_sessions WHERE user_id = $1 AND $2)
		UPDATE hq_users SET disabled = $2 WHERE id = $1 RETURNING email`, id, disabled).Scan(&email)
	return email, notFound(wrap("disable user", err), "hq.user.not_found", id)
}
