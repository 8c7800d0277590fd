package main

// Appointments and the virtual queue (docs/appointments.md): the book
// (cloud/postgres/appt) and the loop that publishes branch commands again
// until the branch answers (cloud/commands). The loop runs whether Telegram
// is on or not: it carries Telegram's /cancelar as well as the booking and
// remote-join commands.

import (
	"context"
	"time"

	"github.com/ticketero/ticketero/cloud/commands"
	"github.com/ticketero/ticketero/cloud/postgres/appt"
)

// newAppointments builds the book over the pool (RUT keys from setupRUT) and
// returns the command loop (nil while there is no broker).
func newAppointments(m *Main, resend time.Duration) func(context.Context) {
	m.appts = appt.New(m.Pool, m.rutKeys)
	if m.MQTT == nil {
		return nil
	}
	return func(ctx context.Context) { commands.Run(ctx, m.appts, m.MQTT, resend, m.Log) }
}
