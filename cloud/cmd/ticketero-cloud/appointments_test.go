package main

import (
	"context"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/seal"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

// TestBookingReachesTheBranchWithoutTelegram: with Telegram off, a booking's
// appointment.book goes out on the branch's commands topic (real Mosquitto,
// mTLS) with its order, and the branch's appointment.received, ingested over
// MQTT, marks the booking received and the command applied. With the
// cloud's RUT keys (production) the booking stores no check-in hash: the
// command loop computes it from the sealed RUT before the first publish, and
// the order carries the same RUTCheck the branch's kiosk computes for the
// typed RUT.
func TestBookingReachesTheBranchWithoutTelegram(t *testing.T) {
	t.Setenv("TICKETERO_TELEGRAM_TOKEN", "")
	t.Setenv("TICKETERO_RUT_KEY", strings.Repeat("Ab3x", 12))
	broker := mqtttest.Start(t)
	db := pgtest.New(t)
	m := NewMain(envConfig(t, Config{DB: db, MQTT: broker.URL(), Cert: broker.Cloud.CertFile, Key: broker.Cloud.KeyFile,
		CA: broker.PKI.CAFile, HTTP: "127.0.0.1:0", Workers: 4, OpsToken: testOpsToken}), nil)
	require.NoError(t, m.Run(context.Background()))
	t.Cleanup(func() { _ = m.Close() })
	require.NotNil(t, m.appts)
	ctx := context.Background()
	const b = "APT-001"
	_, err := m.Pool.Exec(ctx, `INSERT INTO hq_services (branch, code, name, target_wait_s, mean_service_s) VALUES ($1, 'C', 'Caja', 600, 300)`, b)
	require.NoError(t, err)
	scl, _ := time.LoadLocation("America/Santiago")
	tomorrow := time.Now().In(scl).AddDate(0, 0, 1)
	require.NoError(t, m.appts.SaveSchedule(ctx, cloud.BookingSchedule{Branch: b, Service: "C", SlotMin: 30, HorizonDays: 7,
		Weekly: map[string][]cloud.BookingHours{cloud.WeekdayKey(tomorrow.Weekday()): {{From: "09:00", To: "10:00", Executives: 1}}}}, "test"))

	c := branchClient(t, broker, b)
	cmds := make(chan event.Command, 8)
	require.True(t, c.Subscribe(event.CommandsTopic(b), 1, func(_ paho.Client, msg paho.Message) {
		var cmd event.Command
		if event.DecodeMessage(msg.Topic(), msg.Payload(), &cmd) == nil {
			cmds <- cmd
		}
	}).WaitTimeout(5*time.Second))
	slots, err := m.appts.Slots(ctx, b, "C", tomorrow.Format(time.DateOnly))
	require.NoError(t, err)
	require.NotEmpty(t, slots)
	bk, err := m.appts.Book(ctx, cloud.BookRequest{Branch: b, Service: "C", Start: slots[0].Start, RUT: "12345678-5", Channel: "web"})
	require.NoError(t, err)

	var got event.Command
	select {
	case got = <-cmds:
	case <-time.After(25 * time.Second): // the loop publishes every 10 s
		t.Fatal("no appointment.book on the branch's commands topic")
	}
	assert.Equal(t, event.CommandBookAppointment, got.Type)
	require.NotNil(t, got.Appointment)
	assert.Equal(t, bk.ID, got.Appointment.Appointment)
	assert.Equal(t, bk.Code, got.Appointment.Code)
	require.NotNil(t, m.rutKeys)
	assert.Equal(t, seal.CheckInHash(b, bk.Day, "12345678-5"), got.Appointment.RUTCheck, "the kiosk checks the typed RUT in")
	rut, err := m.rutKeys.Open(got.Appointment.RUTSealed)
	require.NoError(t, err)
	assert.Equal(t, "12345678-5", rut)

	e, err := event.New(1, "apt-e1", event.AppointmentReceived, time.Now(), event.AppointmentRef{Appointment: bk.ID, Rev: 1,
		Service: "C", Day: bk.Day, Start: bk.Start, Request: got.ID})
	require.NoError(t, err)
	payload, err := event.EncodeBatch(b, []event.Event{e})
	require.NoError(t, err)
	require.True(t, c.Publish(event.EventsTopic(b), 1, false, payload).WaitTimeout(5*time.Second))
	require.Eventually(t, func() bool {
		x, err := m.appts.Booking(ctx, bk.ID, bk.Code)
		return err == nil && x.Status == cloud.BookingReceived
	}, 10*time.Second, 50*time.Millisecond)
	var st string
	require.NoError(t, m.Pool.QueryRow(ctx, `SELECT status FROM branch_commands WHERE id = $1`, got.ID).Scan(&st))
	assert.Equal(t, "applied", st)
}
