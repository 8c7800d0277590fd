package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
	"unicode"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

// MaxIdempotencyKey is the longest Idempotency-Key accepted.
const MaxIdempotencyKey = 128

// Issue issues a ticket. With an idempotency key already used for the same
// request it returns that ticket and replay true.
//
// Errors: invalid service.unknown, priority.invalid, rut.*,
// idempotency.key_invalid; conflict idempotency.mismatch.
func (s *Store) Issue(ctx context.Context, r agent.TicketRequest) (agent.TicketInfo, bool, error) {
	prio, err := queue.ParsePriorityClass(r.Priority)
	if err != nil {
		return agent.TicketInfo{}, false, err
	}
	if !validKey(r.IdempotencyKey) {
		return agent.TicketInfo{}, false, queue.Errorf(queue.CodeInvalid, "idempotency.key_invalid")
	}
	var rut queue.RUT
	if r.RUT != "" {
		if rut, err = queue.ParseRUT(r.RUT); err != nil {
			return agent.TicketInfo{}, false, err
		}
	}
	var phone queue.Phone
	if r.Phone != "" {
		if phone, err = queue.ParsePhone(r.Phone); err != nil {
			return agent.TicketInfo{}, false, err
		}
		if !r.PhoneConsent {
			return agent.TicketInfo{}, false, queue.Errorf(queue.CodeInvalid, "phone.no_consent")
		}
	}
	// The request's fingerprint, so a reused key with another body is refused.
	fp := sha256.Sum256([]byte(r.Service + "\x00" + string(rut) + "\x00" + string(prio) + "\x00" + string(phone)))
	reqHash := hex.EncodeToString(fp[:])
	req := agent.IssueRequest{Service: r.Service, Priority: prio, Channel: r.Channel}
	if rut != "" {
		if req.RUTEnc, err = s.sealRUT(rut); err != nil {
			return agent.TicketInfo{}, false, err
		}
		// For the cloud: the RUT sealed to its public key (only the cloud
		// opens it and computes the network-wide pseudonym).
		if pub := s.rutSeal.Load(); pub != nil {
			if req.RUTSealed, err = seal.SealRUT(pub, rut.String()); err != nil {
				return agent.TicketInfo{}, false, err
			}
		}
	}
	var phoneEnc []byte
	if phone != "" {
		if phoneEnc, err = s.box.Seal([]byte(phone.String()), "phone"); err != nil {
			return agent.TicketInfo{}, false, err
		}
		// For the cloud, sealed to its public key like the RUT; without that
		// key (no HQ config yet) the number stays on the box only.
		if pub := s.rutSeal.Load(); pub != nil {
			if req.PhoneSealed, err = seal.SealRUT(pub, phone.String()); err != nil {
				return agent.TicketInfo{}, false, err
			}
		}
	}
	type result struct {
		info   agent.TicketInfo
		replay bool
	}
	out, err := call(ctx, s, func(tx *sql.Tx, now time.Time) (result, agent.Change, error) {
		if r.IdempotencyKey != "" {
			var id, h string
			err := tx.Stmt(s.stmts.idemGet).QueryRow(r.IdempotencyKey).Scan(&id, &h)
			switch {
			case err == nil:
				if h != reqHash {
					return result{}, agent.Change{}, queue.Errorf(queue.CodeConflict, "idempotency.mismatch")
				}
				info, err := s.ticketInfo(tx, id, now)
				if err != nil {
					return result{}, agent.Change{}, &writeError{err}
				}
				return result{info, true}, agent.Change{}, nil
			case !errors.Is(err, sql.ErrNoRows):
				return result{}, agent.Change{}, &writeError{fmt.Errorf("sqlite: idempotency: %w", err)}
			}
		}
		if rut != "" {
			req.RUTHash = hashRUT(s.rutKey, rut)
		}
		t, ch, err := s.eng.Issue(now, req)
		if err != nil {
			return result{}, ch, err
		}
		if phoneEnc != nil {
			if _, err := tx.Exec(`INSERT INTO ticket_phones (ticket, day, phone_enc) VALUES (?, ?, ?)`,
				t.ID, t.Day, phoneEnc); err != nil {
				return result{}, ch, &writeError{fmt.Errorf("sqlite: ticket phone: %w", err)}
			}
		}
		if r.IdempotencyKey != "" {
			// The ticket row must exist first (foreign key): write it now; the
			// upsert in the change is then a no-op update.
			if _, err := tx.Stmt(s.stmts.ticket).Exec(ticketArgs(t)...); err != nil {
				return result{}, ch, &writeError{ticketErr(t, err)}
			}
			if _, err := tx.Stmt(s.stmts.idemPut).Exec(r.IdempotencyKey, t.ID, reqHash, ts(now)); err != nil {
				return result{}, ch, &writeError{fmt.Errorf("sqlite: idempotency: %w", err)}
			}
		}
		// The position quoted at issue, without recomputing the whole order.
		info := agent.TicketInfo{Ticket: t, Estimate: agent.Estimate{TypicalS: t.QuotedTypical, UpperS: t.QuotedUpper}}
		info.RUTEnc = nil
		if sv, ok := s.eng.Service(t.Service); ok {
			info.ServiceName = sv.Name
		}
		if iss, ok := ch.Events[0].Data.(event.Issued); ok {
			info.Position = iss.Position
		}
		return result{info, false}, ch, nil
	})
	if err != nil {
		return agent.TicketInfo{}, false, err
	}
	if (rut != "" || phone != "") && !out.replay {
		s.log.Info("ticket issued", "ticket", out.info.ID, "number", out.info.Display(), "rut", rut.Masked(),
			"phone", phone.Masked())
	}
	return out.info, out.replay, nil
}

