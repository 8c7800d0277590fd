package agent

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// The branch manager's actions on the /branch page: an executive with the
// manager role signs in with his ID and PIN (the same bcrypt hash and the same
// per-address throttle as a counter sign-in: guesses on either page count
// together) and then may, for today only, close or open a service to new
// tickets, change an executive's services, sign out an executive who left, and
// post a short message to the waiting-room TV. Every action is an event with
// the manager as actor, so HQ audits it. Today's changes live in one meta row
// (MetaManagerDay) keyed by the business day: the next day starts clean.
// Manager sessions live in memory: a restart signs managers out.

// MetaManagerDay is the meta key of today's manager changes (ManagerDay JSON).
const MetaManagerDay = "manager_day"

// Manager session and message limits.
const (
	// ManagerIdle ends a manager session unused this long.
	ManagerIdle = 30 * time.Minute
	// MaxDisplayMessage is the longest TV message, in characters.
	MaxDisplayMessage = 120
	// MaxMessageMinutes is the longest a TV message stays up.
	MaxMessageMinutes = 8 * 60
)

// ManagerDay is what the manager changed for one business day.
type ManagerDay struct {
	Day string `json:"day"`
	// Closed are the services closed to new tickets today.
	Closed []string `json:"closed,omitempty"`
	// Services are executives' services for today, by executive ID.
	Services map[string][]string `json:"services,omitempty"`
	// Message is the TV's message, if any.
	Message *DisplayMessage `json:"message,omitempty"`
}

// DisplayMessage is the manager's message on the waiting-room TV.
type DisplayMessage struct {
	Text  string    `json:"text"`
	Until time.Time `json:"until"`
}

// ManagerSession is a manager signed in on the branch page.
type ManagerSession struct {
	TokenHash string
	Manager   string
	Name      string
	Addr      string
	StartedAt time.Time
	LastUse   time.Time
}

// today returns the manager's changes of the engine's day (nil: none).
func (e *Engine) today() *ManagerDay {
	if e.mgr == nil || e.mgr.Day != e.day {
		return nil
	}
	return e.mgr
}

// todayForWrite returns today's changes, starting them if needed.
func (e *Engine) todayForWrite() *ManagerDay {
	if d := e.today(); d != nil {
		return d
	}
	e.mgr = &ManagerDay{Day: e.day}
	return e.mgr
}

// ManagerToday returns a copy of today's manager changes; an expired TV
// message is left out.
func (e *Engine) ManagerToday(now time.Time) ManagerDay {
	d := e.today()
	if d == nil {
		return ManagerDay{Day: e.day}
	}
	out := ManagerDay{Day: d.Day, Closed: slices.Clone(d.Closed), Services: map[string][]string{}}
	for k, v := range d.Services {
		out.Services[k] = slices.Clone(v)
	}
	if d.Message != nil && now.Before(d.Message.Until) {
		m := *d.Message
		out.Message = &m
	}
	return out
}

// ClosedToday reports whether the manager closed service code today.
func (e *Engine) ClosedToday(code string) bool {
	d := e.today()
	return d != nil && slices.Contains(d.Closed, code)
}

// IssueRefusal is why a ticket of service cannot be issued at now: the
// opening schedule's refusal, or the manager closed it today.
//
// Errors: as Schedule.CheckIssue; conflict service.closed_by_manager.
func (e *Engine) IssueRefusal(s queue.Service, now time.Time) error {
	if err := e.sched.CheckIssue(s, now.In(e.loc)); err != nil {
		return err
	}
	if e.ClosedToday(s.Code) {
		return queue.Errorf(queue.CodeConflict, "service.closed_by_manager", s.Name)
	}
	return nil
}

// servicesToday is what executive x serves today: the manager's change of
// today, else his configured services.
func (e *Engine) servicesToday(x *Executive) []string {
	if d := e.today(); d != nil {
		if s, ok := d.Services[x.ID]; ok {
			return s
		}
	}
	return x.Services
}

// ServicesToday returns executive id's services for today and whether the
// manager changed them.
func (e *Engine) ServicesToday(id string) ([]string, bool) {
	x, ok := e.executives[id]
	if !ok {
		return nil, false
	}
	d := e.today()
	if d != nil {
		if s, ok := d.Services[id]; ok {
			return slices.Clone(s), true
		}
	}
	return slices.Clone(x.Services), false
}

// CheckManagerLogin says whether id may try to sign in as manager from addr
// now, before the (slow) PIN check.
//
// Errors: unauthorized session.bad_pin (unknown or inactive); forbidden
// session.locked.
func (e *Engine) CheckManagerLogin(now time.Time, id, addr string) (Executive, error) {
	x, ok := e.executives[id]
	if !ok || !x.Active {
		return Executive{}, queue.Errorf(queue.CodeUnauthorized, "session.bad_pin")
	}
	if th := e.throttle(now, id, addr); th != nil && now.Before(th.until) {
		return Executive{}, queue.Errorf(queue.CodeForbidden, "session.locked", waitSeconds(th.until.Sub(now)))
	}
	return *x, nil
}

