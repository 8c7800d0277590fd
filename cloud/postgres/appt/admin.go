package appt

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/queue"
)

// Schedules lists a branch's booking schedules with their exceptions from
// today on (branch time), by service.
func (s *Store) Schedules(ctx context.Context, branch string) ([]cloud.BookingSchedule, error) {
	rows, err := s.pool.Query(ctx, `SELECT s.service, s.slot_min, s.reserve_pct, s.horizon_days, s.weekly, s.updated_at, s.updated_by,
			COALESCE((SELECT jsonb_agg(jsonb_build_object('day', to_char(e.day, 'YYYY-MM-DD'), 'hours', e.hours, 'note', e.note)
				ORDER BY e.day) FROM appt_exceptions e WHERE e.branch = s.branch AND e.service = s.service
				AND e.day >= ($2::timestamptz AT TIME ZONE COALESCE((SELECT time_zone FROM branches WHERE id = s.branch), 'America/Santiago'))::date), '[]')
		FROM appt_schedules s WHERE s.branch = $1 ORDER BY s.service`, branch, s.Now())
	if err != nil {
		return nil, fmt.Errorf("appt: schedules: %w", err)
	}
	defer rows.Close()
	out := []cloud.BookingSchedule{}
	for rows.Next() {
		sc := cloud.BookingSchedule{Branch: branch}
		var weekly, exc []byte
		if err := rows.Scan(&sc.Service, &sc.SlotMin, &sc.ReservePct, &sc.HorizonDays, &weekly, &sc.UpdatedAt, &sc.UpdatedBy, &exc); err != nil {
			return nil, fmt.Errorf("appt: schedules: %w", err)
		}
		if err := json.Unmarshal(weekly, &sc.Weekly); err != nil {
			return nil, fmt.Errorf("appt: schedule %s: %w", sc.Service, err)
		}
		if err := json.Unmarshal(exc, &sc.Exceptions); err != nil {
			return nil, fmt.Errorf("appt: schedule %s: %w", sc.Service, err)
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

// SaveSchedule validates and stores a schedule; its exceptions replace the
// stored ones. Audited.
func (s *Store) SaveSchedule(ctx context.Context, sc cloud.BookingSchedule, actor string) error {
	if !queue.ValidServiceCode(sc.Service) || sc.Branch == "" {
		return &cloud.ScheduleError{Field: "service", Reason: "unknown service"}
	}
	if err := sc.Validate(); err != nil {
		return err
	}
	if sc.Weekly == nil {
		sc.Weekly = map[string][]cloud.BookingHours{}
	}
	weekly, err := json.Marshal(sc.Weekly)
	if err != nil {
		return err
	}
	now := s.Now()
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var known bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM hq_services WHERE branch = $1 AND code = $2)`,
			sc.Branch, sc.Service).Scan(&known); err != nil {
			return fmt.Errorf("appt: service: %w", err)
		}
		if !known {
			return &cloud.ScheduleError{Field: "service", Reason: "unknown service"}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO appt_schedules (branch, service, slot_min, reserve_pct, horizon_days, weekly, updated_at, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (branch, service) DO UPDATE SET slot_min = EXCLUDED.slot_min, reserve_pct = EXCLUDED.reserve_pct,
				horizon_days = EXCLUDED.horizon_days, weekly = EXCLUDED.weekly, updated_at = EXCLUDED.updated_at,
				updated_by = EXCLUDED.updated_by`,
			sc.Branch, sc.Service, sc.SlotMin, sc.ReservePct, sc.HorizonDays, weekly, now, actor); err != nil {
			return fmt.Errorf("appt: save schedule: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM appt_exceptions WHERE branch = $1 AND service = $2`, sc.Branch, sc.Service); err != nil {
			return fmt.Errorf("appt: save exceptions: %w", err)
		}
		for _, e := range sc.Exceptions {
			hours := e.Hours
			if hours == nil {
				hours = []cloud.BookingHours{}
			}
			h, _ := json.Marshal(hours)
			if _, err := tx.Exec(ctx, `INSERT INTO appt_exceptions (branch, service, day, hours, note) VALUES ($1, $2, $3::date, $4, $5)`,
				sc.Branch, sc.Service, e.Day, h, e.Note); err != nil {
				return fmt.Errorf("appt: save exception: %w", err)
			}
		}
		return audit(ctx, tx, sc.Branch, "", "schedule.saved", actor, fmt.Sprintf("%s slot=%d reserve=%d%% horizon=%d exceptions=%d",
			sc.Service, sc.SlotMin, sc.ReservePct, sc.HorizonDays, len(sc.Exceptions)), now)
	})
	if err == nil {
		s.mu.Lock()
		s.bookable, s.slots = nil, nil
		s.mu.Unlock()
	}
	return err
}

