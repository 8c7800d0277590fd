package telegram_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
	"github.com/ticketero/ticketero/shared/event"
)

// TestRemoteTicketNotices: a remote ticket's chat is told when its customer
// checked in, each time the unchecked ticket slid back (with the minutes of
// its hold left), and when it expired; a redelivered slide is not told twice.
func TestRemoteTicketNotices(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	run(t, e.worker(29))
	const b = "SCL-010"
	e.feed(b, e.issued(b, "r1", "C", 7, 4, "tokr1", ""))
	e.feed(b, e.issued(b, "r2", "C", 8, 5, "tokr2", ""))
	e.say(3001, "es", "/start tokr1")
	e.say(3002, "en", "/start tokr2")
	e.waitTexts(3001, 2)
	e.waitTexts(3002, 2)

	r1 := ref("r1", "C", 7)
	r1.Printed = "C-007"
	r1.Place = &event.Place{Position: 3, TypicalS: 600, UpperS: 900}
	e.feed(b, e.ev(b, event.TicketCheckedIn, event.CheckedIn{TicketRef: r1, By: "qr", Request: "cmd-1"}))
	texts := e.waitTexts(3001, 3)
	assert.Equal(t, "Registramos tu llegada con el número C-007. Personas antes que tú: 2. Espera estimada: entre 10 y 15 min.", texts[2])

	r2 := ref("r2", "C", 8)
	r2.Printed = "C-008"
	r2.Place = &event.Place{Position: 4}
	slid := e.ev(b, event.TicketSlid, event.Slid{TicketRef: r2, HoldUntil: time.Now().Add(14*time.Minute + 30*time.Second), Slides: 1})
	e.feed(b, slid)
	texts = e.waitTexts(3002, 3)
	assert.Equal(t, "Number C-008 reached the front, but you have not checked in yet: we moved it back (people ahead of you: 3). Scan the QR code at the branch entrance within 15 min or you will lose your number.", texts[2])
	slid2 := e.ev(b, event.TicketSlid, event.Slid{TicketRef: r2, HoldUntil: time.Now().Add(5 * time.Minute), Slides: 2})
	e.feed(b, slid2)
	texts = e.waitTexts(3002, 4)
	assert.Contains(t, texts[3], "within 5 min")

	r2.Place = nil
	e.feed(b, e.ev(b, event.TicketExpired, r2))
	texts = e.waitTexts(3002, 5)
	assert.Equal(t, "Your number C-008 expired because you did not check in in time. If you still need it, you may take a new number.", texts[4])
	assert.Equal(t, 2, e.count(`SELECT count(*) FROM telegram_jobs WHERE kind = 'slid'`))
}
