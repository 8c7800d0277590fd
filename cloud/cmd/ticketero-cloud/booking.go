package main

// The customers' booking page and virtual queue (cloud/booking) over the
// book (appointments.go): /agenda and /api/v1/public on the public
// listener. Client addresses come from the same trusted proxy settings as
// the HQ web; the t.me follow links name TICKETERO_TELEGRAM_BOT.

import (
	"github.com/ticketero/ticketero/cloud/booking"
)

// newBooking builds the public booking handler.
func newBooking(m *Main) (*booking.Handler, error) {
	wc := m.Config.Web
	return booking.New(booking.Config{Appointments: m.appts, BotName: m.Config.Telegram.BotName,
		Proxy: wc.Proxy(), SecureCookies: !wc.InsecureCookies, Log: m.Log})
}