// ManagerLogin signs a manager in after the caller checked the PIN. A wrong
// PIN counts in the same throttle as a counter sign-in (manager.login_failed,
// then executive.locked); a right PIN of someone without the manager role is
// refused (manager.login_failed, forbidden manager.required). The returned
// change must be written even with an error.
//
// Errors: as CheckManagerLogin; forbidden manager.required.
func (e *Engine) ManagerLogin(now time.Time, a LoginAttempt) (ManagerSession, Change, error) {
	var ch Change
	x, err := e.CheckManagerLogin(now, a.Executive, a.Addr)
	if err != nil {
		return ManagerSession{}, ch, err
	}
	now = now.UTC()
	a.manager = true
	if !a.PINOK {
		return ManagerSession{}, ch, e.failLogin(now, a, &ch)
	}
	delete(e.pinFails, throttleKey(a.Executive, a.Addr))
	actor := &event.Actor{Kind: event.ActorManager, Executive: x.ID, Address: a.Addr}
	if !x.Manager {
		ch.emit(event.ManagerLoginFailed, now, event.SignIn{Executive: x.ID, Address: a.Addr, Actor: actor}, nil, nil)
		return ManagerSession{}, ch, queue.Errorf(queue.CodeForbidden, "manager.required")
	}
	if e.managers == nil {
		e.managers = map[string]*ManagerSession{}
	}
	s := &ManagerSession{TokenHash: a.TokenHash, Manager: x.ID, Name: x.Name, Addr: a.Addr, StartedAt: now, LastUse: now}
	e.managers[a.TokenHash] = s
	ch.emit(event.ManagerSignedIn, now, event.Manager{Day: e.day, Executive: x.ID, Name: x.Name, Actor: actor}, nil, nil)
	return *s, ch, nil
}

// ManagerByToken returns the live manager session of a token hash and marks
// it used; one unused for ManagerIdle, or whose manager lost the role, ends.
//
// Errors: unauthorized manager.session_required.
func (e *Engine) ManagerByToken(now time.Time, hash string) (ManagerSession, error) {
	s, ok := e.managers[hash]
	if ok {
		x, known := e.executives[s.Manager]
		if now.Sub(s.LastUse) >= ManagerIdle || !known || !x.Active || !x.Manager {
			delete(e.managers, hash)
			ok = false
		}
	}
	if !ok {
		return ManagerSession{}, queue.Errorf(queue.CodeUnauthorized, "manager.session_required")
	}
	s.LastUse = now
	return *s, nil
}

// ManagerLogout ends a manager session (none is no error).
func (e *Engine) ManagerLogout(hash string) { delete(e.managers, hash) }

func (e *Engine) managerActor(s ManagerSession) *event.Actor {
	return &event.Actor{Kind: event.ActorManager, Executive: s.Manager, Address: s.Addr}
}

// persistToday writes today's changes into the change's meta.
func (e *Engine) persistToday(ch *Change) {
	ch.meta(MetaManagerDay, string(mustJSON(e.mgr)))
	e.touch()
}

// SetServiceToday closes (open false) or opens again a service to new
// tickets for the rest of today. Waiting customers are still called.
//
// Errors: unauthorized manager.session_required; invalid service.unknown;
// conflict manager.already_closed, manager.not_closed.
func (e *Engine) SetServiceToday(now time.Time, hash, code string, open bool) (Change, error) {
	var ch Change
	s, err := e.ManagerByToken(now, hash)
	if err != nil {
		return ch, err
	}
	svc, ok := e.services[code]
	if !ok || svc.draining != nil {
		return ch, queue.Errorf(queue.CodeInvalid, "service.unknown", code)
	}
	closed := e.ClosedToday(code)
	switch {
	case !open && closed:
		return ch, queue.Errorf(queue.CodeConflict, "manager.already_closed", svc.Name)
	case open && !closed:
		return ch, queue.Errorf(queue.CodeConflict, "manager.not_closed", svc.Name)
	}
	d := e.todayForWrite()
	typ := event.ServiceClosedToday
	if open {
		typ = event.ServiceOpenedToday
		d.Closed = slices.DeleteFunc(d.Closed, func(c string) bool { return c == code })
	} else {
		d.Closed = append(d.Closed, code)
	}
	e.persistToday(&ch)
	ch.emit(typ, now, event.Manager{Day: e.day, Service: code, Name: svc.Name, Actor: e.managerActor(s)}, nil, nil)
	return ch, nil
}

