package appt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/commands"
	"github.com/ticketero/ticketero/cloud/postgres/appt"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

var dsn string

func TestMain(m *testing.M) { os.Exit(hqtest.Main(m, "appt", func(u string) { dsn = u })) }

var scl, _ = time.LoadLocation("America/Santiago")

// now is the store's clock in these tests: Tuesday 2026-12-01 12:00 in
// Santiago; the schedules book Wednesday 2026-12-02.
var now = time.Date(2026, 12, 1, 12, 0, 0, 0, scl)

const day = "2026-12-02"

func at(hhmm string) time.Time {
	t, _ := time.ParseInLocation("2006-01-02 15:04", day+" "+hhmm, scl)
	return t
}

type env struct {
	t     *testing.T
	pool  *pgxpool.Pool
	store *appt.Store
	keys  *seal.RUTKeys
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pool := hqtest.MustPool(t, dsn)
	keys, err := seal.NewRUTKeys([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	s := appt.New(pool, keys)
	s.Now = func() time.Time { return now }
	return &env{t: t, pool: pool, store: s, keys: keys}
}

// branch makes a branch with service C scheduled on Wednesdays 09:00-11:00 in
// 30-minute slots with executives and reserve.
func (e *env) branch(id string, executives, reserve int) {
	e.t.Helper()
	ctx := context.Background()
	_, err := e.pool.Exec(ctx, `INSERT INTO branches (id, name, region) VALUES ($1, 'Sucursal '||$1, 'RM')`, id)
	require.NoError(e.t, err)
	_, err = e.pool.Exec(ctx, `INSERT INTO hq_services (branch, code, name, target_wait_s, mean_service_s) VALUES ($1, 'C', 'Caja', 600, 300)`, id)
	require.NoError(e.t, err)
	require.NoError(e.t, e.store.SaveSchedule(ctx, cloud.BookingSchedule{Branch: id, Service: "C", SlotMin: 30,
		ReservePct: reserve, HorizonDays: 14,
		Weekly: map[string][]cloud.BookingHours{"wed": {{From: "09:00", To: "11:00", Executives: executives}}}}, "admin@hq"))
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.pool.QueryRow(context.Background(), q, args...).Scan(&n))
	return n
}

func req(branch, start, rut string) cloud.BookRequest {
	return cloud.BookRequest{Branch: branch, Service: "C", Start: at(start), RUT: rut, Channel: event.ChannelWeb, Note: "Traigo boletas"}
}

func TestSlotsCapacityIsExecutivesLessReserveLessBookings(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.branch("CAP-1", 3, 30) // floor(3 × 0.7) = 2 places per slot
	slots, err := e.store.Slots(ctx, "CAP-1", "C", day)
	require.NoError(t, err)
	require.Len(t, slots, 4)
	assert.Equal(t, at("09:00"), slots[0].Start.In(scl))
	assert.Equal(t, at("09:30"), slots[0].End.In(scl))
	for _, s := range slots {
		assert.Equal(t, 2, s.Free)
	}
	_, err = e.store.Book(ctx, req("CAP-1", "09:30", "12345678-5"))
	require.NoError(t, err)
	_, err = e.store.Book(ctx, req("CAP-1", "09:30", "11111111-1"))
	require.NoError(t, err)
	_, err = e.store.Book(ctx, req("CAP-1", "09:30", "22222222-2"))
	assert.ErrorIs(t, err, cloud.ErrSlotFull)
	slots, err = e.store.Slots(ctx, "CAP-1", "C", day)
	require.NoError(t, err)
	assert.Equal(t, []int{2, 0, 2, 2}, []int{slots[0].Free, slots[1].Free, slots[2].Free, slots[3].Free})

	// A reserve of 100 %, a day without hours, a slot not on the grid, an
	// unscheduled service, a past slot.
	e.branch("CAP-2", 2, 100)
	slots, err = e.store.Slots(ctx, "CAP-2", "C", day)
	require.NoError(t, err)
	assert.Zero(t, slots[0].Free)
	slots, err = e.store.Slots(ctx, "CAP-1", "C", "2026-12-03")
	require.NoError(t, err)
	assert.Empty(t, slots)
	_, err = e.store.Book(ctx, cloud.BookRequest{Branch: "CAP-1", Service: "C", Start: at("09:10"), RUT: "12345678-5", Channel: "web"})
	assert.ErrorIs(t, err, cloud.ErrNotBookable)
	_, err = e.store.Slots(ctx, "CAP-1", "D", day)
	assert.ErrorIs(t, err, cloud.ErrNotBookable)
	_, err = e.store.Book(ctx, cloud.BookRequest{Branch: "CAP-1", Service: "C", Start: now.Add(-time.Hour), RUT: "12345678-5", Channel: "web"})
	assert.ErrorIs(t, err, cloud.ErrTooLate)
	// Bad input: nothing written.
	_, err = e.store.Book(ctx, req("CAP-1", "10:00", "12345678-0"))
	require.Error(t, err)
	assert.Equal(t, 2, e.count(`SELECT count(*) FROM appt_bookings WHERE branch = 'CAP-1'`))

	// An exception closes the day.
	require.NoError(t, e.store.SaveSchedule(ctx, cloud.BookingSchedule{Branch: "CAP-2", Service: "C", SlotMin: 30, ReservePct: 0,
		HorizonDays: 14, Weekly: map[string][]cloud.BookingHours{"wed": {{From: "09:00", To: "11:00", Executives: 2}}},
		Exceptions: []cloud.BookingException{{Day: day, Note: "Feriado"}}}, "admin@hq"))
	slots, err = e.store.Slots(ctx, "CAP-2", "C", day)
	require.NoError(t, err)
	assert.Empty(t, slots)
}

func TestBookRaceForTheLastPlace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.branch("RACE-1", 1, 0) // one place per slot
	ruts := []string{"12345678-5", "11111111-1", "22222222-2", "33333333-3", "44444444-4", "55555555-5",
		"66666666-6", "77777777-7", "88888888-8", "99999999-9", "10000000-8", "20000000-5"}
	var wg sync.WaitGroup
	errs := make([]error, len(ruts))
	start := make(chan struct{})
	for i, r := range ruts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = e.store.Book(ctx, req("RACE-1", "10:00", r))
		}()
	}
	close(start)
	wg.Wait()
	won, full := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, cloud.ErrSlotFull):
			full++
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	assert.Equal(t, 1, won)
	assert.Equal(t, len(ruts)-1, full)
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM appt_bookings WHERE branch = 'RACE-1'`))
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM branch_commands WHERE branch = 'RACE-1'`))
}

