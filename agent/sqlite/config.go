package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// ConfigVersion is the HQ configuration version running (0 before any).
func (s *Store) ConfigVersion(ctx context.Context) (int64, error) {
	v, _, err := getMeta(ctx, s.r, metaConfigVersion)
	if err != nil {
		return 0, err
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n, nil
}

// ApplyConfig replaces services, counters, executives, rules, time zone and
// the cloud's RUT sealing key with an HQ snapshot newer than the running one, in one transaction
// between operations, and emits config.applied. Sessions of executives or at
// counters no longer configured end.
//
// Errors: invalid event.invalid for a snapshot that does not validate or is
// for another branch.
func (s *Store) ApplyConfig(ctx context.Context, c event.Config) error {
	if err := c.Validate(); err != nil {
		return queue.Errorf(queue.CodeInvalid, "event.invalid", err.Error())
	}
	if c.Branch != s.cfg.Branch {
		return queue.Errorf(queue.CodeInvalid, "event.invalid", "config for branch "+c.Branch)
	}
	// An old cloud's rut_key (HQ's network-wide RUT hash key) is ignored:
	// nothing of it is stored (see replaceConfig).
	err := s.do(ctx, func(tx *sql.Tx, now time.Time) (agent.Change, error) {
		cur, _, err := getMeta(ctx, tx, metaConfigVersion)
		if err != nil {
			return agent.Change{}, &writeError{err}
		}
		if n, _ := strconv.ParseInt(cur, 10, 64); c.Version <= n {
			return agent.Change{}, nil
		}
		oldHours, _, err := getMeta(ctx, tx, metaHours)
		if err != nil {
			return agent.Change{}, &writeError{err}
		}
		oldOpening, _, err := getMeta(ctx, tx, metaOpeningHours)
		if err != nil {
			return agent.Change{}, &writeError{err}
		}
		if err := s.replaceConfig(ctx, tx, c); err != nil {
			return agent.Change{}, &writeError{err}
		}
		if newHours, _ := json.Marshal(c.Hours); oldOpening != c.OpeningHours || oldHours != string(newHours) {
			if err := setMeta(ctx, tx, metaHoursSince, ts(now)); err != nil {
				return agent.Change{}, &writeError{err}
			}
		}
		if err := s.load(tx); err != nil {
			return agent.Change{}, &writeError{err}
		}
		var ch agent.Change
		ch.Events = append(ch.Events, agent.Emitted{Type: event.ConfigApplied, At: now.UTC(), Data: event.ConfigRef{Version: c.Version,
			Actor: &event.Actor{Kind: event.ActorHQ, User: c.PublishedBy}}})
		if s.cfg.ReportEvery > 0 {
			rep, err := s.reportChange(ctx, tx, now)
			if err != nil {
				return agent.Change{}, &writeError{err}
			}
			ch.Meta, ch.Events = rep.Meta, append(ch.Events, rep.Events...)
		}
		s.log.Info("config applied", "version", c.Version, "services", len(c.Services), "executives", len(c.Executives))
		return ch, nil
	})
	return err
}

func (s *Store) replaceConfig(ctx context.Context, tx *sql.Tx, c event.Config) error {
	exec := func(q string, args ...any) error {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("sqlite: apply config: %w", err)
		}
		return nil
	}
	if err := markDraining(ctx, tx, c, s.cfg.Now()); err != nil {
		return err
	}
	if err := exec("UPDATE services SET active = 0"); err != nil {
		return err
	}
	for _, sv := range c.Services {
		if err := exec(`INSERT INTO services (code, name, target_wait_s, mean_service_s, priority, active) VALUES (?, ?, ?, ?, ?, 1)
			ON CONFLICT (code) DO UPDATE SET name = excluded.name, target_wait_s = excluded.target_wait_s,
			mean_service_s = excluded.mean_service_s, priority = excluded.priority, active = 1`,
			sv.Code, sv.Name, sv.TargetWaitS, sv.MeanServiceS, sv.Priority); err != nil {
			return err
		}
	}
	keepExec := make([]any, 0, len(c.Executives))
	for _, x := range c.Executives {
		keepExec = append(keepExec, x.ID)
		// PINs are the branch's: a PIN hash (only older HQs send one) is
		// taken only for an executive who has no PIN here yet.
		if err := exec(`INSERT INTO executives (id, name, services, pin_hash, active) VALUES (?, ?, ?, ?, 1)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, services = excluded.services,
			pin_hash = CASE WHEN executives.pin_hash = '' THEN excluded.pin_hash ELSE executives.pin_hash END, active = 1`,
			x.ID, x.Name, strings.Join(x.Services, ","), x.PINHash); err != nil {
			return err
		}
	}
	if len(c.Counters) > 0 {
		keep := make([]any, 0, len(c.Counters))
		for _, k := range c.Counters {
			keep = append(keep, k.Number)
			name := k.Name
			if name == "" {
				name = "Módulo " + strconv.Itoa(k.Number)
			}
			if err := exec("INSERT INTO counters (number, name) VALUES (?, ?) ON CONFLICT (number) DO UPDATE SET name = excluded.name", k.Number, name); err != nil {
				return err
			}
		}
		in := placeholders(len(keep))
		if err := exec("DELETE FROM sessions WHERE counter NOT IN ("+in+")", keep...); err != nil {
			return err
		}
		if err := exec("DELETE FROM counters WHERE number NOT IN ("+in+")", keep...); err != nil {
			return err
		}
	}
	if len(keepExec) > 0 {
		in := placeholders(len(keepExec))
		if err := exec("UPDATE executives SET active = 0 WHERE id NOT IN ("+in+")", keepExec...); err != nil {
			return err
		}
		if err := exec("DELETE FROM sessions WHERE executive NOT IN ("+in+")", keepExec...); err != nil {
			return err
		}
	}
	rules, _ := json.Marshal(c.Rules)
	hours, _ := json.Marshal(c.Hours)
	outcomes, _ := json.Marshal(c.Outcomes)
	if len(c.Outcomes) == 0 {
		outcomes = nil
	}
	if err := setMeta(ctx, tx, metaOutcomes, string(outcomes)); err != nil {
		return err
	}
	for k, v := range map[string]string{metaRules: string(rules), metaTimeZone: c.TimeZone,
		metaConfigVersion: strconv.FormatInt(c.Version, 10), metaOpeningHours: c.OpeningHours,
		metaBranchName: c.BranchName, metaRegion: c.Region, metaHours: string(hours), metaRUTSealKey: c.RUTSealKey} {
		if err := setMeta(ctx, tx, k, v); err != nil {
			return err
		}
	}
	// HQ's RUT hash key, as older agents stored it, goes (migration 00007
	// deleted it too; a restored old backup brings it back).
	return exec("DELETE FROM meta WHERE key = ?", metaRUTKey)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// ApplyCommand applies a cloud command once by its ID. A cancel of a waiting or
// called ticket writes ticket.cancelled (By "telegram", Request = command ID);
// a locate of a waiting ticket writes ticket.placed (its place now);
// appointment.book, appointment.cancel, ticket.join and ticket.check_in are
// answered as agent.Engine.BookAppointment, CancelAppointment, Join and
// CheckInByCommand say; a command that cannot apply is recorded with its
// result and returns nil.
func (s *Store) ApplyCommand(ctx context.Context, cmd event.Command) error {
	if cmd.ID == "" || len(cmd.ID) > 128 {
		return queue.Errorf(queue.CodeInvalid, "event.invalid", "command id")
	}
	if cmd.Type == event.CommandExecutiveScores {
		return s.applyScores(ctx, cmd)
	}
	err := s.do(ctx, func(tx *sql.Tx, now time.Time) (agent.Change, error) {
		var prev string
		err := tx.QueryRow("SELECT result FROM commands WHERE id = ?", cmd.ID).Scan(&prev)
		if err == nil {
			return agent.Change{}, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return agent.Change{}, &writeError{fmt.Errorf("sqlite: command: %w", err)}
		}
		result := "applied"
		var ch agent.Change
		switch cmd.Type {
		case event.CommandCancelTicket:
			var aerr error
			_, ch, aerr = s.eng.CancelByCommand(now, cmd.Ticket, cmd.ID)
			if aerr != nil {
				result = queue.ErrorReason(aerr)
				if result == "ticket.not_found" {
					if old, qerr := queryTickets(ctx, tx, "WHERE id = ?", cmd.Ticket); qerr == nil && len(old) == 1 {
						result = "ticket.illegal_transition: " + string(old[0].Status)
					}
				}
			}
		case event.CommandLocateTicket:
			var aerr error
			if ch, aerr = s.eng.Locate(now, cmd.Ticket, cmd.ID); aerr != nil {
				result = queue.ErrorReason(aerr)
			}
		// Appointments and the virtual queue (appointment.go): every answer is
		// an event of this transaction.
		case event.CommandBookAppointment:
			ch, result = s.eng.BookAppointment(now, cmd.Appointment, cmd.ID)
		case event.CommandCancelAppointment:
			ch, result = s.eng.CancelAppointment(now, cmd.Appointment, cmd.ID)
		case event.CommandJoinQueue:
			ch, result = s.eng.Join(now, cmd.Join, cmd.ID)
		case event.CommandCheckIn:
			var aerr error
			if _, ch, aerr = s.eng.CheckInByCommand(now, cmd.Ticket, cmd.ID); aerr != nil {
				result = queue.ErrorReason(aerr)
			}
		default:
			result = "unknown command type " + cmd.Type
		}
		if _, err := tx.Exec("INSERT INTO commands (id, type, applied_at, result) VALUES (?, ?, ?, ?)",
			cmd.ID, cmd.Type, ts(now), result); err != nil {
			return ch, &writeError{fmt.Errorf("sqlite: command: %w", err)}
		}
		s.log.Info("command applied", "command", cmd.ID, "type", cmd.Type, "ticket", cmd.Ticket, "result", result)
		return ch, nil
	})
	return err
}
