package event

import "time"

// ActorManager is the branch manager signed in on the branch page (Executive
// is his ID, Address the LAN client's).
const ActorManager = "manager"

// Branch manager actions and sign-ins at the branch (the /branch page). Each
// is an event so HQ sees and audits it; the actor is the manager.
const (
	// ManagerSignedIn is a manager's sign-in on the branch page.
	ManagerSignedIn Type = "manager.signed_in"
	// ManagerLoginFailed is a manager sign-in refused for a wrong PIN or a
	// person without the manager role (payload SignIn).
	ManagerLoginFailed Type = "manager.login_failed"
	// ServiceClosedToday closes a service to new tickets for the rest of the
	// business day (waiting customers are still served).
	ServiceClosedToday Type = "service.closed_today"
	// ServiceOpenedToday opens again a service the manager closed today.
	ServiceOpenedToday Type = "service.opened_today"
	// ExecutiveServicesToday changes the services an executive calls, for the
	// rest of the business day.
	ExecutiveServicesToday Type = "executive.services_today"
	// DisplayMessage is a short message on the waiting-room TV until Until
	// (empty Text: the message was taken down).
	DisplayMessage Type = "display.message"
)

// Manager is the payload of the manager's actions: the service closed or
// opened, the executive and his services for today, or the TV's message.
type Manager struct {
	Day       string     `json:"day"`
	Service   string     `json:"service,omitempty"`
	Executive string     `json:"executive,omitempty"`
	Name      string     `json:"name,omitempty"`
	Services  []string   `json:"services,omitempty"`
	Text      string     `json:"text,omitempty"`
	Until     *time.Time `json:"until,omitempty"`
	Actor     *Actor     `json:"actor,omitempty"`
}

// Admin actions of executive.admin for the manager role (set with the
// admin command on the box).
const (
	AdminManagerGranted = "manager_granted"
	AdminManagerRevoked = "manager_revoked"
)