func TestOneBookingPerRUTAndDayAndUniqueCodes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.branch("RUT-1", 10, 0)
	b, err := e.store.Book(ctx, req("RUT-1", "09:00", "12.345.678-5"))
	require.NoError(t, err)
	assert.Len(t, b.Code, 6)
	assert.Equal(t, day, b.Day)
	_, err = e.store.Book(ctx, req("RUT-1", "10:00", "12345678-5"))
	assert.ErrorIs(t, err, cloud.ErrAlreadyBooked)
	// The same RUT books concurrently in several slots: one booking.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ok int
	for _, s := range []string{"09:30", "10:00", "10:30"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.store.Book(ctx, req("RUT-1", s, "11111111-1")); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else {
				assert.ErrorIs(t, err, cloud.ErrAlreadyBooked)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, ok)
	codes := map[string]bool{b.Code: true}
	for i := range 8 {
		x, err := e.store.Book(ctx, req("RUT-1", "10:30", rut(30000000+i)))
		require.NoError(t, err)
		assert.False(t, codes[x.Code], "codes unique per branch and day")
		codes[x.Code] = true
	}
	// Neither the RUT nor its check hash is stored in clear.
	assert.Zero(t, e.count(`SELECT count(*) FROM appt_bookings WHERE rut_hash LIKE '%12345678%' OR rut_sealed LIKE '%12345678%'`))
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM appt_bookings WHERE branch = 'RUT-1' AND rut_hash = $1`, e.keys.Hash("12345678-5")))
}

// rut is a valid RUT of body.
func rut(body int) string { return fmt.Sprintf("%d-%c", body, queue.CheckDigit(body)) }

type recorder struct {
	mu   sync.Mutex
	cmds []event.Command
}

func (r *recorder) PublishCommand(_ context.Context, c event.Command) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cmds = append(r.cmds, c)
	return nil
}

// of is what was published to branch (the tests share one database).
func (r *recorder) of(branch string) []event.Command {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []event.Command
	for _, c := range r.cmds {
		if c.Branch == branch {
			out = append(out, c)
		}
	}
	return out
}

func TestProofRescheduleCancelAndCommandQueue(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.branch("PRF-1", 2, 0)
	b, err := e.store.Book(ctx, req("PRF-1", "09:00", "12345678-5"))
	require.NoError(t, err)
	got, err := e.store.Booking(ctx, b.ID, b.Code)
	require.NoError(t, err)
	assert.Equal(t, cloud.BookingBooked, got.Status)
	assert.Equal(t, "Traigo boletas", got.Note)
	_, err = e.store.Booking(ctx, b.ID, "000000")
	if b.Code != "000000" {
		assert.ErrorIs(t, err, cloud.ErrAppointmentNotFound)
	}

	// The booking stored no check-in hash (argon2id is off the request path):
	// the order waits for it with its day, and a queue without the cloud's
	// keys never publishes it without one.
	rutCheck := `SELECT count(*) FROM branch_commands WHERE branch = 'PRF-1' AND payload->'appointment' ? 'rut_check'`
	assert.Zero(t, e.count(rutCheck))
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM branch_commands WHERE branch = 'PRF-1' AND payload->>'check_day' = $1`, day))
	keyless, err := appt.NewCommandQueue(e.pool, e.store.Now, nil).PendingCommands(ctx, 0, 1000)
	require.NoError(t, err)
	for _, c := range keyless {
		assert.NotEqual(t, "PRF-1", c.Branch, "published without its RUTCheck")
	}

	// The command goes out with its order and again until answered; the
	// check computed at the first publish is kept on the row.
	pub := &recorder{}
	require.NoError(t, commands.Republish(ctx, e.store, pub, time.Hour))
	assert.Equal(t, 1, e.count(rutCheck))
	assert.Zero(t, e.count(`SELECT count(*) FROM branch_commands WHERE branch = 'PRF-1' AND payload ? 'check_day'`))
	require.Len(t, pub.of("PRF-1"), 1)
	c := pub.of("PRF-1")[0]
	assert.Equal(t, event.CommandBookAppointment, c.Type)
	assert.Equal(t, "PRF-1", c.Branch)
	assert.Empty(t, c.Ticket)
	require.NotNil(t, c.Appointment)
	require.NoError(t, c.Appointment.Validate())
	assert.Equal(t, b.ID, c.Appointment.Appointment)
	assert.Equal(t, b.Code, c.Appointment.Code)
	assert.Equal(t, 1, c.Appointment.Rev)
	assert.Equal(t, seal.CheckInHash("PRF-1", day, "12345678-5"), c.Appointment.RUTCheck)
	opened, err := e.keys.Open(c.Appointment.RUTSealed)
	require.NoError(t, err)
	assert.Equal(t, "12345678-5", opened)
	require.NoError(t, commands.Republish(ctx, e.store, pub, time.Hour))
	assert.Len(t, pub.of("PRF-1"), 1, "published within the hour: not again")
	require.NoError(t, commands.Republish(ctx, e.store, pub, 0))
	require.Len(t, pub.of("PRF-1"), 2, "pending: published again")
	assert.Equal(t, c.ID, pub.of("PRF-1")[1].ID)

	// Proof: wrong RUT or code is not found; the right one moves it.
	_, err = e.store.Reschedule(ctx, b.ID, b.Code, "11111111-1", at("10:00"))
	assert.ErrorIs(t, err, cloud.ErrAppointmentNotFound)
	_, err = e.store.Cancel(ctx, b.ID, "999999", "12345678-5")
	assert.ErrorIs(t, err, cloud.ErrAppointmentNotFound)
	moved, err := e.store.Reschedule(ctx, b.ID, b.Code, "12345678-5", at("10:00"))
	require.NoError(t, err)
	assert.Equal(t, 2, moved.Rev)
	assert.Equal(t, b.Code, moved.Code, "same day: same code")
	assert.Equal(t, at("10:00"), moved.Start.In(scl))
	pending, err := e.store.PendingCommands(ctx, 0, 1000)
	require.NoError(t, err)
	var mine []event.Command
	for _, p := range pending {
		if p.Branch == "PRF-1" {
			mine = append(mine, p)
		}
	}
	require.Len(t, mine, 1, "the reschedule replaces the pending book")
	assert.Equal(t, 2, mine[0].Appointment.Rev)
	assert.Equal(t, seal.CheckInHash("PRF-1", day, "12345678-5"), mine[0].Appointment.RUTCheck)

	cancelled, err := e.store.Cancel(ctx, b.ID, b.Code, "12345678-5")
	require.NoError(t, err)
	assert.Equal(t, cloud.BookingCancelled, cancelled.Status)
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM branch_commands WHERE branch = 'PRF-1' AND status = 'pending' AND type = 'appointment.cancel'`))
	assert.Zero(t, e.count(`SELECT count(*) FROM branch_commands WHERE branch = 'PRF-1' AND status = 'pending' AND type = 'appointment.book'`))
	_, err = e.store.Cancel(ctx, b.ID, b.Code, "12345678-5")
	assert.ErrorIs(t, err, cloud.ErrTooLate)
	// The place is free again, and the RUT may book again.
	_, err = e.store.Book(ctx, req("PRF-1", "10:00", "12345678-5"))
	require.NoError(t, err)
}

func TestJoinAndCheckInQueueCommands(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.branch("JN-1", 1, 0)
	_, err := e.store.Join(ctx, cloud.JoinRequest{Branch: "JN-1", Service: "C", Channel: event.ChannelWeb})
	assert.ErrorIs(t, err, cloud.ErrRemoteClosed, "no published rule opens it")
	_, err = e.pool.Exec(ctx, `INSERT INTO hq_branch_configs (branch, version, snapshot, published_at, published_by)
		VALUES ('JN-1', 1, '{"rules":{"appointments":{"remote":{"C":{"open":true,"cap":5}}}}}', now(), 'admin')`)
	require.NoError(t, err)
	j, err := e.store.Join(ctx, cloud.JoinRequest{Branch: "JN-1", Service: "C", Channel: event.ChannelWeb, RUT: "12345678-5"})
	require.NoError(t, err)
	assert.Equal(t, cloud.JoinPending, j.Status)
	pub := &recorder{}
	require.NoError(t, commands.Republish(ctx, e.store, pub, 0))
	var join *event.Command
	for i := range pub.cmds {
		if pub.cmds[i].Type == event.CommandJoinQueue && pub.cmds[i].Branch == "JN-1" {
			join = &pub.cmds[i]
		}
	}
	require.NotNil(t, join)
	assert.Equal(t, j.ID, join.ID)
	require.NotNil(t, join.Join)
	require.NoError(t, join.Join.Validate())
	assert.Equal(t, j.Code, join.Join.Code)
	assert.Equal(t, seal.CheckInHash("JN-1", "2026-12-01", "12345678-5"), join.Join.RUTCheck)

	bb, err := e.store.BookableBranches(ctx)
	require.NoError(t, err)
	var found bool
	for _, b := range bb {
		if b.ID == "JN-1" {
			found = true
			require.Len(t, b.Services, 1)
			assert.True(t, b.Services[0].Bookable)
			assert.True(t, b.Services[0].Remote)
		}
	}
	assert.True(t, found)

	// Not issued yet: no check-in.
	tok, err := e.store.CheckInToken(ctx, "JN-1")
	require.NoError(t, err)
	tok2, err := e.store.CheckInToken(ctx, "JN-1")
	require.NoError(t, err)
	assert.Equal(t, tok, tok2)
	_, err = e.store.CheckIn(ctx, j.ID, j.Code, tok)
	assert.ErrorIs(t, err, cloud.ErrTooLate)
	_, err = e.pool.Exec(ctx, `UPDATE appt_joins SET status = 'issued', ticket = 't-1' WHERE id = $1`, j.ID)
	require.NoError(t, err)
	_, err = e.store.CheckIn(ctx, j.ID, j.Code, "wrong")
	assert.ErrorIs(t, err, cloud.ErrAppointmentNotFound)
	_, err = e.store.CheckIn(ctx, j.ID, j.Code, tok)
	require.NoError(t, err)
	_, err = e.store.CheckIn(ctx, j.ID, j.Code, tok)
	require.NoError(t, err)
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM branch_commands WHERE branch = 'JN-1' AND type = 'ticket.check_in' AND ticket = 't-1' AND status = 'pending'`))

	// A join nobody answers expires after ten minutes: refused, unreachable.
	j2, err := e.store.Join(ctx, cloud.JoinRequest{Branch: "JN-1", Service: "C", Channel: "telegram"})
	require.NoError(t, err)
	e.store.Now = func() time.Time { return now.Add(11 * time.Minute) }
	require.NoError(t, e.store.ExpireCommands(ctx, 24*time.Hour))
	got, err := e.store.RemoteJoin(ctx, j2.ID, j2.Code)
	require.NoError(t, err)
	assert.Equal(t, cloud.JoinRefused, got.Status)
	assert.Equal(t, cloud.JoinUnreachable, got.Reason)
	// The bookings' commands live until their slot is long past.
	assert.NotZero(t, e.count(`SELECT count(*) FROM branch_commands WHERE branch = 'JN-1' AND type = 'ticket.check_in' AND status = 'pending'`))
}

