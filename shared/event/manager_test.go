package event_test

import (
	"time"

	"github.com/ticketero/ticketero/shared/event"
)

// The manager's events join the golden samples (event_test.go).
func init() {
	mgr := &event.Actor{Kind: event.ActorManager, Executive: "G01", Address: "192.168.1.40"}
	until := time.Date(2026, 11, 28, 14, 4, 5, 0, time.UTC)
	samples[event.ManagerSignedIn] = event.Manager{Day: "2026-11-28", Executive: "G01", Name: "Marta Rojas", Actor: mgr}
	samples[event.ManagerLoginFailed] = event.SignIn{Executive: "E01", Address: "192.168.1.40", Failures: 1,
		Actor: &event.Actor{Kind: event.ActorManager, Executive: "E01", Address: "192.168.1.40"}}
	samples[event.ServiceClosedToday] = event.Manager{Day: "2026-11-28", Service: "E", Actor: mgr}
	samples[event.ServiceOpenedToday] = event.Manager{Day: "2026-11-28", Service: "E", Actor: mgr}
	samples[event.ExecutiveServicesToday] = event.Manager{Day: "2026-11-28", Executive: "E01", Name: "Ana Pérez",
		Services: []string{"P", "C"}, Actor: mgr}
	samples[event.DisplayMessage] = event.Manager{Day: "2026-11-28", Text: "Hoy atendemos hasta las 14:00", Until: &until, Actor: mgr}
}
