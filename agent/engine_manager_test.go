package agent_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

func TestCheckDisplayMessage(t *testing.T) {
	for _, c := range []struct {
		name, text string
		minutes    int
		code, es   string
		clean      string
	}{
		{"ok", "  Hoy atendemos hasta las 14:00  ", 60, "", "", "Hoy atendemos hasta las 14:00"},
		{"accents and punctuation", "¡Atención! Caja N° 2 cerrada (arqueo), 5% más rápido: ¿dudas?", 30, "", "", "¡Atención! Caja N° 2 cerrada (arqueo), 5% más rápido: ¿dudas?"},
		{"spaces folded", "Caja\t cerrada", 30, "", "", "Caja cerrada"},
		{"empty", " \t ", 30, "manager.message_empty", "Escriba el mensaje para la pantalla.", ""},
		{"too long", strings.Repeat("ñ", 121), 30, "manager.message_too_long", "El mensaje puede tener hasta 120 caracteres (tiene 121).", ""},
		{"exactly 120", strings.Repeat("ñ", 120), 30, "", "", strings.Repeat("ñ", 120)},
		{"markup", "hola <b>", 30, "manager.message_chars", `El mensaje no puede llevar el carácter "<": use letras, números y puntuación común.`, ""},
		{"control", "hola\u0007", 30, "manager.message_chars", "", ""},
		{"emoji", "hola 🙂", 30, "manager.message_chars", "", ""},
		{"zero minutes", "hola", 0, "manager.message_minutes", "El mensaje puede quedar en pantalla de 1 a 480 minutos.", ""},
		{"too many minutes", "hola", 481, "manager.message_minutes", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			clean, err := agent.CheckDisplayMessage(c.text, c.minutes)
			if c.code == "" {
				require.NoError(t, err)
				assert.Equal(t, c.clean, clean)
				return
			}
			assert.Equal(t, queue.CodeInvalid, queue.ErrorCode(err))
			assert.Equal(t, c.code, queue.ErrorReason(err))
			var qe *queue.Error
			require.ErrorAs(t, err, &qe)
			if c.es != "" {
				assert.Equal(t, c.es, qe.Message(i18n.ES))
			}
			assert.NotEqual(t, c.code, qe.Message(i18n.EN), "an English message exists")
		})
	}
}

func manager(id string) agent.Executive {
	x := exec(id, "C")
	x.Manager = true
	return x
}

func TestManagerLogin(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"), manager("G01"))
	const addr = "10.0.0.40"
	login := func(id string, ok bool) (agent.ManagerSession, agent.Change, error) {
		return f.e.ManagerLogin(f.now, agent.LoginAttempt{Executive: id, Addr: addr, TokenHash: "m-" + id, PINOK: ok})
	}
	t.Run("not a manager", func(t *testing.T) {
		_, ch, err := login("E01", true)
		assert.Equal(t, queue.CodeForbidden, queue.ErrorCode(err))
		assert.Equal(t, "manager.required", queue.ErrorReason(err))
		require.Len(t, ch.Events, 1)
		assert.Equal(t, event.ManagerLoginFailed, ch.Events[0].Type)
		_, err = f.e.ManagerByToken(f.now, "m-E01")
		assert.Equal(t, "manager.session_required", queue.ErrorReason(err))
	})
	t.Run("unknown", func(t *testing.T) {
		_, _, err := login("X99", true)
		assert.Equal(t, "session.bad_pin", queue.ErrorReason(err))
	})
	t.Run("wrong PINs share the counter sign-in's throttle", func(t *testing.T) {
		for i := 1; i < agent.FreePINFailures; i++ {
			_, ch, err := login("G01", false)
			assert.Equal(t, "session.bad_pin", queue.ErrorReason(err))
			require.Len(t, ch.Events, 1)
			assert.Equal(t, event.ManagerLoginFailed, ch.Events[0].Type)
			assert.Equal(t, event.ActorManager, ch.Events[0].Data.(event.SignIn).Actor.Kind)
		}
		_, ch, err := login("G01", false)
		assert.Equal(t, "session.locked", queue.ErrorReason(err))
		assert.Equal(t, event.ExecutiveLocked, ch.Events[1].Type)
		// The same person at a counter from that address waits too.
		_, _, err = f.e.Login(f.now, agent.LoginAttempt{Executive: "G01", Counter: 1, Addr: addr, TokenHash: "x", PINOK: true})
		assert.Equal(t, "session.locked", queue.ErrorReason(err))
		f.tick(time.Minute)
	})
	t.Run("signed in, idle out", func(t *testing.T) {
		s, ch, err := login("G01", true)
		require.NoError(t, err)
		assert.Equal(t, "G01", s.Manager)
		require.Len(t, ch.Events, 1)
		assert.Equal(t, event.ManagerSignedIn, ch.Events[0].Type)
		f.tick(agent.ManagerIdle - time.Second)
		_, err = f.e.ManagerByToken(f.now, "m-G01")
		require.NoError(t, err, "use keeps it alive")
		f.tick(agent.ManagerIdle)
		_, err = f.e.ManagerByToken(f.now, "m-G01")
		assert.Equal(t, "manager.session_required", queue.ErrorReason(err))
	})
}

func TestManagerDayEnds(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C", "P"), manager("G01"))
	_, _, err := f.e.ManagerLogin(f.now, agent.LoginAttempt{Executive: "G01", TokenHash: "m", PINOK: true})
	require.NoError(t, err)
	_, err = f.e.SetServiceToday(f.now, "m", "C", false)
	require.NoError(t, err)
	_, err = f.e.SetServicesToday(f.now, "m", "E01", []string{"P"})
	require.NoError(t, err)
	ch, err := f.e.PostMessage(f.now, "m", "Caja cerrada", 60)
	require.NoError(t, err)
	assert.Contains(t, ch.Meta[agent.MetaManagerDay], `"Caja cerrada"`, "today's changes are persisted")
	_, _, err = f.e.Issue(f.now, agent.IssueRequest{Service: "C"})
	assert.Equal(t, "service.closed_by_manager", queue.ErrorReason(err))
	svcs, changed := f.e.ServicesToday("E01")
	assert.True(t, changed)
	assert.Equal(t, []string{"P"}, svcs)

	f.tick(61 * time.Minute)
	assert.Nil(t, f.e.ManagerToday(f.now).Message, "the message expired")

	// The next day starts clean.
	f.tick(24 * time.Hour)
	f.e.Roll(f.now)
	_, _, err = f.e.Issue(f.now, agent.IssueRequest{Service: "C"})
	require.NoError(t, err)
	svcs, changed = f.e.ServicesToday("E01")
	assert.False(t, changed)
	assert.Equal(t, []string{"C", "P"}, svcs)
}