// SetServicesToday changes executive id's services for the rest of today
// (codes in his order of preference; his configured services come back
// tomorrow). Setting his configured services drops the change.
//
// Errors: unauthorized manager.session_required; not_found
// executive.not_found; invalid executive.services_empty, service.unknown,
// manager.services_duplicate.
func (e *Engine) SetServicesToday(now time.Time, hash, id string, codes []string) (Change, error) {
	var ch Change
	s, err := e.ManagerByToken(now, hash)
	if err != nil {
		return ch, err
	}
	x, ok := e.executives[id]
	if !ok || !x.Active {
		return ch, queue.Errorf(queue.CodeNotFound, "executive.not_found", id)
	}
	if len(codes) == 0 {
		return ch, queue.Errorf(queue.CodeInvalid, "executive.services_empty")
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if svc, ok := e.services[c]; !ok || svc.draining != nil {
			return ch, queue.Errorf(queue.CodeInvalid, "service.unknown", c)
		}
		if seen[c] {
			return ch, queue.Errorf(queue.CodeInvalid, "manager.services_duplicate", c)
		}
		seen[c] = true
	}
	d := e.todayForWrite()
	if d.Services == nil {
		d.Services = map[string][]string{}
	}
	if slices.Equal(codes, x.Services) {
		delete(d.Services, id)
	} else {
		d.Services[id] = slices.Clone(codes)
	}
	e.persistToday(&ch)
	ch.emit(event.ExecutiveServicesToday, now, event.Manager{Day: e.day, Executive: id, Name: x.Name,
		Services: slices.Clone(codes), Actor: e.managerActor(s)}, nil, e.execState(id))
	return ch, nil
}

// EndManaged is the Reason of executive.logged_out when the manager signed
// the executive out.
const EndManaged = "manager"

// SignOutExecutive ends executive id's session for him (he left the branch).
// A ticket he called goes back to the front of its queue; a visit he was
// serving is closed as served.
//
// Errors: unauthorized manager.session_required; conflict
// manager.not_signed_in.
func (e *Engine) SignOutExecutive(now time.Time, hash, id string) (Change, error) {
	var ch Change
	s, err := e.ManagerByToken(now, hash)
	if err != nil {
		return ch, err
	}
	sess, ok := e.sessions[id]
	if !ok {
		return ch, queue.Errorf(queue.CodeConflict, "manager.not_signed_in", e.execName(id))
	}
	actor := e.managerActor(s)
	now = now.UTC()
	if cur, busy := e.Current(id); busy {
		act := Act{Ticket: cur.ID, Action: queue.ActionRequeue, Actor: actor}
		if cur.Status == queue.StatusServing {
			act.Action = queue.ActionComplete
		}
		_, c, err := e.Apply(now, act)
		if err != nil {
			return ch, err
		}
		ch.Merge(c)
	}
	e.dropSession(sess)
	e.touch()
	ch.EndedSessions = append(ch.EndedSessions, sess.TokenHash)
	ch.emit(event.ExecutiveLoggedOut, now, event.Session{Executive: id, Name: e.execName(id), Counter: sess.Counter,
		Reason: EndManaged, Actor: actor}, nil, e.execState(id))
	return ch, nil
}

// CheckDisplayMessage validates a TV message: 1 to MaxDisplayMessage
// characters of letters, digits, spaces and common punctuation (no markup,
// no control characters), for 1 to MaxMessageMinutes minutes.
//
// Errors: invalid manager.message_empty, manager.message_too_long,
// manager.message_chars, manager.message_minutes.
func CheckDisplayMessage(text string, minutes int) (string, error) {
	text = strings.Join(strings.Fields(text), " ")
	if text == "" {
		return "", queue.Errorf(queue.CodeInvalid, "manager.message_empty")
	}
	if n := utf8.RuneCountInString(text); n > MaxDisplayMessage {
		return "", queue.Errorf(queue.CodeInvalid, "manager.message_too_long", MaxDisplayMessage, n)
	}
	for _, r := range text {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' || strings.ContainsRune(".,;:!¡?¿-()/%$#+'\"°ªº", r)) {
			return "", queue.Errorf(queue.CodeInvalid, "manager.message_chars", string(r))
		}
	}
	if minutes < 1 || minutes > MaxMessageMinutes {
		return "", queue.Errorf(queue.CodeInvalid, "manager.message_minutes", MaxMessageMinutes)
	}
	return text, nil
}

// PostMessage puts a message on the TV for minutes (text "" takes the
// current one down).
//
// Errors: unauthorized manager.session_required; as CheckDisplayMessage.
func (e *Engine) PostMessage(now time.Time, hash, text string, minutes int) (Change, error) {
	var ch Change
	s, err := e.ManagerByToken(now, hash)
	if err != nil {
		return ch, err
	}
	now = now.UTC()
	d := e.todayForWrite()
	ev := event.Manager{Day: e.day, Actor: e.managerActor(s)}
	if text == "" && minutes == 0 {
		d.Message = nil
	} else {
		clean, err := CheckDisplayMessage(text, minutes)
		if err != nil {
			return ch, err
		}
		until := now.Add(time.Duration(minutes) * time.Minute)
		d.Message = &DisplayMessage{Text: clean, Until: until}
		ev.Text, ev.Until = clean, &until
	}
	e.persistToday(&ch)
	ch.emit(event.DisplayMessage, now, ev, nil, nil)
	return ch, nil
}

// mustJSON marshals a value built from plain types (no error possible).
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("agent: marshal: " + err.Error())
	}
	return b
}

// KeepManagers carries the manager sessions of old into e (the store
// rebuilds its engine on a new configuration).
func (e *Engine) KeepManagers(old *Engine) {
	if len(old.managers) > 0 {
		e.managers = old.managers
	}
}
