package enroll_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/appt"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

// TestReplacementKeepsRemoteTicketsAndBookings: the old box issued a remote
// ticket (the cloud's ticket.join) whose customer has not checked in, and a
// customer booked 10:00 after the box's last word (his appointment.book never
// reached it, its RUTCheck not yet computed). The box dies; the new box,
// seeded from the cloud's resume state (empty, no backup), still does not
// call the remote ticket (the walk-in behind it is called), and the booked
// customer checks in by his code at the kiosk and is due at 10:00; the cloud
// applies the check-in with no gap.
func TestReplacementKeepsRemoteTicketsAndBookings(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	scl, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	// A fixed Wednesday 09:40 at the branch for every component: the cloud,
	// both boxes and the book (no midnight in between).
	e.clk.mu.Lock()
	e.clk.t = time.Date(2026, 12, 2, 9, 40, 0, 0, scl).UTC()
	e.clk.mu.Unlock()
	now := e.clk.Now
	const branch, day, rut = "REPL-APPT", "2026-12-02", "12345678-5"
	addBranch(t, branch)
	pool := db(t)
	_, err = pool.Exec(ctx, `INSERT INTO hq_services (branch, code, name, target_wait_s, mean_service_s) VALUES ($1, 'C', 'Caja', 600, 300)`, branch)
	require.NoError(t, err)
	keys, err := seal.NewRUTKeys([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	book := appt.New(pool, keys)
	book.Now = now
	require.NoError(t, book.SaveSchedule(ctx, cloud.BookingSchedule{Branch: branch, Service: "C", SlotMin: 30, HorizonDays: 14,
		Weekly: map[string][]cloud.BookingHours{"wed": {{From: "09:00", To: "11:00", Executives: 2}}}}, "admin@hq"))

	// The branch's published configuration: remote joining open for C.
	pin, err := bcrypt.GenerateFromPassword([]byte("4321"), bcrypt.MinCost)
	require.NoError(t, err)
	rules := event.DefaultRules()
	rules.Appointments = event.AppointmentRules{Remote: map[string]event.RemoteRule{"C": {Open: true}}}
	cfg := event.Config{V: 1, Branch: branch, Version: 1, TimeZone: "America/Santiago", Services: queue.DefaultServices(),
		Counters: []queue.Counter{{Number: 1}}, Rules: rules,
		Executives: []event.ConfigExecutive{{Executive: queue.Executive{ID: "E01", Name: "Ana", Services: []string{"C", "P"}}, PINHash: string(pin)}}}
	snap, err := json.Marshal(cfg)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO hq_branch_configs (branch, version, snapshot, published_at, published_by) VALUES ($1, 1, $2, $3, 'admin@hq')`,
		branch, snap, now())
	require.NoError(t, err)

	es := postgres.NewEventStore(pool, nil)
	key := make([]byte, sqlite.KeySize)
	_, _ = rand.Read(key)
	old, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "agent.db"), Branch: branch, DataKey: key, Now: now})
	require.NoError(t, err)
	require.NoError(t, old.ApplyConfig(ctx, cfg))
	join, err := book.Join(ctx, cloud.JoinRequest{Branch: branch, Service: "C", Channel: event.ChannelWeb})
	require.NoError(t, err)
	cmds, err := appt.NewCommandQueue(pool, now, keys).PendingCommands(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, cmds, 1)
	require.NoError(t, old.ApplyCommand(ctx, cmds[0]))
	walkIn, _, err := old.Issue(ctx, agent.TicketRequest{Service: "C", Channel: "kiosk"})
	require.NoError(t, err)
	publish(t, old, es, branch)
	var remote string
	require.NoError(t, pool.QueryRow(ctx, `SELECT ticket FROM appt_joins WHERE id = $1 AND status = 'issued'`, join.ID).Scan(&remote))
	booking, err := book.Book(ctx, cloud.BookRequest{Branch: branch, Service: "C", Start: time.Date(2026, 12, 2, 10, 0, 0, 0, scl),
		RUT: rut, Channel: event.ChannelWeb, Note: "Traigo boletas"})
	require.NoError(t, err)
	require.NoError(t, old.Close()) // the box dies before the booking reaches it

	e.store.Keys = keys
	newDir, res := enrolReplacement(t, e, branch)
	require.Len(t, res.Resume.Open, 2)
	got := res.Resume.Open[0]
	assert.Equal(t, remote, got.ID)
	assert.Equal(t, join.ID, got.Join)
	assert.True(t, got.Unchecked(), "the cloud knows its customer has not checked in")
	assert.Equal(t, join.Code, got.Code)
	require.Len(t, res.Resume.Bookings, 1)
	b := res.Resume.Bookings[0]
	assert.Equal(t, booking.ID, b.Appointment)
	assert.Equal(t, booking.Code, b.Code)
	assert.Equal(t, seal.CheckInHash(branch, day, rut), b.RUTCheck, "the check the command queue had not computed yet")

	path := filepath.Join(newDir, "agent.db")
	rep, err := sqlite.SeedResume(ctx, path, branch, sqlite.ResumeSeedOf(*res.Resume))
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Recreated)
	assert.Equal(t, 1, rep.Bookings)
	box, err := sqlite.Open(ctx, sqlite.Config{Path: path, Branch: branch, DataKey: key, Now: now})
	require.NoError(t, err)
	defer box.Close()
	require.NoError(t, box.ApplyConfig(ctx, cfg))

	tok, _, err := box.Login(ctx, "E01", "4321", 1, "10.0.0.1")
	require.NoError(t, err)
	next, err := box.CallNext(ctx, tok, 1)
	require.NoError(t, err)
	require.NotNil(t, next)
	assert.Equal(t, walkIn.ID, next.ID, "the unchecked remote ticket ahead is not called")
	rt, err := box.Ticket(ctx, remote)
	require.NoError(t, err)
	assert.True(t, rt.Unchecked)
	assert.Equal(t, queue.StatusWaiting, rt.Status)

	in, err := box.CheckIn(ctx, booking.Code, "")
	require.NoError(t, err, "the booked customer checks in by his code on the new box")
	require.NotNil(t, in.Appointment)
	assert.Equal(t, booking.ID, in.Appointment.ID)
	assert.False(t, in.Late)
	assert.True(t, in.Ticket.Due.Equal(time.Date(2026, 12, 2, 10, 0, 0, 0, scl)), "due at his hour")
	publish(t, box, es, branch)
	var status string
	require.NoError(t, pool.QueryRow(ctx, `SELECT status FROM appt_bookings WHERE id = $1`, booking.ID).Scan(&status))
	assert.Equal(t, "checked_in", status)
}
