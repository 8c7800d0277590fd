package event

import "strconv"

// Actor kinds: who made a change at a branch. The strings cross the wire.
const (
	// ActorExecutive is an executive signed in at a counter (Executive, Counter).
	ActorExecutive = "executive"
	// ActorKiosk is the branch's kiosk or LAN API issuing a ticket (Address).
	ActorKiosk = "kiosk"
	// ActorTelegram is a customer's Telegram command relayed by the cloud
	// (Request is the command's ID).
	ActorTelegram = "telegram"
	// ActorHQ is an HQ user, through a published configuration (User).
	ActorHQ = "hq"
	// ActorAdmin is the branch-local admin command on the box (User is the
	// operating-system account that ran it).
	ActorAdmin = "admin"
	// ActorSystem is the agent itself: day close, timeouts.
	ActorSystem = "system"
)

// Actor names who made a change. It rides as the additive "actor" field of
// every payload that has one; events written before it existed have none, and
// readers fall back to the older fields (executive, by).
type Actor struct {
	Kind      string `json:"kind"`
	Executive string `json:"executive,omitempty"`
	Counter   int    `json:"counter,omitempty"`
	User      string `json:"user,omitempty"`
	Request   string `json:"request,omitempty"`
	// Address is the LAN client address of a sign-in attempt or kiosk.
	Address string `json:"address,omitempty"`
}

// String is a short, log- and audit-friendly name of the actor:
// "executive E01 @5", "kiosk", "admin root", "telegram cmd-1".
func (a *Actor) String() string {
	if a == nil {
		return ""
	}
	s := a.Kind
	switch {
	case a.Executive != "":
		s += " " + a.Executive
		if a.Counter != 0 {
			s += " @" + strconv.Itoa(a.Counter)
		}
	case a.User != "":
		s += " " + a.User
	case a.Request != "":
		s += " " + a.Request
	}
	return s
}

// Security events of a branch: failed sign-ins, lockouts and branch-local
// administration. The cloud writes them to HQ's audit.
const (
	// ExecutiveLoginFailed is a sign-in refused for a wrong PIN.
	ExecutiveLoginFailed Type = "executive.login_failed"
	// ExecutiveLocked is a sign-in throttle starting for an executive at one
	// client address after repeated wrong PINs.
	ExecutiveLocked Type = "executive.locked"
	// ExecutiveAdmin is a branch-local change to an executive (the admin
	// command on the box): added, removed, pin_set.
	ExecutiveAdmin Type = "executive.admin"
)

// SignIn is executive.login_failed and executive.locked: who tried, where,
// how many failures in a row from that address, and how long the next try
// must wait (seconds).
type SignIn struct {
	Executive string `json:"executive"`
	Counter   int    `json:"counter,omitempty"`
	Address   string `json:"address,omitempty"`
	Failures  int    `json:"failures"`
	RetryS    int    `json:"retry_s,omitempty"`
	Actor     *Actor `json:"actor,omitempty"`
}

// Admin actions of executive.admin.
const (
	AdminAdded   = "added"
	AdminRemoved = "removed"
	AdminPINSet  = "pin_set"
)

// Admin is executive.admin: a branch-local change to an executive.
type Admin struct {
	Action    string   `json:"action"`
	Executive string   `json:"executive"`
	Name      string   `json:"name,omitempty"`
	Services  []string `json:"services,omitempty"`
	Actor     *Actor   `json:"actor,omitempty"`
}
