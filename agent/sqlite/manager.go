package sqlite

import (
	"context"
	"database/sql"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/queue"
)

// ManagerLogin signs a branch manager in on the branch page with his
// executive ID and PIN and returns the session's bearer token. The PIN is
// checked with bcrypt outside the writer, as for a counter sign-in, and wrong
// PINs count in the same per-address throttle.
//
// Errors: as agent.Engine.ManagerLogin.
func (s *Store) ManagerLogin(ctx context.Context, id, pin, addr string) (string, agent.ManagerSession, error) {
	if len(id) > 64 {
		return "", agent.ManagerSession{}, queue.Errorf(queue.CodeUnauthorized, "session.bad_pin")
	}
	x, err := call(ctx, s, func(tx *sql.Tx, now time.Time) (agent.Executive, agent.Change, error) {
		if err := s.refreshExecutive(tx, id); err != nil {
			return agent.Executive{}, agent.Change{}, &writeError{err}
		}
		x, err := s.eng.CheckManagerLogin(now, id, addr)
		return x, agent.Change{}, err
	})
	if err != nil {
		return "", agent.ManagerSession{}, err
	}
	ok := len(pin) <= 72 && bcrypt.CompareHashAndPassword([]byte(x.PINHash), []byte(pin)) == nil
	token := s.cfg.NewToken()
	ms, err := call(ctx, s, func(tx *sql.Tx, now time.Time) (agent.ManagerSession, agent.Change, error) {
		cur, found := s.eng.Executive(id)
		ms, ch, err := s.eng.ManagerLogin(now, agent.LoginAttempt{Executive: id, Addr: addr, TokenHash: tokenHash(token),
			PINOK: ok && found && cur.PINHash == x.PINHash})
		return ms, ch, err
	})
	if err != nil {
		switch queue.ErrorReason(err) {
		case "session.bad_pin", "session.locked", "manager.required":
			s.log.Warn("manager sign-in refused", "executive", id, "addr", addr, "reason", queue.ErrorReason(err))
		}
		return "", agent.ManagerSession{}, err
	}
	return token, ms, nil
}

// ManagerSession returns the manager session of a bearer token.
//
// Errors: unauthorized manager.session_required.
func (s *Store) ManagerSession(ctx context.Context, token string) (agent.ManagerSession, error) {
	return call(ctx, s, func(tx *sql.Tx, now time.Time) (agent.ManagerSession, agent.Change, error) {
		ms, err := s.eng.ManagerByToken(now, tokenHash(token))
		return ms, agent.Change{}, err
	})
}

// ManagerLogout ends the manager session of token.
func (s *Store) ManagerLogout(ctx context.Context, token string) error {
	return s.do(ctx, func(tx *sql.Tx, now time.Time) (agent.Change, error) {
		s.eng.ManagerLogout(tokenHash(token))
		return agent.Change{}, nil
	})
}

// ManagerToday returns today's manager changes (closed services, changed
// services, the TV's message while it lasts).
func (s *Store) ManagerToday(ctx context.Context) agent.ManagerDay {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.eng.ManagerToday(s.cfg.Now())
}

// managerDo runs one manager action in the writer.
func (s *Store) managerDo(ctx context.Context, act func(now time.Time) (agent.Change, error)) error {
	return s.do(ctx, func(tx *sql.Tx, now time.Time) (agent.Change, error) {
		return act(now)
	})
}

// SetServiceToday closes (open false) or opens again a service to new
// tickets for today.
//
// Errors: as agent.Engine.SetServiceToday.
func (s *Store) SetServiceToday(ctx context.Context, token, code string, open bool) error {
	return s.managerDo(ctx, func(now time.Time) (agent.Change, error) {
		return s.eng.SetServiceToday(now, tokenHash(token), code, open)
	})
}

// SetServicesToday changes an executive's services for today.
//
// Errors: as agent.Engine.SetServicesToday.
func (s *Store) SetServicesToday(ctx context.Context, token, exec string, codes []string) error {
	return s.managerDo(ctx, func(now time.Time) (agent.Change, error) {
		return s.eng.SetServicesToday(now, tokenHash(token), exec, codes)
	})
}

// SignOutExecutive ends an executive's session for him.
//
// Errors: as agent.Engine.SignOutExecutive.
func (s *Store) SignOutExecutive(ctx context.Context, token, exec string) error {
	return s.managerDo(ctx, func(now time.Time) (agent.Change, error) {
		return s.eng.SignOutExecutive(now, tokenHash(token), exec)
	})
}

// PostMessage puts a message on the TV for minutes ("" and 0 take it down).
//
// Errors: as agent.Engine.PostMessage.
func (s *Store) PostMessage(ctx context.Context, token, text string, minutes int) error {
	return s.managerDo(ctx, func(now time.Time) (agent.Change, error) {
		return s.eng.PostMessage(now, tokenHash(token), text, minutes)
	})
}
