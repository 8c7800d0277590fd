package appt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// dayPlan is a service's schedule on one day with the active bookings per
// slot start, read in one statement.
type dayPlan struct {
	loc        *time.Location
	slotMin    int
	reservePct int
	horizon    int
	hours      []cloud.BookingHours
	booked     map[time.Time]int
}

// loadDay reads the schedule of branch's service on day (YYYY-MM-DD, branch
// time) and the day's active bookings per slot: one round trip. No schedule:
// cloud.ErrNotBookable.
func loadDay(ctx context.Context, q querier, branch, service, day string) (dayPlan, error) {
	var p dayPlan
	var weekly, exc []byte
	var tz string
	var starts []time.Time
	var counts []int32
	err := q.QueryRow(ctx, `SELECT s.slot_min, s.reserve_pct, s.horizon_days, s.weekly, e.hours,
			COALESCE((SELECT time_zone FROM branches WHERE id = s.branch), 'America/Santiago'),
			COALESCE(c.starts, '{}'), COALESCE(c.counts, '{}')
		FROM appt_schedules s
		LEFT JOIN appt_exceptions e ON e.branch = s.branch AND e.service = s.service AND e.day = $3::date
		LEFT JOIN LATERAL (SELECT array_agg(start_at) AS starts, array_agg(n) AS counts FROM (
			SELECT start_at, count(*)::int AS n FROM appt_bookings b
			WHERE b.branch = s.branch AND b.service = s.service AND b.day = $3::date AND b.status IN `+active+`
			GROUP BY start_at) x) c ON true
		WHERE s.branch = $1 AND s.service = $2`, branch, service, day).
		Scan(&p.slotMin, &p.reservePct, &p.horizon, &weekly, &exc, &tz, &starts, &counts)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, cloud.ErrNotBookable
	}
	if err != nil {
		return p, fmt.Errorf("appt: schedule: %w", err)
	}
	if p.loc, err = location(tz); err != nil {
		return p, fmt.Errorf("appt: time zone: %w", err)
	}
	if exc != nil {
		if err := json.Unmarshal(exc, &p.hours); err != nil {
			return p, fmt.Errorf("appt: exception hours: %w", err)
		}
	} else {
		var w map[string][]cloud.BookingHours
		if err := json.Unmarshal(weekly, &w); err != nil {
			return p, fmt.Errorf("appt: weekly hours: %w", err)
		}
		d, err := time.Parse(time.DateOnly, day)
		if err != nil {
			return p, cloud.ErrNotBookable
		}
		p.hours = w[cloud.WeekdayKey(d.Weekday())]
	}
	p.booked = make(map[time.Time]int, len(starts))
	for i, st := range starts {
		p.booked[st.UTC()] = int(counts[i])
	}
	return p, nil
}

// open reports whether day is within the bookable horizon from now.
func (p dayPlan) open(day string, now time.Time) bool {
	d, err := time.ParseInLocation(time.DateOnly, day, p.loc)
	if err != nil {
		return false
	}
	today, _ := time.ParseInLocation(time.DateOnly, now.In(p.loc).Format(time.DateOnly), p.loc)
	return !d.Before(today) && d.Before(today.AddDate(0, 0, p.horizon+1))
}

