package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// TestPhoneSealedAndErased: a mobile number given with consent is stored
// encrypted on the box (never in the clear), travels sealed to the cloud's
// key on ticket.issued, and goes with the RUT at retention; a bad number or
// one without consent issues nothing.
func TestPhoneSealedAndErased(t *testing.T) {
	e := MustStore(t, 2)
	ctx := context.Background()
	keys := cloudRUTKeys(t)
	require.NoError(t, e.st.ApplyConfig(ctx, rutConfig(3, keys)))

	for in, reason := range map[string]string{"+56 2 2345 6789": "phone.not_mobile", "9 1234 567x": "phone.format"} {
		_, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C", Phone: in, PhoneConsent: true})
		var qe *queue.Error
		require.ErrorAs(t, err, &qe, in)
		assert.Equal(t, reason, qe.Reason)
	}
	_, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C", Phone: "+56 9 8765 4321"})
	var qe *queue.Error
	require.ErrorAs(t, err, &qe)
	assert.Equal(t, "phone.no_consent", qe.Reason)
	var n int
	require.NoError(t, e.st.DB().QueryRow("SELECT count(*) FROM tickets").Scan(&n))
	require.Zero(t, n, "nothing issued on a refused number")

	tk, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C", Phone: "+56 9 8765 4321", PhoneConsent: true})
	require.NoError(t, err)
	var enc []byte
	require.NoError(t, e.st.DB().QueryRow("SELECT phone_enc FROM ticket_phones WHERE ticket = ?", tk.ID).Scan(&enc))
	assert.NotContains(t, string(enc), "87654321")
	evs, err := e.st.Pending(ctx, 0, 100)
	require.NoError(t, err)
	var sealed string
	for _, ev := range evs {
		assert.NotContains(t, string(ev.Data), "87654321")
		if ev.Type == event.TicketIssued {
			p, err := ev.Payload()
			require.NoError(t, err)
			sealed = p.(*event.Issued).PhoneSealed
		}
	}
	require.NotEmpty(t, sealed)
	plain, err := keys.Open(sealed)
	require.NoError(t, err)
	assert.Equal(t, "+56987654321", plain, "the cloud opens the E.164 number")

	e.clock.Add(40 * 24 * time.Hour)
	_, err = e.st.Anonymise(ctx, 30)
	require.NoError(t, err)
	require.NoError(t, e.st.DB().QueryRow("SELECT count(*) FROM ticket_phones").Scan(&n))
	assert.Zero(t, n, "the number is erased with the RUT")
}
