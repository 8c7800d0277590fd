package event_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ticketero/ticketero/shared/event"
)

// TestFactsCoverEveryType fails for a type added to Types without its facts
// (status, ticket, notice): the cloud would otherwise skip it silently.
func TestFactsCoverEveryType(t *testing.T) {
	for typ, mk := range event.Types {
		t.Run(string(typ), func(t *testing.T) {
			facts := event.FactsOf(typ)
			assert.True(t, facts.Status, "statuses has no entry")
			assert.True(t, facts.Ticket, "namesTicket has no entry")
			assert.True(t, facts.Notice, "notices has no entry")
			_, ticketed := mk().(event.Ticketed)
			assert.Equal(t, typ.NamesTicket(), ticketed, "NamesTicket disagrees with the payload's type")
			if typ.Status() != "" || typ.Notice() != event.NoticeNone {
				assert.True(t, typ.NamesTicket(), "a status or a notice needs a ticket")
			}
		})
	}
	assert.Equal(t, len(event.Types), event.FactEntries(), "a fact table lists a type that Types does not know")
}

func TestFacts(t *testing.T) {
	assert.Equal(t, "no_show", string(event.TicketNoShow.Status()))
	assert.Equal(t, "waiting", string(event.TicketTransferred.Status()))
	assert.Empty(t, event.TicketNear.Status(), "a pre-notice changes no status")
	assert.Empty(t, event.Type("ticket.future").Status())
	assert.Equal(t, event.NoticeDayClosed, event.TicketAbandoned.Notice())
	assert.Equal(t, "T1", event.TicketOf(&event.Called{TicketRef: event.TicketRef{Ticket: "T1"}}).Ticket)
	assert.Nil(t, event.TicketOf(&event.Session{}))
}
