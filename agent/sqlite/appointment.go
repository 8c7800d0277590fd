package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

// Appointments and remote tickets (docs/appointments.md; the engine's side
// is agent/engine_appointment.go and agent/engine_remote.go). The commands
// are applied in ApplyCommand (config.go); the kiosk's check-in is CheckIn.

func upsertAppointment(tx *sql.Tx, a agent.Appointment) error {
	if _, err := tx.Exec(`INSERT INTO appointments (id, rev, service, day, start_at, end_at, code, rut_check, note, token,
			rut_sealed, status, ticket, late, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET rev = excluded.rev, service = excluded.service, day = excluded.day,
			start_at = excluded.start_at, end_at = excluded.end_at, code = excluded.code, rut_check = excluded.rut_check,
			note = excluded.note, token = excluded.token, rut_sealed = excluded.rut_sealed, status = excluded.status,
			ticket = excluded.ticket, late = excluded.late, updated_at = excluded.updated_at`,
		a.ID, a.Rev, a.Service, a.Day, ts(a.Start), ts(a.End), a.Code, a.RUTCheck, a.Note, a.Token, a.RUTSealed,
		a.Status, a.Ticket, b2i(a.Late), ts(a.UpdatedAt)); err != nil {
		return fmt.Errorf("sqlite: appointment %s: %w", a.ID, err)
	}
	return nil
}

// loadAppointments loads the bookings the engine holds: those of day and
// later, and any still waiting for its customer.
func loadAppointments(ctx context.Context, q querier, day string) ([]agent.Appointment, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, rev, service, day, start_at, end_at, code, rut_check, note, token,
		rut_sealed, status, ticket, late, updated_at FROM appointments WHERE day >= ? OR status = 'received'`, day)
	if err != nil {
		return nil, fmt.Errorf("sqlite: load appointments: %w", err)
	}
	defer rows.Close()
	var out []agent.Appointment
	for rows.Next() {
		var a agent.Appointment
		var start, end, updated string
		var late int
		if err := rows.Scan(&a.ID, &a.Rev, &a.Service, &a.Day, &start, &end, &a.Code, &a.RUTCheck, &a.Note, &a.Token,
			&a.RUTSealed, &a.Status, &a.Ticket, &late, &updated); err != nil {
			return nil, fmt.Errorf("sqlite: load appointments: %w", err)
		}
		a.Start = parseTime(sql.NullString{String: start, Valid: true})
		a.End = parseTime(sql.NullString{String: end, Valid: true})
		a.UpdatedAt = parseTime(sql.NullString{String: updated, Valid: true})
		a.Late = late == 1
		out = append(out, a)
	}
	return out, rows.Err()
}

// CheckIn checks a customer in at the kiosk by his 6-digit code or his RUT
// (exactly one): the RUT's seal.CheckInHash is computed once here, outside
// the writer, and matched against today's bookings and unchecked remote
// tickets (agent.Engine.CheckIn). A booked customer gets his ticket, which
// carries his typed RUT sealed on the box like a kiosk ticket's.
//
// Errors: invalid checkin.invalid, checkin.code_invalid, rut.*; as
// agent.Engine.CheckIn.
func (s *Store) CheckIn(ctx context.Context, code, rutText string) (agent.CheckInInfo, error) {
	if (code == "") == (rutText == "") {
		return agent.CheckInInfo{}, queue.Errorf(queue.CodeInvalid, "checkin.invalid")
	}
	var c agent.CheckIn
	var rut queue.RUT
	if code != "" {
		if !event.ValidCheckInCode(code) {
			return agent.CheckInInfo{}, queue.Errorf(queue.CodeInvalid, "checkin.code_invalid")
		}
		c.Code = code
	} else {
		var err error
		if rut, err = queue.ParseRUT(rutText); err != nil {
			return agent.CheckInInfo{}, err
		}
		s.mu.RLock()
		day := s.eng.Day()
		if day == "" {
			day = s.eng.BusinessDay(s.cfg.Now())
		}
		s.mu.RUnlock()
		// About 20 ms of argon2id: once per attempt, never inside the writer.
		c.RUTCheck = seal.CheckInHash(s.cfg.Branch, day, rut.String())
		if c.RUTEnc, err = s.sealRUT(rut); err != nil {
			return agent.CheckInInfo{}, err
		}
	}
	out, err := call(ctx, s, func(tx *sql.Tx, now time.Time) (agent.CheckInInfo, agent.Change, error) {
		if rut != "" {
			c.RUTHash = hashRUT(s.rutKey, rut)
		}
		got, ch, err := s.eng.CheckIn(now, c)
		if err != nil {
			return agent.CheckInInfo{}, ch, err
		}
		info := agent.TicketInfo{Ticket: got.Ticket, Position: got.Position, Estimate: got.Estimate}
		info.RUTEnc = nil
		if sv, ok := s.eng.Service(got.Ticket.Service); ok {
			info.ServiceName = sv.Name
		}
		return agent.CheckInInfo{Ticket: info, Appointment: got.Appointment, Late: got.Late}, ch, nil
	})
	if err != nil {
		return agent.CheckInInfo{}, err
	}
	appt := ""
	if out.Appointment != nil {
		appt = out.Appointment.ID
	}
	s.log.Info("checked in", "ticket", out.Ticket.ID, "number", out.Ticket.Display(), "appointment", appt,
		"late", out.Late, "by", c.By(), "rut", rut.Masked())
	return out, nil
}

// Appointments returns the bookings of today the branch holds (any status),
// by start.
func (s *Store) Appointments(ctx context.Context) []agent.Appointment {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.eng.Appointments(s.eng.Day())
}
