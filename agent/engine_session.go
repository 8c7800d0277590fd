package agent

import (
	"slices"
	"time"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// CheckLogin says whether exec may try to sign in at counter from client
// address addr now, before the (slow) PIN check: he exists, that address is
// not made to wait after wrong PINs, the counter exists and is free, and he is
// not at another counter.
//
// Errors: unauthorized session.bad_pin (unknown executive); invalid
// counter.unknown; forbidden session.locked; conflict session.counter_taken,
// session.executive_busy.
func (e *Engine) CheckLogin(now time.Time, exec string, counter int, addr string) (Executive, error) {
	x, ok := e.executives[exec]
	if !ok || !x.Active {
		return Executive{}, queue.Errorf(queue.CodeUnauthorized, "session.bad_pin")
	}
	if th := e.throttle(now, exec, addr); th != nil && now.Before(th.until) {
		return Executive{}, queue.Errorf(queue.CodeForbidden, "session.locked", waitSeconds(th.until.Sub(now)))
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

// LoginAttempt is a sign-in after the caller checked the PIN.
type LoginAttempt struct {
	Executive string
	Counter   int
	// Addr is the client's address (the TCP peer, never a forwarded header):
	// wrong PINs make that address wait, not the executive everywhere.
	Addr      string
	TokenHash string
	PINOK     bool
	// WeakPIN says the right PIN was shorter than MinPINLength.
	WeakPIN bool
	// manager marks a sign-in on the branch page (manager.login_failed).
	manager bool
}

// Login signs an executive in after the caller checked his PIN. A wrong PIN
// emits executive.login_failed; from the FreePINFailures-th wrong PIN in a
// row from one address, that address waits PINDelay(n) before its next try
// for that executive (executive.locked), doubling up to PINDelayMax. The
// executive at his own terminal, or anyone at another address, is not held
// up by someone else's guesses: an attacker cannot lock him out. Signing in
// again at the same counter replaces his token. The returned change must be
// written even with an error (the events of a failure).
//
// Errors: as CheckLogin, and unauthorized session.bad_pin.
func (e *Engine) Login(now time.Time, a LoginAttempt) (Session, Change, error) {
	var ch Change
	exec, counter := a.Executive, a.Counter
	x, err := e.CheckLogin(now, exec, counter, a.Addr)
	if err != nil {
		return Session{}, ch, err
	}
	now = now.UTC()
	if !a.PINOK {
		return Session{}, ch, e.failLogin(now, a, &ch)
	}
	delete(e.pinFails, throttleKey(exec, a.Addr))
	if xp := e.executives[exec]; xp.WeakPIN != a.WeakPIN {
		xp.WeakPIN = a.WeakPIN
		ch.Executives = append(ch.Executives, *xp)
	}
	if old, ok := e.sessions[exec]; ok {
		e.dropSession(old)
		ch.EndedSessions = append(ch.EndedSessions, old.TokenHash)
	}
	s := &Session{TokenHash: a.TokenHash, Executive: exec, Counter: counter, StartedAt: now, ChangedAt: now}
	e.addSession(s)
	e.touch()
	ch.Sessions = append(ch.Sessions, *s)
	ch.emit(event.ExecutiveLoggedIn, now, event.Session{Executive: exec, Name: x.Name, Counter: counter}, nil, e.execState(exec))
	ch.By(e.executiveActor(exec), 0)
	return *s, ch, nil
}

// Sign-in throttle and PIN policy.
const (
	// MinPINLength is the shortest PIN set from now on; shorter PINs of
	// older versions keep working and are flagged to change.
	MinPINLength = queue.MinPINLength
	// FreePINFailures is how many wrong PINs in a row one address may enter
	// for an executive before it must wait.
	FreePINFailures = 3
	// PINDelayBase is the first wait, doubled for each further wrong PIN.
	PINDelayBase = 30 * time.Second
	// PINDelayMax caps the wait.
	PINDelayMax = time.Hour
	// pinForget is how long a throttle entry is kept after its last failure.
	pinForget = 24 * time.Hour
	// maxPINThrottles bounds the entries kept (addresses × executives).
	maxPINThrottles = 10_000
)

// PINDelay is the wait after the n-th wrong PIN in a row from one address
// (0 below FreePINFailures).
func PINDelay(n int) time.Duration {
	if n < FreePINFailures {
		return 0
	}
	d := PINDelayBase
	for i := FreePINFailures; i < n && d < PINDelayMax; i++ {
		d *= 2
	}
	return min(d, PINDelayMax)
}

type pinThrottle struct {
	fails int
	until time.Time
	last  time.Time
}

func throttleKey(exec, addr string) string { return exec + "\x00" + addr }

// throttle returns the live throttle of (exec, addr), forgetting a stale one.
func (e *Engine) throttle(now time.Time, exec, addr string) *pinThrottle {
	k := throttleKey(exec, addr)
	th, ok := e.pinFails[k]
	if !ok {
		return nil
	}
	if now.Sub(th.last) > pinForget && !now.Before(th.until) {
		delete(e.pinFails, k)
		return nil
	}
	return th
}

// failLogin counts a wrong PIN from a.Addr and emits its events.
func (e *Engine) failLogin(now time.Time, a LoginAttempt, ch *Change) error {
	if e.pinFails == nil {
		e.pinFails = map[string]*pinThrottle{}
	}
	th := e.throttle(now, a.Executive, a.Addr)
	if th == nil {
		if len(e.pinFails) >= maxPINThrottles {
			e.prunePINThrottles(now)
		}
		th = &pinThrottle{}
		e.pinFails[throttleKey(a.Executive, a.Addr)] = th
	}
	th.fails++
	th.last = now
	actor := &event.Actor{Kind: event.ActorExecutive, Executive: a.Executive, Counter: a.Counter, Address: a.Addr}
	failed := event.ExecutiveLoginFailed
	if a.manager {
		actor.Kind, failed = event.ActorManager, event.ManagerLoginFailed
	}
	wait := PINDelay(th.fails)
	ev := event.SignIn{Executive: a.Executive, Counter: a.Counter, Address: a.Addr, Failures: th.fails,
		RetryS: waitSeconds(wait), Actor: actor}
	ch.emit(failed, now, ev, nil, nil)
	if wait == 0 {
		return queue.Errorf(queue.CodeUnauthorized, "session.bad_pin")
	}
	th.until = now.Add(wait)
	ch.emit(event.ExecutiveLocked, now, ev, nil, nil)
	return queue.Errorf(queue.CodeForbidden, "session.locked", waitSeconds(wait))
}

// prunePINThrottles drops entries that no longer hold anyone; if all still
// do, arbitrary ones go down to half (memory stays bounded; a pruned address starts
// over, which only ever helps the attacker by FreePINFailures tries).
func (e *Engine) prunePINThrottles(now time.Time) {
	for k, th := range e.pinFails {
		if !now.Before(th.until) {
			delete(e.pinFails, k)
		}
	}
	for k := range e.pinFails {
		if len(e.pinFails) < maxPINThrottles/2 {
			break
		}
		delete(e.pinFails, k)
	}
}

func waitSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}

// MaxPauseReason is the longest pause reason, in characters.
const MaxPauseReason = 64

// Pause pauses a session with a reason (colación, reunión ...).
//
// Errors: unauthorized session.required; conflict session.busy,
// session.already_paused; invalid session.reason_invalid.
func (e *Engine) Pause(now time.Time, tokenHash, reason string) (Session, Change, error) {
	return e.PauseFor(now, tokenHash, "", reason)
}

// PauseFor pauses a session for a reason code of queue.PauseReasons (HQ
// reports pauses by code), with an optional text; the text defaults to the
// code's Spanish label. An empty code is a free-text pause (Pause).
//
// Errors: as Pause, and invalid session.reason_code_invalid.
func (e *Engine) PauseFor(now time.Time, tokenHash, code, reason string) (Session, Change, error) {
	var ch Change
	s, ok := e.tokens[tokenHash]
	if !ok {
		return Session{}, ch, queue.Errorf(queue.CodeUnauthorized, "session.required")
	}
	if code != "" && !queue.ValidPauseReason(code) {
		return Session{}, ch, queue.Errorf(queue.CodeInvalid, "session.reason_code_invalid", truncCode(code))
	}
	if code != "" && reason == "" {
		reason = pauseLabel(code)
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
	s.Paused, s.PauseReason, s.PauseCode, s.ChangedAt = true, reason, code, now.UTC()
	e.touch()
	ch.Sessions = append(ch.Sessions, *s)
	ch.emit(event.ExecutivePaused, now, event.Session{Executive: s.Executive, Name: e.execName(s.Executive), Counter: s.Counter, Reason: reason, Code: code}, nil, e.execState(s.Executive))
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
	s.Paused, s.PauseReason, s.PauseCode, s.ChangedAt = false, "", "", now.UTC()
	e.touch()
	ch.Sessions = append(ch.Sessions, *s)
	ch.emit(event.ExecutiveResumed, now, event.Session{Executive: s.Executive, Name: e.execName(s.Executive), Counter: s.Counter}, nil, e.execState(s.Executive))
	ch.By(e.executiveActor(s.Executive), 0)
	return *s, ch, nil
}

// Logout ends a session. An executive with a called or serving ticket must
// finish, requeue or transfer it first, and one with a parked visit must
// call it back or cancel it. Tickets transferred to him or his counter go
// back to their service's queue (ticket.requeued).
//
// Errors: unauthorized session.required; conflict session.busy,
// session.has_parked.
func (e *Engine) Logout(now time.Time, tokenHash string) (Change, error) {
	var ch Change
	s, ok := e.tokens[tokenHash]
	if !ok {
		return ch, queue.Errorf(queue.CodeUnauthorized, "session.required")
	}
	if cur, ok := e.Current(s.Executive); ok {
		return ch, queue.Errorf(queue.CodeConflict, "session.busy", cur.Display())
	}
	if p := e.Parked(s.Executive); len(p) > 0 {
		return ch, queue.Errorf(queue.CodeConflict, "session.has_parked", p[0].Display())
	}
	actor := e.executiveActor(s.Executive)
	e.dropSession(s)
	e.touch()
	ch.EndedSessions = append(ch.EndedSessions, s.TokenHash)
	ch.emit(event.ExecutiveLoggedOut, now, event.Session{Executive: s.Executive, Name: e.execName(s.Executive), Counter: s.Counter}, nil, e.execState(s.Executive))
	ch.By(actor, 0)
	e.releaseTargets(now, s.Executive, s.Counter, &ch)
	return ch, nil
}

// SessionLimits bound a session's life: Idle since its last use, Max since
// sign-in. Zero is no limit.
type SessionLimits struct {
	Idle, Max time.Duration
}

// DefaultSessionLimits are a branch's: two hours unused, twelve in all.
func DefaultSessionLimits() SessionLimits {
	return SessionLimits{Idle: 2 * time.Hour, Max: 12 * time.Hour}
}

// Reasons a session ends without the executive signing out (the Reason of
// executive.logged_out, actor system).
const (
	EndDayClosed = "day_closed"
	EndIdle      = "idle"
	EndExpired   = "expired"
)

// ExpireSessions signs out, as the system, every session open when the
// business day closed (at closing time plus grace, or begun on an earlier
// day), unused for lim.Idle (lastUse says when a
// token was last used; its sign-in or last pause counts too) or older than
// lim.Max. A session holding a called or serving ticket is left until the
// executive finishes it (its token still works, so nothing is stranded).
func (e *Engine) ExpireSessions(now time.Time, lim SessionLimits, lastUse func(tokenHash string) time.Time) Change {
	var ch Change
	now = now.UTC()
	type end struct {
		s      *Session
		reason string
	}
	var ending []end
	// The day closes at closing time plus grace (hours) or at midnight: every
	// session then open ends, once (who signs in after the close stays).
	closing := e.closed && e.signedOutDay != e.day
	if closing {
		e.signedOutDay = e.day
	}
	for _, s := range e.sessions {
		reason := ""
		switch {
		case closing || e.day != "" && e.BusinessDay(s.StartedAt) < e.day:
			reason = EndDayClosed
		case lim.Max > 0 && now.Sub(s.StartedAt) >= lim.Max:
			reason = EndExpired
		case lim.Idle > 0 && now.Sub(maxTime(lastUse(s.TokenHash), s.ChangedAt, s.StartedAt)) >= lim.Idle:
			reason = EndIdle
		}
		if reason == "" {
			continue
		}
		if _, busy := e.Current(s.Executive); busy || e.hasParked(s.Executive) {
			continue
		}
		ending = append(ending, end{s, reason})
	}
	slices.SortFunc(ending, func(a, b end) int { return a.s.Counter - b.s.Counter })
	for _, x := range ending {
		s := x.s
		e.dropSession(s)
		ch.EndedSessions = append(ch.EndedSessions, s.TokenHash)
		ch.emit(event.ExecutiveLoggedOut, now, event.Session{Executive: s.Executive, Name: e.execName(s.Executive),
			Counter: s.Counter, Reason: x.reason, Actor: SystemActor()}, nil, e.execState(s.Executive))
		e.releaseTargets(now, s.Executive, s.Counter, &ch)
	}
	if len(ending) > 0 {
		e.touch()
	}
	return ch
}

func maxTime(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}
