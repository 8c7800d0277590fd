package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/queue"
)

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// refreshExecutive reloads one executive from the table into the engine: the
// admin command may have added or changed him while the agent runs.
func (s *Store) refreshExecutive(tx *sql.Tx, id string) error {
	xs, err := loadExecutives(context.Background(), tx, id)
	if err != nil {
		return err
	}
	if len(xs) == 1 {
		s.eng.PutExecutive(xs[0])
	}
	return nil
}

// Login signs an executive in at a counter with his PIN and returns the
// session's bearer token. The PIN is checked with bcrypt outside the writer.
// addr is the client's address: wrong PINs make that address wait.
//
// Errors: as agent.Engine.Login.
func (s *Store) Login(ctx context.Context, exec, pin string, counter int, addr string) (string, agent.SessionInfo, error) {
	if len(exec) > 64 {
		return "", agent.SessionInfo{}, queue.Errorf(queue.CodeUnauthorized, "session.bad_pin")
	}
	x, err := call(ctx, s, func(tx *sql.Tx, now time.Time) (agent.Executive, agent.Change, error) {
		if err := s.refreshExecutive(tx, exec); err != nil {
			return agent.Executive{}, agent.Change{}, &writeError{err}
		}
		x, err := s.eng.CheckLogin(now, exec, counter, addr)
		return x, agent.Change{}, err
	})
	if err != nil {
		return "", agent.SessionInfo{}, err
	}
	ok := len(pin) <= 72 && bcrypt.CompareHashAndPassword([]byte(x.PINHash), []byte(pin)) == nil
	token := s.cfg.NewToken()
	info, err := call(ctx, s, func(tx *sql.Tx, now time.Time) (agent.SessionInfo, agent.Change, error) {
		cur, found := s.eng.Executive(exec)
		sess, ch, err := s.eng.Login(now, agent.LoginAttempt{Executive: exec, Counter: counter, Addr: addr,
			TokenHash: tokenHash(token), PINOK: ok && found && cur.PINHash == x.PINHash, WeakPIN: len(pin) < agent.MinPINLength})
		if err != nil {
			return agent.SessionInfo{}, ch, err
		}
		return s.sessionInfo(sess, now), ch, nil
	})
	if err != nil {
		if queue.ErrorReason(err) == "session.bad_pin" || queue.ErrorReason(err) == "session.locked" {
			s.log.Warn("sign-in refused", "executive", exec, "counter", counter, "addr", addr, "reason", queue.ErrorReason(err))
		}
		return "", agent.SessionInfo{}, err
	}
	return token, info, nil
}

func (s *Store) sessionInfo(sess agent.Session, now time.Time) agent.SessionInfo {
	x, _ := s.eng.Executive(sess.Executive)
	si := agent.SessionInfo{Session: sess, Executive: x.Executive, PINChangeRequired: x.WeakPIN}
	if svcs, changed := s.eng.ServicesToday(x.ID); changed { // the manager's change for today
		si.Executive.Services = svcs
	}
	if cur, ok := s.eng.Current(sess.Executive); ok {
		info := s.info(cur, now)
		si.Current = &info
	}
	for _, p := range s.eng.Parked(sess.Executive) {
		si.Parked = append(si.Parked, s.info(p, now))
	}
	return si
}

// Session returns the session of a bearer token.
//
// Errors: unauthorized session.required.
func (s *Store) Session(ctx context.Context, token string) (agent.SessionInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	h := tokenHash(token)
	sess, ok := s.eng.SessionByToken(h)
	if !ok {
		return agent.SessionInfo{}, queue.Errorf(queue.CodeUnauthorized, "session.required")
	}
	s.used(h)
	return s.sessionInfo(sess, s.cfg.Now()), nil
}

// Logout ends the session of token.
//
// Errors: as agent.Engine.Logout.
func (s *Store) Logout(ctx context.Context, token string) error {
	h := tokenHash(token)
	err := s.do(ctx, func(tx *sql.Tx, now time.Time) (agent.Change, error) {
		ch, err := s.eng.Logout(now, h)
		return ch, err
	})
	return err
}

// Pause pauses the session of token with a reason.
//
// Errors: as agent.Engine.Pause.
func (s *Store) Pause(ctx context.Context, token, reason string) (agent.SessionInfo, error) {
	return s.PauseFor(ctx, token, "", reason)
}

// Resume ends the pause of the session of token.
//
// Errors: as agent.Engine.Resume.
func (s *Store) Resume(ctx context.Context, token string) (agent.SessionInfo, error) {
	h := tokenHash(token)
	return call(ctx, s, func(tx *sql.Tx, now time.Time) (agent.SessionInfo, agent.Change, error) {
		sess, ch, err := s.eng.Resume(now, h)
		if err != nil {
			return agent.SessionInfo{}, ch, err
		}
		s.used(h)
		return s.sessionInfo(sess, now), ch, nil
	})
}