// DeleteSchedule stops bookings of a service (existing bookings stay).
func (s *Store) DeleteSchedule(ctx context.Context, branch, service, actor string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM appt_schedules WHERE branch = $1 AND service = $2`, branch, service); err != nil {
			return fmt.Errorf("appt: delete schedule: %w", err)
		}
		s.mu.Lock()
		s.bookable, s.slots = nil, nil
		s.mu.Unlock()
		return audit(ctx, tx, branch, "", "schedule.deleted", actor, service, s.Now())
	})
}

func audit(ctx context.Context, tx pgx.Tx, branch, booking, action, actor, detail string, at time.Time) error {
	if _, err := tx.Exec(ctx, `INSERT INTO appt_audit (branch, booking, action, actor, detail, at) VALUES ($1, $2, $3, $4, $5, $6)`,
		branch, booking, action, actor, detail, at); err != nil {
		return fmt.Errorf("appt: audit: %w", err)
	}
	return nil
}

// DayBook lists a branch's bookings of day, by start.
func (s *Store) DayBook(ctx context.Context, branch, day string) ([]cloud.BookEntry, error) {
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return nil, queue.Errorf(queue.CodeInvalid, "appointment.day", day)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+bookingCols+` FROM appt_bookings WHERE branch = $1 AND day = $2::date
		ORDER BY start_at, created_at`, branch, day)
	if err != nil {
		return nil, fmt.Errorf("appt: book: %w", err)
	}
	defer rows.Close()
	out := []cloud.BookEntry{}
	for rows.Next() {
		b, err := scanBooking(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, cloud.BookEntry{Booking: b.Booking, CancelledBy: b.cancelledBy})
	}
	return out, rows.Err()
}

// CancelByHQ cancels a booking with a reason, audited, and queues
// appointment.cancel.
func (s *Store) CancelByHQ(ctx context.Context, id, reason, actor string) (cloud.Booking, error) {
	if !queue.ValidText(reason, queue.MaxText) || reason == "" {
		return cloud.Booking{}, queue.Errorf(queue.CodeInvalid, "appointment.reason", queue.MaxText)
	}
	var out cloud.Booking
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		b, err := scanBooking(tx.QueryRow(ctx, `SELECT `+bookingCols+` FROM appt_bookings WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if b.Status != cloud.BookingBooked && b.Status != cloud.BookingReceived {
			return cloud.ErrTooLate
		}
		if out, err = s.cancel(ctx, tx, b, "hq", reason); err != nil {
			return err
		}
		return audit(ctx, tx, b.Branch, b.ID, "booking.cancelled", actor, reason, s.Now())
	})
	if err == nil {
		s.forget(out.Branch, out.Service, out.Day)
	}
	return out, err
}

// BookAudit lists the branch's latest audit lines, newest first.
func (s *Store) BookAudit(ctx context.Context, branch string, limit int) ([]cloud.BookAudit, error) {
	rows, err := s.pool.Query(ctx, `SELECT at, booking, action, actor, detail FROM appt_audit WHERE branch = $1
		ORDER BY at DESC, id DESC LIMIT $2`, branch, limit)
	if err != nil {
		return nil, fmt.Errorf("appt: audit: %w", err)
	}
	defer rows.Close()
	out := []cloud.BookAudit{}
	for rows.Next() {
		var a cloud.BookAudit
		if err := rows.Scan(&a.At, &a.Booking, &a.Action, &a.Actor, &a.Detail); err != nil {
			return nil, fmt.Errorf("appt: audit: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AppointmentReport is per branch over the days [from, to]: bookings by
// outcome, the median punctuality (check-in − start) and the mean waits
// (called − queued) of tickets of channel appointment versus the others.
func (s *Store) AppointmentReport(ctx context.Context, branches []string, from, to string) ([]cloud.AppointmentReportRow, error) {
	for _, d := range []string{from, to} {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return nil, queue.Errorf(queue.CodeInvalid, "appointment.day", d)
		}
	}
	rows, err := s.pool.Query(ctx, `WITH bk AS (
			SELECT branch, count(*) AS booked,
				count(*) FILTER (WHERE status = 'checked_in') AS checked_in,
				count(*) FILTER (WHERE status = 'checked_in' AND late) AS late,
				count(*) FILTER (WHERE status = 'missed') AS missed,
				count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
				count(*) FILTER (WHERE status = 'declined') AS declined,
				percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM checked_at - start_at))
					FILTER (WHERE checked_at IS NOT NULL) AS punct
			FROM appt_bookings WHERE day BETWEEN $2::date AND $3::date AND ($1::text[] IS NULL OR branch = ANY($1))
			GROUP BY branch),
		tk AS (
			SELECT branch,
				avg(extract(epoch FROM called_at - queued_at)) FILTER (WHERE channel = 'appointment') AS wb,
				avg(extract(epoch FROM called_at - queued_at)) FILTER (WHERE channel <> 'appointment') AS ww,
				count(*) FILTER (WHERE channel = 'appointment') AS nb,
				count(*) FILTER (WHERE channel <> 'appointment') AS nw
			FROM tickets WHERE day BETWEEN $2::date AND $3::date AND called_at IS NOT NULL
				AND ($1::text[] IS NULL OR branch = ANY($1)) AND branch IN (SELECT branch FROM bk)
			GROUP BY branch)
		SELECT bk.branch, bk.booked, bk.checked_in, bk.late, bk.missed, bk.cancelled, bk.declined,
			COALESCE(bk.punct, 0)::int, COALESCE(tk.wb, 0)::int, COALESCE(tk.ww, 0)::int,
			COALESCE(tk.nb, 0), COALESCE(tk.nw, 0)
		FROM bk LEFT JOIN tk ON tk.branch = bk.branch ORDER BY bk.branch`, branches, from, to)
	if err != nil {
		return nil, fmt.Errorf("appt: report: %w", err)
	}
	defer rows.Close()
	out := []cloud.AppointmentReportRow{}
	for rows.Next() {
		var r cloud.AppointmentReportRow
		if err := rows.Scan(&r.Branch, &r.Booked, &r.CheckedIn, &r.Late, &r.Missed, &r.Cancelled, &r.Declined,
			&r.PunctualityMedianS, &r.WaitBookedS, &r.WaitWalkInS, &r.BookedTicket, &r.WalkInTicket); err != nil {
			return nil, fmt.Errorf("appt: report: %w", err)
		}
		if n := r.CheckedIn + r.Missed; n > 0 {
			r.NoShowPct = float64(r.Missed) * 100 / float64(n)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
