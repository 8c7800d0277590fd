package event_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
)

// actorSamples pin the additive "actor" field on the payloads that carry it;
// the plain goldens (without actor) stay as the events older agents send.
var actorSamples = map[string]struct {
	typ    event.Type
	sample any
}{
	"ticket_cancelled_actor": {event.TicketCancelled, event.Cancelled{TicketRef: event.TicketRef{Ticket: "01JDZ8ABCDEF", Service: "C",
		Number: 23, Day: "2026-11-28", Actor: &event.Actor{Kind: event.ActorExecutive, Executive: "E01", Counter: 5}}, By: "executive"}},
	"ticket_transferred_actor": {event.TicketTransferred, event.Transferred{TicketRef: event.TicketRef{Ticket: "01JDZ8ABCDEF", Service: "C",
		Number: 23, Day: "2026-11-28", Actor: &event.Actor{Kind: event.ActorExecutive, Executive: "E01", Counter: 5}}, To: "P", QueuedAt: at, First: true}},
	"ticket_issued_actor": {event.TicketIssued, event.Issued{TicketRef: event.TicketRef{Ticket: "01JDZ8ABCDEF", Service: "C",
		Number: 23, Day: "2026-11-28", Actor: &event.Actor{Kind: event.ActorKiosk}}, Priority: "normal", QueuedAt: at, Position: 1, Channel: "kiosk"}},
	"executive_logged_out_actor": {event.ExecutiveLoggedOut, event.Session{Executive: "E01", Counter: 5,
		Actor: &event.Actor{Kind: event.ActorSystem}}},
	// The counter's actions (additive fields on shipped types).
	"ticket_called_chosen": {event.TicketCalled, event.Called{TicketRef: event.TicketRef{Ticket: "01JDZ8ABCDEF", Service: "C", Number: 23,
		Day: "2026-11-28", Counter: 5, Executive: "E01", Printed: "C-023"}, ExecutiveName: "Ana Pérez", Chosen: true, Reason: "cliente con hora agendada"}},
	"ticket_transferred_executive": {event.TicketTransferred, event.Transferred{TicketRef: event.TicketRef{Ticket: "01JDZ8ABCDEF", Service: "P",
		Number: 8, Day: "2026-11-28", Counter: 2, Executive: "E01", Printed: "P-008", Place: &event.Place{Position: 1, TypicalS: 900, UpperS: 1800}},
		To: "E", ToName: "Empresas", QueuedAt: at, First: true, ToExecutive: "E03", ToExecutiveName: "Carla Soto"}},
	"ticket_transferred_counter": {event.TicketTransferred, event.Transferred{TicketRef: event.TicketRef{Ticket: "01JDZ8ABCDEF", Service: "P",
		Number: 8, Day: "2026-11-28", Counter: 2, Executive: "E01", Printed: "P-008"}, To: "P", ToName: "Personal Banker", QueuedAt: at, ToCounter: 4}},
	"ticket_completed_outcomes": {event.TicketCompleted, event.Completed{TicketRef: event.TicketRef{Ticket: "01JDZ8ABCDEF", Service: "C", Number: 23,
		Day: "2026-11-28", Counter: 5, Executive: "E01", Printed: "C-023"}, Outcome: "deposit", Outcomes: []string{"deposit", "card.new"}}},
	"executive_paused_code": {event.ExecutivePaused, event.Session{Executive: "E01", Name: "Ana Pérez", Counter: 5, Reason: "Colación", Code: "lunch"}},
	"day_closed_actor":      {event.DayClosed, event.Day{Day: "2026-11-28", Abandoned: 3, Actor: &event.Actor{Kind: event.ActorSystem}}},
	"config_applied_actor":  {event.ConfigApplied, event.ConfigRef{Version: 7, Actor: &event.Actor{Kind: event.ActorHQ}}},
}

func TestGoldenActor(t *testing.T) {
	for name, s := range actorSamples {
		t.Run(name, func(t *testing.T) { checkGolden(t, name, s.typ, s.sample) })
	}
}

func TestActorOldEvents(t *testing.T) {
	// An event from an agent that predates the actor field decodes with none.
	b, err := event.DecodeBatch(event.EventsTopic("SCL-001"), []byte(`{"v":1,"branch":"SCL-001","events":[{"seq":1,"id":"e1",
		"type":"ticket.cancelled","at":"2026-11-28T13:04:05Z","data":{"ticket":"t","service":"C","number":1,"day":"2026-11-28","by":"executive"}}]}`))
	require.NoError(t, err)
	p, err := b.Events[0].Payload()
	require.NoError(t, err)
	c := p.(*event.Cancelled)
	assert.Nil(t, c.Actor)
	assert.Equal(t, "executive", c.By)
}

func TestActorString(t *testing.T) {
	assert.Equal(t, "executive E01 @5", (&event.Actor{Kind: event.ActorExecutive, Executive: "E01", Counter: 5}).String())
	assert.Equal(t, "admin root", (&event.Actor{Kind: event.ActorAdmin, User: "root"}).String())
	assert.Equal(t, "telegram cmd-1", (&event.Actor{Kind: event.ActorTelegram, Request: "cmd-1"}).String())
	assert.Equal(t, "system", (&event.Actor{Kind: event.ActorSystem}).String())
	assert.Equal(t, "", (*event.Actor)(nil).String())
}
