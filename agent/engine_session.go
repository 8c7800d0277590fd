package agent

import (
	"time"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// CheckLogin says whether exec may try to sign in at counter now, before the
// (slow) PIN check: it exists, is not locked out, the counter exists and is
// free, and he is not at another counter.
//
// Errors: unauthorized session.bad_pin (unknown executive); invalid
// counter.unknown; forbidden session.locked; conflict session.counter_taken,
// session.executive_busy.
func (e *Engine) CheckLogin(now time.Time, exec string, counter int) (Executive, error) {
	x, ok := e.executives[exec]
	if !ok || !x.Active {
		return Executive{}, queue.Errorf(queue.CodeUnauthorized, "session.bad_pin")
	}
	if now.Before(x.LockedUntil) {
		return Executive{}, queue.Errorf(queue.CodeForbidden, "session.locked", int(x.LockedUntil.Sub(now).Round(time.Second).Seconds()))
	}
	if !e.HasCounter(counter) {
		return Executive{}, queue.Errorf(queue.CodeInvalid, "counter.unknown", counter)
	}
	if s, ok := e.atCounter[counter]; ok && s.Executive != exec {
		return Executive{}, queue.Errorf(queue.CodeConflict, "session.counter_taken", counter)
	}
	if s, ok := e.sessions[exec]; ok && s.Counter != counter {
		return Executive{}, queue.Errorf(queue.CodeConflict, "session.executive_busy", s.Counter)
	}
	return *x, nil
}

// Login signs exec in at counter after the caller checked his PIN (pinOK).
// A wrong PIN counts a failure; the MaxPINFailures-th locks him out for
// LockoutPeriod. Signing in again at the same counter replaces his token.
// The returned change must be written even with an error (failure counts).
//
// Errors: as CheckLogin, and unauthorized session.bad_pin.
func (e *Engine) Login(now time.Time, exec string, counter int, tokenHash string, pinOK bool) (Session, Change, error) {
	var ch Change
	x, err := e.CheckLogin(now, exec, counter)
	if err != nil {
		return Session{}, ch, err
	}
	xp := e.executives[exec]
	if !pinOK {
		xp.FailedPINs++
		err := queue.Errorf(queue.CodeUnauthorized, "session.bad_pin")
		if xp.FailedPINs >= MaxPINFailures {
			xp.FailedPINs = 0
			xp.LockedUntil = now.Add(LockoutPeriod).UTC()
			err = queue.Errorf(queue.CodeForbidden, "session.locked", int(LockoutPeriod.Seconds()))
		}
		ch.Executives = append(ch.Executives, *xp)
		return Session{}, ch, err
	}
	if xp.FailedPINs != 0 || !xp.LockedUntil.IsZero() {
		xp.FailedPINs, xp.LockedUntil = 0, time.Time{}
		ch.Executives = append(ch.Executives, *xp)
	}
	now = now.UTC()
	if old, ok := e.sessions[exec]; ok {
		e.dropSession(old)
		ch.EndedSessions = append(ch.EndedSessions, old.TokenHash)
	}
	s := &Session{TokenHash: tokenHash, Executive: exec, Counter: counter, StartedAt: now, ChangedAt: now}
	e.addSession(s)
	e.touch()
	ch.Sessions = append(ch.Sessions, *s)
	ch.emit(event.ExecutiveLoggedIn, now, event.Session{Executive: exec, Name: x.Name, Counter: counter}, nil, e.execState(exec))
	ch.By(e.executiveActor(exec), 0)
	return *s, ch, nil
}

// MaxPauseReason is the longest pause reason, in characters.
const MaxPauseReason = 64

// Pause pauses a session with a reason (colación, reunión ...).
//
// Errors: unauthorized session.required; conflict session.busy,
// session.already_paused; invalid session.reason_invalid.
func (e *Engine) Pause(now time.Time, tokenHash, reason string) (Session, Change, error) {
	var ch Change
	s, ok := e.tokens[tokenHash]
	if !ok {
		return Session{}, ch, queue.Errorf(queue.CodeUnauthorized, "session.required")
	}
	if !queue.ValidText(reason, MaxPauseReason) {
		return Session{}, ch, queue.Errorf(queue.CodeInvalid, "session.reason_invalid", MaxPauseReason)
	}
	if s.Paused {
		return Session{}, ch, queue.Errorf(queue.CodeConflict, "session.already_paused")
	}
	if cur, ok := e.Current(s.Executive); ok {
		return Session{}, ch, queue.Errorf(queue.CodeConflict, "session.busy", cur.Display())
	}
	s.Paused, s.PauseReason, s.ChangedAt = true, reason, now.UTC()
	e.touch()
	ch.Sessions = append(ch.Sessions, *s)
	ch.emit(event.ExecutivePaused, now, event.Session{Executive: s.Executive, Name: e.execName(s.Executive), Counter: s.Counter, Reason: reason}, nil, e.execState(s.Executive))
	ch.By(e.executiveActor(s.Executive), 0)
	return *s, ch, nil
}

// Resume ends a pause.
//
// Errors: unauthorized session.required; conflict session.not_paused.
func (e *Engine) Resume(now time.Time, tokenHash string) (Session, Change, error) {
	var ch Change
	s, ok := e.tokens[tokenHash]
	if !ok {
		return Session{}, ch, queue.Errorf(queue.CodeUnauthorized, "session.required")
	}
	if !s.Paused {
		return Session{}, ch, queue.Errorf(queue.CodeConflict, "session.not_paused")
	}
	s.Paused, s.PauseReason, s.ChangedAt = false, "", now.UTC()
	e.touch()
	ch.Sessions = append(ch.Sessions, *s)
	ch.emit(event.ExecutiveResumed, now, event.Session{Executive: s.Executive, Name: e.execName(s.Executive), Counter: s.Counter}, nil, e.execState(s.Executive))
	ch.By(e.executiveActor(s.Executive), 0)
	return *s, ch, nil
}

// Logout ends a session. An executive with a called or serving ticket must
// finish, requeue or transfer it first.
//
// Errors: unauthorized session.required; conflict session.busy.
func (e *Engine) Logout(now time.Time, tokenHash string) (Change, error) {
	var ch Change
	s, ok := e.tokens[tokenHash]
	if !ok {
		return ch, queue.Errorf(queue.CodeUnauthorized, "session.required")
	}
	if cur, ok := e.Current(s.Executive); ok {
		return ch, queue.Errorf(queue.CodeConflict, "session.busy", cur.Display())
	}
	actor := e.executiveActor(s.Executive)
	e.dropSession(s)
	e.touch()
	ch.EndedSessions = append(ch.EndedSessions, s.TokenHash)
	ch.emit(event.ExecutiveLoggedOut, now, event.Session{Executive: s.Executive, Name: e.execName(s.Executive), Counter: s.Counter}, nil, e.execState(s.Executive))
	ch.By(actor, 0)
	return ch, nil
}
