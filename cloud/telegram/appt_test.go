package telegram_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/appt"
	"github.com/ticketero/ticketero/cloud/postgres/notify"
	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// withBook gives the bot the real book (postgres/appt) with a branch whose
// Caja takes bookings every day 09:00–18:00 (one place a 15-minute slot)
// and whose Plataforma has its virtual queue open.
func (e *env) withBook() *appt.Store {
	e.t.Helper()
	e.exec(`INSERT INTO branches (id, name, region) VALUES ('SCL-001', 'Providencia Centro', 'Región Metropolitana')`)
	e.exec(`INSERT INTO hq_services (branch, code, name, target_wait_s, mean_service_s, priority) VALUES
		('SCL-001', 'C', 'Caja', 600, 300, 1), ('SCL-001', 'P', 'Plataforma', 900, 600, 2)`)
	e.exec(`INSERT INTO hq_branch_configs (branch, version, snapshot, published_at, published_by)
		VALUES ('SCL-001', 1, '{"rules":{"appointments":{"remote":{"P":{"open":true}}}}}', now(), 'test')`)
	st := appt.New(e.pool, nil)
	week := map[string][]cloud.BookingHours{}
	for _, d := range cloud.Weekdays {
		week[d] = []cloud.BookingHours{{From: "09:00", To: "18:00", Executives: 1}}
	}
	require.NoError(e.t, st.SaveSchedule(context.Background(), cloud.BookingSchedule{Branch: "SCL-001", Service: "C",
		SlotMin: 15, HorizonDays: 14, Weekly: week}, "test"))
	e.bot.Appointments = st
	return st
}

// lastText waits for the chat's n-th message and returns it.
func (e *env) lastText(chat int64, n int) string {
	e.t.Helper()
	return e.waitTexts(chat, n)[n-1]
}

// buttonsOf waits for the chat's n-th message and returns its buttons.
func (e *env) buttonsOf(chat int64, n int) []string {
	e.t.Helper()
	e.waitTexts(chat, n)
	var mine []telegramtest.Sent
	for _, s := range e.fake.Sent() {
		if s.ChatID == chat {
			mine = append(mine, s)
		}
	}
	return mine[n-1].Buttons
}

func rutOf(body int) string {
	return fmt.Sprintf("%d-%c", body, queue.CheckDigit(body))
}

// TestAgendarByTelegram: /agendar walks branch → service → day → slot with
// buttons and books with the RUT typed as a message; /mis_horas cancels it
// with the RUT; reminders go out the day before and an hour before, once per
// revision; a booking the branch declined is told.
func TestAgendarByTelegram(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	e.withBook()
	run(t, e.worker(29))
	const chat = 4001
	zone, _ := time.LoadLocation("America/Santiago")
	day := time.Now().In(zone).AddDate(0, 0, 2).Format(time.DateOnly)
	start, err := time.ParseInLocation("2006-01-02 15:04", day+" 10:30", zone)
	require.NoError(t, err)

	e.say(chat, "es", "/agendar provi")
	assert.Equal(t, "Agenda tu hora: elige la sucursal.", e.lastText(chat, 1))
	assert.Equal(t, []string{"ap:b:SCL-001"}, e.buttonsOf(chat, 1))
	e.tap(chat, "ap:b:SCL-001")
	assert.Equal(t, "Providencia Centro: elige el servicio.", e.lastText(chat, 2))
	e.tap(chat, "ap:s:SCL-001:C")
	assert.Contains(t, e.buttonsOf(chat, 3), "ap:d:SCL-001:C:"+day)
	e.tap(chat, "ap:d:SCL-001:C:"+day)
	slot := "ap:t:SCL-001:C:" + strconv.FormatInt(start.Unix(), 10)
	assert.Contains(t, e.buttonsOf(chat, 4), slot, "the day's first 24 free slots")
	e.tap(chat, slot)
	assert.Equal(t, "Elegiste Caja en Providencia Centro, el "+start.In(zone).Format("02-01-2006")+
		" a las 10:30. Escribe tu RUT (ej.: 12.345.678-5) para confirmar la hora.", e.lastText(chat, 5))

	e.say(chat, "es", "12.345.678-9")
	assert.Contains(t, e.lastText(chat, 6), "Escribe tu RUT de nuevo")
	e.say(chat, "es", rutOf(12345678))
	booked := e.lastText(chat, 7)
	assert.True(t, strings.HasPrefix(booked, "¡Listo! Tu hora: Caja en Providencia Centro, el "), booked)
	var id, code string
	require.NoError(t, e.pool.QueryRow(context.Background(),
		`SELECT id, code FROM appt_bookings WHERE chat IS NOT NULL AND channel = 'telegram' AND start_at = $1`, start).Scan(&id, &code))
	assert.Contains(t, booked, "Tu código: "+code+".")
	// The question was answered: plain text is no RUT any more.
	e.say(chat, "es", "gracias")
	assert.Equal(t, "No entendí. Escribe /ayuda para ver los comandos.", e.lastText(chat, 8))

	// Reminders: the day before (20 h ahead) and an hour before, each once.
	// (A store of its own with a moved clock: the worker's paces chats by its own.)
	rem := notify.New(e.pool, e.keys)
	rem.Now = func() time.Time { return start.Add(-20 * time.Hour) }
	for range 2 {
		_, err := rem.QueueReminders(context.Background())
		require.NoError(t, err)
	}
	assert.Equal(t, "Recuerda: el "+start.In(zone).Format("02-01-2006")+" a las 10:30 tienes hora en Providencia Centro. Tu código: "+
		code+". /mis_horas para cambiarla o anularla.", e.lastText(chat, 9))
	rem.Now = func() time.Time { return start.Add(-50 * time.Minute) }
	_, err = rem.QueueReminders(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "Tu hora en Providencia Centro es hoy a las 10:30. Tu código: "+code+
		". Puedes registrar tu llegada en el tótem desde 30 minutos antes.", e.lastText(chat, 10))
	assert.Equal(t, 2, e.count(`SELECT count(*) FROM telegram_jobs WHERE ticket = $1 AND kind LIKE 'remind_%'`, id))

	// /mis_horas: cancel with the RUT.
	e.say(chat, "es", "/mis_horas")
	assert.Contains(t, e.lastText(chat, 11), "código "+code)
	assert.Equal(t, []string{"mh:m:" + id, "mh:c:" + id}, e.buttonsOf(chat, 11))
	e.tap(chat, "mh:c:"+id)
	assert.Contains(t, e.lastText(chat, 12), "escribe el RUT con que la agendaste")
	e.say(chat, "es", rutOf(7654321))
	assert.Contains(t, e.lastText(chat, 13), "No encontramos esa reserva", "another RUT is not the proof")
	e.tap(chat, "mh:c:"+id)
	e.say(chat, "es", rutOf(12345678))
	assert.Equal(t, "Tu hora del "+start.In(zone).Format("02-01-2006")+" a las 10:30 fue anulada.", e.lastText(chat, 15))
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM appt_bookings WHERE id = $1 AND status = 'cancelled'`, id))

	// Booked again; the branch declines it: the chat is told why, once.
	e.tap(chat, slot)
	e.say(chat, "es", rutOf(12345678))
	e.lastText(chat, 17)
	var id2 string
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT id FROM appt_bookings WHERE status = 'booked'`).Scan(&id2))
	decl := e.ev("SCL-001", event.AppointmentDeclined, event.AppointmentDecline{AppointmentRef: event.AppointmentRef{
		Appointment: id2, Rev: 1, Service: "C", Day: day, Start: start}, Reason: event.DeclineDayClosed})
	e.feed("SCL-001", decl)
	assert.Equal(t, "Tu hora del "+start.In(zone).Format("02-01 15:04")+" no pudo confirmarse en la sucursal: la sucursal cerró ese día. Puedes agendar otra.",
		e.lastText(chat, 18))
}

