package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

// MaxCustomerName is the longest walk-in name kept, in characters.
const MaxCustomerName = 80

// logTicket records a ticket event in the ticket's history of the day
// (ticket_log): what the executive's view of his customer shows. It keeps
// no personal data: the type, where and who, and a short note (an
// out-of-order call's reason, a transfer's target, outcome codes).
func logTicket(tx *sql.Tx, seq uint64, e agent.Emitted) error {
	t := e.Ticket
	detail := ""
	switch d := e.Data.(type) {
	case event.Called:
		if d.Chosen {
			detail = d.Reason
		}
	case event.Parked:
		detail = d.Reason
	case event.Transferred:
		detail = d.To
		switch {
		case d.ToExecutive != "":
			detail += " · " + d.ToExecutiveName
		case d.ToCounter != 0:
			detail += " · " + strconv.Itoa(d.ToCounter)
		}
	case event.Completed:
		detail = strings.Join(d.Codes(), ",")
	case event.Cancelled:
		detail = d.By
	}
	if _, err := tx.Exec(`INSERT INTO ticket_log (ticket, seq, type, at, service, counter, executive, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		t.ID, int64(seq), string(e.Type), ts(e.At), t.Service, t.Counter, t.Executive, detail); err != nil {
		return fmt.Errorf("sqlite: ticket log: %w", err)
	}
	return nil
}

// sessionOf resolves a token to its session inside the writer.
func (s *Store) sessionOf(h string) (agent.Session, error) {
	sess, ok := s.eng.SessionByToken(h)
	if !ok {
		return agent.Session{}, queue.Errorf(queue.CodeUnauthorized, "session.required")
	}
	s.used(h)
	return sess, nil
}

// CallTicket calls a specific waiting ticket out of order, with a reason.
//
// Errors: as agent.Engine.CallTicket.
func (s *Store) CallTicket(ctx context.Context, token string, counter int, id, reason string) (agent.TicketInfo, error) {
	h := tokenHash(token)
	return call(ctx, s, func(tx *sql.Tx, now time.Time) (agent.TicketInfo, agent.Change, error) {
		sess, err := s.sessionOf(h)
		if err != nil {
			return agent.TicketInfo{}, agent.Change{}, err
		}
		t, ch, err := s.eng.CallTicket(now, sess.Executive, counter, id, reason)
		if err != nil {
			return agent.TicketInfo{}, ch, err
		}
		return s.info(*t, now), ch, nil
	})
}

// WalkIn serves a customer without a ticket at the executive's counter: a
// ticket is issued in the service and served at once. The RUT and the name
// are optional; both are kept encrypted (the RUT is sealed to the cloud as
// at the kiosk; the name never leaves the box).
//
// Errors: invalid rut.*, text.invalid (name); as agent.Engine.WalkIn.
func (s *Store) WalkIn(ctx context.Context, token string, w agent.WalkIn) (agent.TicketInfo, error) {
	prio, err := queue.ParsePriorityClass(w.Priority)
	if err != nil {
		return agent.TicketInfo{}, err
	}
	req := agent.WalkInRequest{Counter: w.Counter, Service: w.Service, Priority: prio}
	var rut queue.RUT
	if w.RUT != "" {
		if rut, err = queue.ParseRUT(w.RUT); err != nil {
			return agent.TicketInfo{}, err
		}
		if req.RUTEnc, err = s.sealRUT(rut); err != nil {
			return agent.TicketInfo{}, err
		}
		if pub := s.rutSeal.Load(); pub != nil {
			if req.RUTSealed, err = seal.SealRUT(pub, rut.String()); err != nil {
				return agent.TicketInfo{}, err
			}
		}
	}
	name := strings.TrimSpace(w.Name)
	if err := queue.CheckText("name", name, MaxCustomerName); err != nil {
		return agent.TicketInfo{}, err
	}
	if name != "" {
		if req.NameEnc, err = s.box.Seal([]byte(name), "name"); err != nil {
			return agent.TicketInfo{}, err
		}
	}
	h := tokenHash(token)
	out, err := call(ctx, s, func(tx *sql.Tx, now time.Time) (agent.TicketInfo, agent.Change, error) {
		sess, err := s.sessionOf(h)
		if err != nil {
			return agent.TicketInfo{}, agent.Change{}, err
		}
		req.Executive = sess.Executive
		if rut != "" {
			req.RUTHash = hashRUT(s.rutKey, rut)
		}
		t, ch, err := s.eng.WalkIn(now, req)
		if err != nil {
			return agent.TicketInfo{}, ch, err
		}
		return s.info(t, now), ch, nil
	})
	if err != nil {
		return agent.TicketInfo{}, err
	}
	s.log.Info("walk-in served", "ticket", out.ID, "number", out.Display(), "rut", rut.Masked())
	return out, nil
}

// PauseFor pauses the session of token for a reason code (queue.PauseReasons)
// with an optional text.
//
// Errors: as agent.Engine.PauseFor.
func (s *Store) PauseFor(ctx context.Context, token, code, reason string) (agent.SessionInfo, error) {
	h := tokenHash(token)
	return call(ctx, s, func(tx *sql.Tx, now time.Time) (agent.SessionInfo, agent.Change, error) {
		sess, ch, err := s.eng.PauseFor(now, h, code, reason)
		if err != nil {
			return agent.SessionInfo{}, ch, err
		}
		s.used(h)
		return s.sessionInfo(sess, now), ch, nil
	})
}

// Outcomes are HQ's visit outcome codes the branch runs.
func (s *Store) Outcomes(ctx context.Context) []queue.Outcome {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.eng.Outcomes()
}

// Customer is the customer in front of the executive of token: the ticket he
// has called or is serving (or, by id, one he parked), with the name given at
// a walk-in and the masked RUT, decrypted here and never logged, and the
// ticket's history today. Only the executive holding the ticket sees it.
//
// Errors: unauthorized session.required; not_found customer.none;
// forbidden ticket.not_yours.
func (s *Store) Customer(ctx context.Context, token, id string) (agent.Customer, error) {
	s.mu.RLock()
	h := tokenHash(token)
	sess, ok := s.eng.SessionByToken(h)
	if !ok {
		s.mu.RUnlock()
		return agent.Customer{}, queue.Errorf(queue.CodeUnauthorized, "session.required")
	}
	s.used(h)
	var t agent.Ticket
	if id == "" {
		t, ok = s.eng.Current(sess.Executive)
		if !ok {
			s.mu.RUnlock()
			return agent.Customer{}, queue.Errorf(queue.CodeNotFound, "customer.none")
		}
	} else {
		t, ok = s.eng.Ticket(id)
		if !ok || t.Status == queue.StatusWaiting || t.Executive != sess.Executive {
			s.mu.RUnlock()
			return agent.Customer{}, queue.Errorf(queue.CodeForbidden, "ticket.not_yours", truncate(id, 64))
		}
	}
	info := s.info(t, s.cfg.Now())
	c := agent.Customer{Ticket: info}
	if a, ok := s.eng.Appointment(t.Appointment); ok && t.Appointment != "" {
		c.Note, c.Start = a.Note, a.Start
	}
	s.mu.RUnlock()
	if len(t.RUTEnc) > 0 {
		if plain, err := s.box.Open(t.RUTEnc, "rut"); err == nil {
			if r, err := queue.ParseRUT(string(plain)); err == nil {
				c.RUTMasked = r.Masked()
			}
		}
	}
	if len(t.NameEnc) > 0 {
		if plain, err := s.box.Open(t.NameEnc, "name"); err == nil {
			c.Name = string(plain)
		}
	}
	rows, err := s.r.QueryContext(ctx, `SELECT type, at, service, counter, executive, detail FROM ticket_log
		WHERE ticket = ? ORDER BY seq`, t.ID)
	if err != nil {
		return agent.Customer{}, fmt.Errorf("sqlite: ticket log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e agent.VisitEvent
		var at string
		if err := rows.Scan(&e.Type, &at, &e.Service, &e.Counter, &e.Executive, &e.Detail); err != nil {
			return agent.Customer{}, fmt.Errorf("sqlite: ticket log: %w", err)
		}
		e.At = parseTime(sql.NullString{String: at, Valid: true})
		c.History = append(c.History, e)
	}
	return c, rows.Err()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
