package http_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	agenthttp "github.com/ticketero/ticketero/agent/http"
	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// exerciseCheckIn sends the kiosk's check-ins of the contract test: refused,
// unknown, too early, a booked customer's ticket, a remote ticket checked
// in.
func exerciseCheckIn(t *testing.T, st *sqlite.Store, call func(method, path, body, token string) (int, map[string]any)) {
	t.Helper()
	ctx := context.Background()
	rules := event.DefaultRules()
	rules.Appointments.Remote = map[string]event.RemoteRule{"C": {Open: true}}
	require.NoError(t, st.ApplyConfig(ctx, event.Config{V: 1, Branch: "SCL-001", Version: 2, TimeZone: "America/Santiago",
		Services: queue.DefaultServices(), Counters: []queue.Counter{{Number: 1}, {Number: 2}}, Rules: rules}))
	now := time.Now()
	// Check-in opens 30 minutes before the slot, and only the business
	// day's appointments are looked up: a slot 45 minutes ahead is too early
	// unless it falls on the branch's next day (the last 65 minutes before
	// midnight in Santiago), when that case is not sent.
	loc, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	early := event.AppointmentOrder{Appointment: "A-early", Rev: 1, Service: "P", Start: now.Add(45 * time.Minute), End: now.Add(65 * time.Minute), Code: "100200"}
	sameDay := early.End.In(loc).Format(time.DateOnly) == now.In(loc).Format(time.DateOnly)
	orders := []event.AppointmentOrder{
		{Appointment: "A-now", Rev: 1, Service: "P", Start: now, End: now.Add(20 * time.Minute), Code: "100300", Note: "Viene por su crédito"},
	}
	if sameDay {
		orders = append(orders, early)
	}
	for i, o := range orders {
		require.NoError(t, st.ApplyCommand(ctx, event.Command{V: 1, Branch: "SCL-001", ID: "book-" + o.Appointment,
			Type: event.CommandBookAppointment, Appointment: &o, At: now}), i)
	}
	require.NoError(t, st.ApplyCommand(ctx, event.Command{V: 1, Branch: "SCL-001", ID: "join-1", Type: event.CommandJoinQueue,
		Join: &event.JoinOrder{Service: "C", Channel: event.ChannelWeb, Code: "100400"}, At: now}))

	code, p := call("POST", "/api/v1/check-ins", `{}`, "")
	assert.Equal(t, 400, code)
	assert.Equal(t, "checkin.invalid", p["code"])
	code, p = call("POST", "/api/v1/check-ins", `{"rut":"12.345.678-9"}`, "")
	assert.Equal(t, 400, code, "%v", p)
	code, p = call("POST", "/api/v1/check-ins", `{"code":"999999"}`, "")
	assert.Equal(t, 404, code)
	assert.Equal(t, "checkin.not_found", p["code"])
	if sameDay {
		code, p = call("POST", "/api/v1/check-ins", `{"code":"100200"}`, "")
		assert.Equal(t, 409, code)
		assert.Equal(t, "appointment.too_early", p["code"])
	} else {
		t.Log("too close to midnight in Santiago for a too-early appointment today")
	}
	code, p = call("POST", "/api/v1/check-ins", `{"code":"100300"}`, "")
	require.Equal(t, 201, code, "%v", p)
	assert.Equal(t, "appointment", p["kind"])
	tk := p["ticket"].(map[string]any)
	assert.Equal(t, "P-001", tk["number"])
	assert.Equal(t, true, tk["appointment"])
	assert.NotEmpty(t, tk["token"])
	assert.Equal(t, false, p["appointment"].(map[string]any)["late"])
	code, p = call("POST", "/api/v1/check-ins", `{"code":"100300"}`, "")
	assert.Equal(t, 404, code, "checked in once: %v", p)
	code, p = call("POST", "/api/v1/check-ins", `{"code":"100400"}`, "")
	require.Equal(t, 200, code, "%v", p)
	assert.Equal(t, "remote", p["kind"])
	assert.Nil(t, p["appointment"])
}

// TestCheckInRateLimitedPerKiosk: guessing codes from one address is cut
// off after the burst (429 with Retry-After) while another kiosk still
// checks in; nothing the limited attempts tried was looked up.
func TestCheckInRateLimitedPerKiosk(t *testing.T) {
	lim := agenthttp.DefaultLimits()
	lim.ExemptLoopback = false
	h, _, clk := MustLimitedServer(t, lim)
	const guesser, kiosk = "10.20.0.66:40000", "10.20.0.21:50412"
	limited := 0
	for i := range 40 {
		rec := do(h, "POST", "/api/v1/check-ins", guesser, `{"code":"`+string(rune('0'+i%10))+`00000"}`)
		switch rec.Code {
		case 404:
		case 429:
			limited++
			assert.NotEmpty(t, rec.Header().Get("Retry-After"))
		default:
			t.Fatalf("attempt %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	assert.Equal(t, 40-lim.CheckIn.Burst, limited, "the burst, then nothing until a token refills")
	assert.Equal(t, 404, do(h, "POST", "/api/v1/check-ins", kiosk, `{"code":"123456"}`).Code, "another kiosk is not held up")
	clk.Add(lim.CheckIn.Every)
	assert.Equal(t, 404, do(h, "POST", "/api/v1/check-ins", guesser, `{"code":"123456"}`).Code, "one more after the refill")
	assert.Equal(t, 429, do(h, "POST", "/api/v1/check-ins", guesser, `{"code":"123456"}`).Code)
}