func validKey(k string) bool {
	if len(k) > MaxIdempotencyKey {
		return false
	}
	for _, r := range k {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// info decorates a ticket for the API (call with the lock held).
func (s *Store) info(t agent.Ticket, now time.Time) agent.TicketInfo {
	ti := agent.TicketInfo{Ticket: t}
	if sv, ok := s.eng.Service(t.Service); ok {
		ti.ServiceName = sv.Name
	}
	if t.Status == queue.StatusWaiting {
		ti.Position = s.eng.Position(t.ID, now)
		ti.Estimate = s.eng.Estimate(t.Service, ti.Position)
	}
	ti.RUTEnc = nil
	return ti
}

// ticketInfo finds a ticket: open ones in the engine, others in q.
func (s *Store) ticketInfo(q querier, id string, now time.Time) (agent.TicketInfo, error) {
	if t, ok := s.eng.Ticket(id); ok {
		return s.info(t, now), nil
	}
	ts, err := queryTickets(context.Background(), q, "WHERE id = ?", id)
	if err != nil {
		return agent.TicketInfo{}, err
	}
	if len(ts) == 0 {
		return agent.TicketInfo{}, queue.Errorf(queue.CodeNotFound, "ticket.not_found", id)
	}
	return s.info(ts[0], now), nil
}

// Ticket returns a ticket by ID.
//
// Errors: not_found ticket.not_found.
func (s *Store) Ticket(ctx context.Context, id string) (agent.TicketInfo, error) {
	if len(id) > 64 {
		return agent.TicketInfo{}, queue.Errorf(queue.CodeNotFound, "ticket.not_found", id[:64])
	}
	s.mu.RLock()
	t, ok := s.eng.Ticket(id)
	if ok {
		defer s.mu.RUnlock()
		return s.info(t, s.cfg.Now()), nil
	}
	s.mu.RUnlock()
	ts, err := queryTickets(ctx, s.r, "WHERE id = ?", id)
	if err != nil {
		return agent.TicketInfo{}, err
	}
	if len(ts) == 0 {
		return agent.TicketInfo{}, queue.Errorf(queue.CodeNotFound, "ticket.not_found", id)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.info(ts[0], s.cfg.Now()), nil
}

// CallNext calls the next ticket for the session of token at counter; nil
// when nobody waits for the executive's services.
//
// Errors: as agent.Engine.CallNext.
func (s *Store) CallNext(ctx context.Context, token string, counter int) (*agent.TicketInfo, error) {
	h := tokenHash(token)
	return call(ctx, s, func(tx *sql.Tx, now time.Time) (*agent.TicketInfo, agent.Change, error) {
		sess, ok := s.eng.SessionByToken(h)
		if !ok {
			return nil, agent.Change{}, queue.Errorf(queue.CodeUnauthorized, "session.required")
		}
		s.used(h)
		t, ch, err := s.eng.CallNext(now, sess.Executive, counter)
		if err != nil || t == nil {
			return (*agent.TicketInfo)(nil), ch, err
		}
		info := s.info(*t, now)
		return &info, ch, nil
	})
}

// Act applies an executive's action (a.Executive is set from the session of
// token) to a ticket.
//
// Errors: unauthorized session.required; as agent.Engine.Apply; conflict
// ticket.illegal_transition for a ticket already closed.
func (s *Store) Act(ctx context.Context, token string, a agent.Act) (agent.TicketInfo, error) {
	h := tokenHash(token)
	return call(ctx, s, func(tx *sql.Tx, now time.Time) (agent.TicketInfo, agent.Change, error) {
		sess, ok := s.eng.SessionByToken(h)
		if !ok {
			return agent.TicketInfo{}, agent.Change{}, queue.Errorf(queue.CodeUnauthorized, "session.required")
		}
		s.used(h)
		a.Executive = sess.Executive
		if a.Action == queue.ActionCancel {
			a.By = "executive"
		}
		t, ch, err := s.eng.Apply(now, a)
		if queue.ErrorReason(err) == "ticket.not_found" {
			// Closed tickets are not in the engine: report the illegal transition.
			old, qerr := queryTickets(context.Background(), tx, "WHERE id = ?", a.Ticket)
			if qerr != nil {
				return agent.TicketInfo{}, ch, &writeError{qerr}
			}
			if len(old) == 1 {
				_, terr := queue.Transition(old[0].Status, a.Action)
				if terr == nil {
					terr = queue.Errorf(queue.CodeConflict, "ticket.illegal_transition", a.Action, old[0].Status)
				}
				return agent.TicketInfo{}, ch, terr
			}
		}
		if err != nil {
			return agent.TicketInfo{}, ch, err
		}
		return s.info(t, now), ch, nil
	})
}