// TestFilaByTelegram: /fila asks a branch whose virtual queue is open for a
// number; a refusal is told with its reason.
func TestFilaByTelegram(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	e.withBook()
	run(t, e.worker(29))
	const chat = 4002
	e.say(chat, "en", "/fila")
	assert.Equal(t, []string{"fq:b:SCL-001"}, e.buttonsOf(chat, 1))
	e.tap(chat, "fq:b:SCL-001")
	assert.Equal(t, []string{"fq:s:SCL-001:P"}, e.buttonsOf(chat, 2))
	e.tap(chat, "fq:s:SCL-001:P")
	var id, code string
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT id, code FROM appt_joins WHERE chat IS NOT NULL AND channel = 'telegram'`).Scan(&id, &code))
	assert.Contains(t, e.lastText(chat, 3), "Pedimos tu número a Providencia Centro para Plataforma")
	assert.Contains(t, e.lastText(chat, 3), "Tu código: "+code+".")
	e.feed("SCL-001", e.ev("SCL-001", event.JoinRefused, event.JoinRefusal{Request: id, Service: "P", Reason: event.RefuseCapacity}))
	assert.Contains(t, e.lastText(chat, 4), "No pudimos darte un número a distancia")
}

// TestFollowWebBooking: the page's "Seguir por Telegram" link (/start with
// the booking's token) makes the chat follow a booking made on the web: it
// is told so, /mis_horas lists it, and its reminders come to the chat.
func TestFollowWebBooking(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	st := e.withBook()
	run(t, e.worker(29))
	zone, _ := time.LoadLocation("America/Santiago")
	day := time.Now().In(zone).AddDate(0, 0, 2).Format(time.DateOnly)
	start, err := time.ParseInLocation("2006-01-02 15:04", day+" 16:00", zone)
	require.NoError(t, err)
	bk, err := st.Book(context.Background(), cloud.BookRequest{Branch: "SCL-001", Service: "C", Start: start,
		RUT: rutOf(15000000), Channel: "web"})
	require.NoError(t, err)
	require.NotEmpty(t, bk.Token)
	const chat = 4003
	e.say(chat, "es", "/start "+bk.Token)
	assert.Equal(t, "Listo: te avisaremos por aquí de tu hora del "+start.In(zone).Format("02-01-2006")+" a las 16:00 (código "+
		bk.Code+"): un recordatorio el día antes y una hora antes, y tu número cuando registres tu llegada. /mis_horas para cambiarla o anularla.",
		e.lastText(chat, 1))
	e.say(chat, "es", "/mis_horas")
	assert.Contains(t, e.lastText(chat, 2), "código "+bk.Code)
	rem := notify.New(e.pool, e.keys)
	rem.Now = func() time.Time { return start.Add(-30 * time.Minute) }
	_, err = rem.QueueReminders(context.Background())
	require.NoError(t, err)
	assert.Contains(t, e.lastText(chat, 3), "Tu hora en Providencia Centro es hoy a las 16:00")
	// The token also links the ticket issued at check-in (the pending link).
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM telegram_token_links WHERE token = $1`, bk.Token))
}