// Slots lists the bookable slots of a branch's service on day that have not
// started yet, full ones with Free 0: one statement, shared by every caller
// of the same day within slotsTTL (and by those who ask while it runs).
func (s *Store) Slots(ctx context.Context, branch, service, day string) ([]cloud.Slot, error) {
	if !queue.ValidServiceCode(service) {
		return nil, cloud.ErrNotBookable
	}
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return nil, queue.Errorf(queue.CodeInvalid, "appointment.day", day)
	}
	now := s.Now()
	key := slotKey{branch, service, day}
	s.mu.Lock()
	if e, ok := s.slots[key]; ok && now.Sub(e.at) < slotsTTL && now.Sub(e.at) >= 0 {
		s.mu.Unlock()
		return slices.Clone(e.slots), nil
	}
	if f, ok := s.filling[key]; ok {
		s.mu.Unlock()
		select {
		case <-f.done:
			return slices.Clone(f.slots), f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &fill{done: make(chan struct{})}
	if s.filling == nil {
		s.filling = map[slotKey]*fill{}
	}
	s.filling[key] = f
	s.mu.Unlock()
	f.slots, f.err = s.readSlots(ctx, branch, service, day, now)
	s.mu.Lock()
	delete(s.filling, key)
	if f.err == nil {
		if s.slots == nil || len(s.slots) > 10_000 {
			s.slots = map[slotKey]slotEntry{}
		}
		s.slots[key] = slotEntry{at: now, slots: f.slots}
	}
	s.mu.Unlock()
	close(f.done)
	return slices.Clone(f.slots), f.err
}

// readSlots reads a day's slots from the database.
func (s *Store) readSlots(ctx context.Context, branch, service, day string, now time.Time) ([]cloud.Slot, error) {
	p, err := loadDay(ctx, s.pool, branch, service, day)
	if err != nil {
		return nil, err
	}
	if !p.open(day, now) {
		return []cloud.Slot{}, nil
	}
	plan, err := cloud.DaySlots(p.hours, day, p.loc, p.slotMin, p.reservePct)
	if err != nil {
		return nil, err
	}
	out := make([]cloud.Slot, 0, len(plan))
	for _, sl := range plan {
		if !sl.Start.After(now) {
			continue
		}
		out = append(out, cloud.Slot{Start: sl.Start, End: sl.End, Free: max(0, sl.Places-p.booked[sl.Start.UTC()])})
	}
	return out, nil
}

// forget drops the cached slots of a day whose bookings changed (after the
// commit, so no read can refill it with what went before).
func (s *Store) forget(branch, service, day string) {
	s.mu.Lock()
	delete(s.slots, slotKey{branch, service, day})
	s.mu.Unlock()
}

// slotIn finds the slot that starts at start in p (ErrNotBookable).
func (p dayPlan) slotIn(day string, start time.Time) (cloud.SlotPlan, error) {
	plan, err := cloud.DaySlots(p.hours, day, p.loc, p.slotMin, p.reservePct)
	if err != nil {
		return cloud.SlotPlan{}, err
	}
	for _, sl := range plan {
		if sl.Start.Equal(start) {
			if sl.Places <= 0 {
				return sl, cloud.ErrSlotFull
			}
			return sl, nil
		}
	}
	return cloud.SlotPlan{}, cloud.ErrNotBookable
}

// The statements of a booking's place: the slot's row lock, its active
// bookings but one, the RUT's active booking that day but one, and a
// check-in code (no row when taken).
const (
	lockSlot = `INSERT INTO appt_slot_locks (branch, service, start_at) VALUES ($1, $2, $3)
		ON CONFLICT (branch, service, start_at) DO UPDATE SET locked_at = now()`
	countSlot = `SELECT count(*) FROM appt_bookings
		WHERE branch = $1 AND service = $2 AND start_at = $3 AND status IN ` + active + ` AND id <> $4`
	holdsRUT = `SELECT EXISTS (SELECT 1 FROM appt_bookings WHERE branch = $1 AND day = $2::date
		AND rut_hash = $3 AND status IN ` + active + ` AND id <> $4)`
	insertCode = `INSERT INTO appt_codes (branch, day, code, ref) VALUES ($1, $2::date, $3, $4)
		ON CONFLICT (branch, day, code) DO UPDATE SET ref = EXCLUDED.ref WHERE appt_codes.ref = EXCLUDED.ref
		RETURNING code`
)

// takePlace locks the slot's row and checks a place is free in it; except
// is a booking not to count (the one being moved). ErrSlotFull when none.
func takePlace(ctx context.Context, tx pgx.Tx, branch, service string, sl cloud.SlotPlan, except string) error {
	if _, err := tx.Exec(ctx, lockSlot, branch, service, sl.Start); err != nil {
		return fmt.Errorf("appt: lock slot: %w", err)
	}
	// Read committed: this statement's snapshot is taken after the lock, so
	// it sees the bookings of whoever held it before.
	var n int
	if err := tx.QueryRow(ctx, countSlot, branch, service, sl.Start, except).Scan(&n); err != nil {
		return fmt.Errorf("appt: count slot: %w", err)
	}
	if n >= sl.Places {
		return cloud.ErrSlotFull
	}
	return nil
}

// validRequest checks a booking request's fields.
func validRequest(r cloud.BookRequest) (string, error) {
	if !queue.ValidServiceCode(r.Service) || r.Branch == "" || len(r.Branch) > 64 {
		return "", cloud.ErrNotBookable
	}
	if !queue.ValidText(r.Note, queue.MaxText) {
		return "", queue.Errorf(queue.CodeInvalid, "appointment.note", queue.MaxText)
	}
	if !validChannel(r.Channel) {
		return "", queue.Errorf(queue.CodeInvalid, "appointment.channel", r.Channel)
	}
	return normRUT(r.RUT)
}

func validChannel(c string) bool { return c == event.ChannelWeb || c == "telegram" }

// Book stores a booking if its slot has a place, and queues appointment.book,
// in one transaction.
func (s *Store) Book(ctx context.Context, r cloud.BookRequest) (cloud.Booking, error) {
	rut, err := validRequest(r)
	if err != nil {
		return cloud.Booking{}, err
	}
	now := s.Now()
	if !r.Start.After(now) {
		return cloud.Booking{}, cloud.ErrTooLate
	}
	loc, err := s.zone(ctx, r.Branch)
	if err != nil {
		return cloud.Booking{}, err
	}
	day := r.Start.In(loc).Format(time.DateOnly)
	hash, sealed, check, err := s.rutPseudonyms(ctx, r.Branch, day, rut)
	if err != nil {
		return cloud.Booking{}, err
	}
	b := cloud.Booking{ID: s.NewID("ap-"), Branch: r.Branch, Service: r.Service, Day: day, Rev: 1,
		Status: cloud.BookingBooked, Note: r.Note, Channel: r.Channel, CreatedAt: now}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		p, err := loadDay(ctx, tx, r.Branch, r.Service, day)
		if err != nil {
			return err
		}
		if !p.open(day, now) {
			return cloud.ErrNotBookable
		}
		sl, err := p.slotIn(day, r.Start)
		if err != nil {
			return err
		}
		b.Start, b.End = sl.Start, sl.End
		// The slot's lock, its count, the RUT's other booking that day and
		// a check-in code in one round trip: pipelined statements still run
		// one after the other, each with its own snapshot (read committed),
		// so the count sees the bookings of whoever held the lock before.
		var n int
		var held bool
		var code string
		br := tx.SendBatch(ctx, &pgx.Batch{QueuedQueries: []*pgx.QueuedQuery{
			{SQL: lockSlot, Arguments: []any{r.Branch, r.Service, sl.Start}},
			{SQL: countSlot, Arguments: []any{r.Branch, r.Service, sl.Start, ""}},
			{SQL: holdsRUT, Arguments: []any{r.Branch, day, hash, ""}},
			{SQL: insertCode, Arguments: []any{r.Branch, day, newCode(), b.ID}},
		}})
		_, err = br.Exec()
		if err == nil {
			err = br.QueryRow().Scan(&n)
		}
		if err == nil {
			err = br.QueryRow().Scan(&held)
		}
		if err == nil {
			if err = br.QueryRow().Scan(&code); errors.Is(err, pgx.ErrNoRows) {
				code, err = "", nil // taken: reserveCode tries others below
			}
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		switch {
		case err != nil:
			return fmt.Errorf("appt: take place: %w", err)
		case n >= sl.Places:
			return cloud.ErrSlotFull
		case held:
			return cloud.ErrAlreadyBooked
		}
		if code == "" {
			if code, err = reserveCode(ctx, tx, r.Branch, day, b.ID, ""); err != nil {
				return err
			}
		}
		b.Code = code
		// Every booking has a follow token: a web customer's t.me link
		// (cloud/booking) links his chat to it like a ticket's QR.
		t := newToken()
		token := &t
		b.Token = t
		cmd := s.bookCommand(b, check, sealed, token)
		pl, err := json.Marshal(payload{Appointment: cmd.Appointment, CheckDay: checkLater(check, sealed, day)})
		if err != nil {
			return err
		}
		// The booking, its command and the chat's link: one round trip.
		batch := &pgx.Batch{}
		ins := batch.Queue(`INSERT INTO appt_bookings (id, branch, service, start_at, end_at, day, rev, code,
				note, channel, rut_hash, rut_sealed, chat, token, command, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6::date, 1, $7, $8, $9, $10, $11, NULLIF($12, 0::bigint), $13, $14, $15, $15)
			ON CONFLICT DO NOTHING`,
			b.ID, b.Branch, b.Service, b.Start, b.End, day, b.Code, b.Note, b.Channel, hash, sealed, r.Chat, token, cmd.ID, now)
		var inserted int64
		ins.Exec(func(tag pgconn.CommandTag) error { inserted = tag.RowsAffected(); return nil })
		batch.Queue(insertCommand, cmd.ID, cmd.Branch, cmd.Type, b.ID, cmd.At, pl, b.End.Add(bookExpiry))
		if r.Chat != 0 {
			batch.Queue(`INSERT INTO telegram_token_links (token, chat_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, t, r.Chat)
		}
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return fmt.Errorf("appt: insert booking: %w", err)
		}
		if inserted == 0 {
			return cloud.ErrAlreadyBooked // a concurrent booking of the same RUT won
		}
		return nil
	})
	if err != nil {
		return cloud.Booking{}, err
	}
	s.forget(b.Branch, b.Service, b.Day)
	return b, nil
}

// checkLater is the day whose RUTCheck the command queue computes from the
// sealed RUT ("" when the order has its check already).
func checkLater(check, sealed, day string) string {
	if check != "" || sealed == "" {
		return ""
	}
	return day
}

// holdsBooking reports whether the RUT holds an active booking at branch on
// day other than except.
func holdsBooking(ctx context.Context, tx pgx.Tx, branch, day, hash, except string) (bool, error) {
	var held bool
	err := tx.QueryRow(ctx, holdsRUT, branch, day, hash, except).Scan(&held)
	if err != nil {
		return false, fmt.Errorf("appt: rut booking: %w", err)
	}
	return held, nil
}

// bookCommand is the appointment.book of b.
func (s *Store) bookCommand(b cloud.Booking, check, sealed string, token *string) event.Command {
	o := &event.AppointmentOrder{Appointment: b.ID, Rev: b.Rev, Service: b.Service, Start: b.Start, End: b.End,
		Code: b.Code, RUTCheck: check, Note: b.Note, RUTSealed: sealed}
	if token != nil {
		o.Token = *token
	}
	return event.Command{V: event.Version, Branch: b.Branch, ID: s.NewID("ac-"), Type: event.CommandBookAppointment,
		At: s.Now(), Appointment: o}
}

const bookingCols = `id, branch, service, start_at, end_at, to_char(day, 'YYYY-MM-DD'), rev, code, status, reason,
	note, channel, COALESCE(ticket, ''), COALESCE(printed, ''), late, checked_at, created_at, cancelled_by,
	rut_hash, rut_sealed, token`

// row is a booking with what the store keeps beside it.
type row struct {
	cloud.Booking
	cancelledBy string
	rutHash     string
	rutSealed   string
	token       *string
}

func scanBooking(r pgx.Row) (row, error) {
	var b row
	var checked *time.Time
	err := r.Scan(&b.ID, &b.Branch, &b.Service, &b.Start, &b.End, &b.Day, &b.Rev, &b.Code, &b.Status, &b.Reason,
		&b.Note, &b.Channel, &b.Ticket, &b.Printed, &b.Late, &checked, &b.CreatedAt, &b.cancelledBy,
		&b.rutHash, &b.rutSealed, &b.token)
	b.CheckedAt = orZero(checked)
	if b.token != nil {
		b.Token = *b.token
	}
	return b, found(err, "booking")
}

// found maps a row that is not there to ErrAppointmentNotFound.
func found(err error, what string) error {
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return cloud.ErrAppointmentNotFound
	case err != nil:
		return fmt.Errorf("appt: %s: %w", what, err)
	}
	return nil
}

func orZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// Booking finds a booking by ID and code.
func (s *Store) Booking(ctx context.Context, id, code string) (cloud.Booking, error) {
	b, err := scanBooking(s.pool.QueryRow(ctx, `SELECT `+bookingCols+` FROM appt_bookings WHERE id = $1 AND code = $2`, id, code))
	return b.Booking, err
}

// proven locks the booking and checks the proof: its code and the RUT it was
// booked with. A wrong proof is ErrAppointmentNotFound (no oracle).
func (s *Store) proven(ctx context.Context, tx pgx.Tx, id, code, rut string) (row, error) {
	n, err := normRUT(rut)
	if err != nil {
		return row{}, cloud.ErrAppointmentNotFound
	}
	b, err := scanBooking(tx.QueryRow(ctx, `SELECT `+bookingCols+` FROM appt_bookings WHERE id = $1 AND code = $2 FOR UPDATE`, id, code))
	if err != nil {
		return b, err
	}
	h, err := s.rutHash(ctx, b.Branch, b.Day, n)
	if err != nil {
		return b, err
	}
	if b.rutHash != h {
		return b, cloud.ErrAppointmentNotFound
	}
	return b, nil
}

// changeable checks a booking may still be moved or cancelled: active, not
// checked in, its slot not started.
func (s *Store) changeable(b row) error {
	if b.Status != cloud.BookingBooked && b.Status != cloud.BookingReceived {
		return cloud.ErrTooLate
	}
	if !b.Start.After(s.Now()) {
		return cloud.ErrTooLate
	}
	return nil
}

// Reschedule moves a booking to the slot at start (Rev+1, a new
// appointment.book replacing any pending one).
func (s *Store) Reschedule(ctx context.Context, id, code, rut string, start time.Time) (cloud.Booking, error) {
	var out cloud.Booking
	oldDay := ""
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		b, err := s.proven(ctx, tx, id, code, rut)
		if err != nil {
			return err
		}
		oldDay = b.Day
		if err := s.changeable(b); err != nil {
			return err
		}
		now := s.Now()
		if !start.After(now) {
			return cloud.ErrTooLate
		}
		n, _ := normRUT(rut)
		loc, err := zone(ctx, tx, b.Branch)
		if err != nil {
			return err
		}
		day := start.In(loc).Format(time.DateOnly)
		p, err := loadDay(ctx, tx, b.Branch, b.Service, day)
		if err != nil {
			return err
		}
		if !p.open(day, now) {
			return cloud.ErrNotBookable
		}
		sl, err := p.slotIn(day, start)
		if err != nil {
			return err
		}
		if err := takePlace(ctx, tx, b.Branch, b.Service, sl, b.ID); err != nil {
			return err
		}
		hash, sealed, check, err := s.rutPseudonyms(ctx, b.Branch, day, n)
		if err != nil {
			return err
		}
		if held, err := holdsBooking(ctx, tx, b.Branch, day, hash, b.ID); err != nil || held {
			if err == nil {
				err = cloud.ErrAlreadyBooked
			}
			return err
		}
		if day != b.Day {
			if b.Code, err = reserveCode(ctx, tx, b.Branch, day, b.ID, b.Code); err != nil {
				return err
			}
		}
		b.Start, b.End, b.Day, b.Rev, b.Status, b.Reason = sl.Start, sl.End, day, b.Rev+1, cloud.BookingBooked, ""
		cmd := s.bookCommand(b.Booking, check, sealed, b.token)
		if _, err := tx.Exec(ctx, `UPDATE appt_bookings SET start_at = $2, end_at = $3, day = $4::date, rev = $5,
				code = $6, status = 'booked', reason = '', rut_hash = $7, rut_sealed = $8, command = $9, updated_at = $10
			WHERE id = $1`, b.ID, b.Start, b.End, day, b.Rev, b.Code, hash, sealed, cmd.ID, now); err != nil {
			return fmt.Errorf("appt: reschedule: %w", err)
		}
		if err := supersede(ctx, tx, b.Branch, b.ID, event.CommandBookAppointment); err != nil {
			return err
		}
		out = b.Booking
		return queueCommand(ctx, tx, cmd, b.ID, b.End.Add(bookExpiry), checkLater(check, sealed, day))
	})
	if err == nil {
		s.forget(out.Branch, out.Service, oldDay)
		s.forget(out.Branch, out.Service, out.Day)
	}
	return out, err
}

// Cancel cancels a booking on the customer's proof and queues
// appointment.cancel.
func (s *Store) Cancel(ctx context.Context, id, code, rut string) (cloud.Booking, error) {
	var out cloud.Booking
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		b, err := s.proven(ctx, tx, id, code, rut)
		if err != nil {
			return err
		}
		if err := s.changeable(b); err != nil {
			return err
		}
		out, err = s.cancel(ctx, tx, b, "customer", "")
		return err
	})
	if err == nil {
		s.forget(out.Branch, out.Service, out.Day)
	}
	return out, err
}

// cancel marks b cancelled and queues appointment.cancel (replacing a pending
// appointment.book: the branch answers a cancel of a booking it never got
// with appointment.cancelled too).
func (s *Store) cancel(ctx context.Context, tx pgx.Tx, b row, by, reason string) (cloud.Booking, error) {
	now := s.Now()
	cmd := event.Command{V: event.Version, Branch: b.Branch, ID: s.NewID("ac-"), Type: event.CommandCancelAppointment, At: now,
		Appointment: &event.AppointmentOrder{Appointment: b.ID, Rev: b.Rev, Service: b.Service, Start: b.Start, End: b.End,
			Code: b.Code}}
	if _, err := tx.Exec(ctx, `UPDATE appt_bookings SET status = 'cancelled', cancelled_by = $2, reason = $3,
			command = $4, updated_at = $5 WHERE id = $1`, b.ID, by, reason, cmd.ID, now); err != nil {
		return cloud.Booking{}, fmt.Errorf("appt: cancel: %w", err)
	}
	if err := supersede(ctx, tx, b.Branch, b.ID, event.CommandBookAppointment); err != nil {
		return cloud.Booking{}, err
	}
	if err := queueCommand(ctx, tx, cmd, b.ID, b.End.Add(bookExpiry), ""); err != nil {
		return cloud.Booking{}, err
	}
	b.Status, b.Reason = cloud.BookingCancelled, reason
	return b.Booking, nil
}
