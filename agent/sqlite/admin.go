package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/queue"
)

// Admin manages the branch-local executives (the admin command) on the
// database file, safely beside a running agent: it writes only the executives
// table, which the agent re-reads at each sign-in.
type Admin struct {
	db *sql.DB
	// Cost is the bcrypt cost of PIN hashes (bcrypt.DefaultCost).
	Cost int
}

// OpenAdmin opens and migrates the database at path for administration.
func OpenAdmin(ctx context.Context, path string) (*Admin, error) {
	w, r, err := openDBs(ctx, path, 1)
	if err != nil {
		return nil, err
	}
	_ = r.Close()
	return &Admin{db: w, Cost: bcrypt.DefaultCost}, nil
}

// Close closes the database.
func (a *Admin) Close() error { return a.db.Close() }

// ValidatePIN checks a PIN: 4 to 8 digits.
func ValidatePIN(pin string) error {
	if len(pin) < 4 || len(pin) > 8 {
		return queue.Errorf(queue.CodeInvalid, "executive.pin_invalid")
	}
	for _, c := range pin {
		if c < '0' || c > '9' {
			return queue.Errorf(queue.CodeInvalid, "executive.pin_invalid")
		}
	}
	return nil
}

func validExecID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, c := range id {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// HashPIN returns the bcrypt hash of a PIN.
func (a *Admin) HashPIN(pin string) (string, error) {
	if err := ValidatePIN(pin); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pin), a.Cost)
	if err != nil {
		return "", fmt.Errorf("sqlite: hash pin: %w", err)
	}
	return string(h), nil
}

// AddExecutive adds an executive with his PIN and the services he serves, in
// preference order.
//
// Errors: invalid executive.id_invalid, executive.name_invalid,
// executive.pin_invalid, executive.services_empty, service.unknown,
// text.invalid; conflict executive.exists.
func (a *Admin) AddExecutive(ctx context.Context, x queue.Executive, pin string) error {
	if !validExecID(x.ID) {
		return queue.Errorf(queue.CodeInvalid, "executive.id_invalid", x.ID)
	}
	x.Name = strings.TrimSpace(x.Name)
	if x.Name == "" || len([]rune(x.Name)) > 64 {
		return queue.Errorf(queue.CodeInvalid, "executive.name_invalid")
	}
	// The name goes into events the cloud stores: no control character.
	if err := queue.CheckText("name", x.Name, 64); err != nil {
		return err
	}
	if err := a.checkServices(ctx, x.Services); err != nil {
		return err
	}
	h, err := a.HashPIN(pin)
	if err != nil {
		return err
	}
	res, err := a.db.ExecContext(ctx, `INSERT INTO executives (id, name, services, pin_hash, active) VALUES (?, ?, ?, ?, 1)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, services = excluded.services, pin_hash = excluded.pin_hash,
		failed_pins = 0, locked_until = NULL, active = 1 WHERE active = 0`,
		x.ID, x.Name, strings.Join(x.Services, ","), h)
	if err != nil {
		return fmt.Errorf("sqlite: add executive: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return queue.Errorf(queue.CodeConflict, "executive.exists", x.ID)
	}
	return nil
}

func (a *Admin) checkServices(ctx context.Context, codes []string) error {
	if len(codes) == 0 {
		return queue.Errorf(queue.CodeInvalid, "executive.services_empty")
	}
	svcs, err := loadServices(ctx, a.db)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, s := range svcs {
		known[s.Code] = true
	}
	// A database the agent never started has no services yet: the defaults apply.
	if len(svcs) == 0 {
		for _, s := range queue.DefaultServices() {
			known[s.Code] = true
		}
	}
	for _, c := range codes {
		if !known[c] {
			return queue.Errorf(queue.CodeInvalid, "service.unknown", c)
		}
	}
	return nil
}

// Executives lists the active executives.
func (a *Admin) Executives(ctx context.Context) ([]agent.Executive, error) {
	xs, err := loadExecutives(ctx, a.db, "")
	if err != nil {
		return nil, err
	}
	out := xs[:0]
	for _, x := range xs {
		if x.Active {
			out = append(out, x)
		}
	}
	return out, nil
}

// RemoveExecutive deactivates an executive (his history stays) and ends his
// session.
//
// Errors: not_found executive.not_found.
func (a *Admin) RemoveExecutive(ctx context.Context, id string) error {
	res, err := a.db.ExecContext(ctx, "UPDATE executives SET active = 0 WHERE id = ? AND active = 1", id)
	if err != nil {
		return fmt.Errorf("sqlite: remove executive: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return queue.Errorf(queue.CodeNotFound, "executive.not_found", id)
	}
	return nil
}

// SetPIN changes an executive's PIN and clears his lockout.
//
// Errors: invalid executive.pin_invalid; not_found executive.not_found.
func (a *Admin) SetPIN(ctx context.Context, id, pin string) error {
	h, err := a.HashPIN(pin)
	if err != nil {
		return err
	}
	res, err := a.db.ExecContext(ctx, "UPDATE executives SET pin_hash = ?, failed_pins = 0, locked_until = NULL WHERE id = ? AND active = 1", h, id)
	if err != nil {
		return fmt.Errorf("sqlite: set pin: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return queue.Errorf(queue.CodeNotFound, "executive.not_found", id)
	}
	return nil
}