// Without the cloud's RUT keys (a development setup) there is no sealed RUT
// to open later: the booking computes the check-in hash itself, keeps it as
// the RUT's pseudonym, and the order is published with it.
func TestWithoutRUTKeysTheBookingComputesTheCheck(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.branch("DEV-1", 1, 0)
	s := appt.New(e.pool, nil)
	s.Now = e.store.Now
	b, err := s.Book(ctx, req("DEV-1", "09:00", "12345678-5"))
	require.NoError(t, err)
	assert.Equal(t, 1, e.count(`SELECT count(*) FROM appt_bookings WHERE id = $1 AND rut_hash = $2 AND rut_sealed = ''`,
		b.ID, "chk:"+seal.CheckInHash("DEV-1", day, "12345678-5")))
	pending, err := appt.NewCommandQueue(e.pool, s.Now, nil).PendingCommands(ctx, 0, 1000)
	require.NoError(t, err)
	var got *event.Command
	for i := range pending {
		if pending[i].Branch == "DEV-1" {
			got = &pending[i]
		}
	}
	require.NotNil(t, got)
	assert.Equal(t, seal.CheckInHash("DEV-1", day, "12345678-5"), got.Appointment.RUTCheck)
	_, err = s.Cancel(ctx, b.ID, b.Code, "12345678-5")
	require.NoError(t, err, "the proof is the check-in hash")
}

// A burst of commands goes out in consecutive passes: a pass that fills its
// batch (200) is followed by the next at once, not at the next tick.
func TestRunPublishesABurstWithoutWaitingForTheTick(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := e.pool.Exec(ctx, `INSERT INTO branch_commands (id, branch, type, ticket, created_at)
		SELECT 'burst-' || i, 'BURST-1', 'ticket.cancel', 'T' || i, $1 FROM generate_series(1, 450) i`, now)
	require.NoError(t, err)
	pub := &recorder{}
	done := make(chan struct{})
	go func() { commands.Run(ctx, e.store, pub, time.Hour, nil); close(done) }()
	require.Eventually(t, func() bool { return len(pub.of("BURST-1")) == 450 }, 30*time.Second, 20*time.Millisecond,
		"the tick is an hour away")
	cancel()
	<-done
	assert.Len(t, pub.of("BURST-1"), 450, "each once")
}
