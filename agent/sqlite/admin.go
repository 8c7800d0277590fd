package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// Admin manages the branch-local executives (the admin command) on the
// database file, safely beside a running agent: it writes only the executives
// table, which the agent re-reads at each sign-in, and admin_log, whose
// executive.admin events the agent's writer moves to the outbox.
type Admin struct {
	db *sql.DB
	// Cost is the bcrypt cost of PIN hashes (bcrypt.DefaultCost).
	Cost int
	// User names who runs the command (the operating-system account), for
	// the events' actor.
	User string
	// Now is the clock of the events (time.Now).
	Now func() time.Time
}

// OpenAdmin opens and migrates the database at path for administration.
func OpenAdmin(ctx context.Context, path string) (*Admin, error) {
	w, r, err := openDBs(ctx, path, 1)
	if err != nil {
		return nil, err
	}
	_ = r.Close()
	return &Admin{db: w, Cost: bcrypt.DefaultCost, Now: time.Now}, nil
}

// Close closes the database.
func (a *Admin) Close() error { return a.db.Close() }

// ValidatePIN checks a new PIN against the one policy (queue.ValidPIN):
// agent.MinPINLength to 12 digits, not one digit repeated and not a run up
// or down (123456, 987654), the first guesses of anyone. Older 4-digit PINs
// still sign in (flagged to change).
//
// Errors: invalid executive.pin_policy.
func ValidatePIN(pin string) error {
	if !queue.ValidPIN(pin) {
		return queue.Errorf(queue.CodeInvalid, "executive.pin_policy", agent.MinPINLength)
	}
	return nil
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
// executive.pin_policy, executive.services_empty, service.unknown,
// text.invalid; conflict executive.exists.
func (a *Admin) AddExecutive(ctx context.Context, x queue.Executive, pin string) error {
	if !queue.ValidExecutiveID(x.ID) {
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
	return a.change(ctx, event.Admin{Action: event.AdminAdded, Executive: x.ID, Name: x.Name, Services: x.Services},
		func(tx *sql.Tx) (int64, error) {
			res, err := tx.ExecContext(ctx, `INSERT INTO executives (id, name, services, pin_hash, active) VALUES (?, ?, ?, ?, 1)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, services = excluded.services, pin_hash = excluded.pin_hash,
		failed_pins = 0, locked_until = NULL, pin_weak = 0, active = 1 WHERE active = 0`,
				x.ID, x.Name, strings.Join(x.Services, ","), h)
			if err != nil {
				return 0, fmt.Errorf("sqlite: add executive: %w", err)
			}
			return res.RowsAffected()
		}, queue.Errorf(queue.CodeConflict, "executive.exists", x.ID))
}

// change runs write in a transaction and, when it changed a row, logs ev
// (executive.admin, actor: this admin) for the agent to send; none changed is
// none (not_found or exists).
func (a *Admin) change(ctx context.Context, ev event.Admin, write func(tx *sql.Tx) (int64, error), none error) error {
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: admin: %w", err)
	}
	defer tx.Rollback()
	n, err := write(tx)
	if err != nil {
		return err
	}
	if n == 0 {
		return none
	}
	ev.Actor = &event.Actor{Kind: event.ActorAdmin, User: a.User}
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("sqlite: admin event: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO admin_log (type, at, data) VALUES (?, ?, ?)",
		string(event.ExecutiveAdmin), ts(a.Now()), string(data)); err != nil {
		return fmt.Errorf("sqlite: admin event: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: admin: %w", err)
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
	return a.change(ctx, event.Admin{Action: event.AdminRemoved, Executive: id}, func(tx *sql.Tx) (int64, error) {
		res, err := tx.ExecContext(ctx, "UPDATE executives SET active = 0 WHERE id = ? AND active = 1", id)
		if err != nil {
			return 0, fmt.Errorf("sqlite: remove executive: %w", err)
		}
		return res.RowsAffected()
	}, queue.Errorf(queue.CodeNotFound, "executive.not_found", id))
}

// SetPIN changes an executive's PIN (under the PIN policy).
//
// Errors: invalid executive.pin_policy; not_found executive.not_found.
func (a *Admin) SetPIN(ctx context.Context, id, pin string) error {
	h, err := a.HashPIN(pin)
	if err != nil {
		return err
	}
	return a.change(ctx, event.Admin{Action: event.AdminPINSet, Executive: id}, func(tx *sql.Tx) (int64, error) {
		res, err := tx.ExecContext(ctx, "UPDATE executives SET pin_hash = ?, pin_weak = 0 WHERE id = ? AND active = 1", h, id)
		if err != nil {
			return 0, fmt.Errorf("sqlite: set pin: %w", err)
		}
		return res.RowsAffected()
	}, queue.Errorf(queue.CodeNotFound, "executive.not_found", id))
}
