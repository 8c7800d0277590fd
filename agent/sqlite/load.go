package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

// Meta keys of the store.
const (
	metaSeeded        = "seeded"
	metaTimeZone      = "time_zone"
	metaRules         = "rules"
	metaOutcomes      = "outcomes" // HQ's visit outcome codes as JSON
	metaRUTKey        = "rut_key"  // HQ's hash key, stored by older agents: deleted on config apply
	metaRUTSealKey    = "rut_seal_key"
	metaConfigVersion = "config_version"
	metaLastAck       = "last_ack"
	metaBranch        = "branch"
	metaOpeningHours  = "opening_hours"
	metaBranchName    = "branch_name"
	metaRegion        = "region"
	metaHours         = "hours"        // event.Hours as JSON (weekly hours, holidays, grace, cut-offs)
	metaHoursSince    = "hours_since"  // when the hours in force were applied
	metaHealthProbe   = "health_probe" // the last write of the health check (Writable)
)

// init seeds a new database, checks the branch, loads the engine and closes a
// business day left open while the agent was down.
func (s *Store) init(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: init: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	branch, ok, err := getMeta(ctx, tx, metaBranch)
	if err != nil {
		return err
	}
	if ok && branch != s.cfg.Branch {
		return fmt.Errorf("sqlite: database %s belongs to branch %s, not %s", s.cfg.Path, branch, s.cfg.Branch)
	}
	if !ok {
		if err := setMeta(ctx, tx, metaBranch, s.cfg.Branch); err != nil {
			return err
		}
	}
	if _, seeded, err := getMeta(ctx, tx, metaSeeded); err != nil {
		return err
	} else if !seeded {
		for _, sv := range queue.DefaultServices() {
			if _, err := tx.ExecContext(ctx, "INSERT INTO services (code, name, target_wait_s, mean_service_s, priority) VALUES (?, ?, ?, ?, ?)",
				sv.Code, sv.Name, sv.TargetWaitS, sv.MeanServiceS, sv.Priority); err != nil {
				return fmt.Errorf("sqlite: seed services: %w", err)
			}
		}
		rules, _ := json.Marshal(event.DefaultRules())
		if err := setMeta(ctx, tx, metaRules, string(rules)); err != nil {
			return err
		}
		if err := setMeta(ctx, tx, metaSeeded, ts(s.cfg.Now())); err != nil {
			return err
		}
		s.log.Info("seeded a new database", "services", len(queue.DefaultServices()))
	}
	// Until HQ configures the branch, the counters follow the command line.
	if v, _, err := getMeta(ctx, tx, metaConfigVersion); err != nil {
		return err
	} else if atoi(v) == 0 {
		for n := 1; n <= s.cfg.Counters; n++ {
			if _, err := tx.ExecContext(ctx, "INSERT INTO counters (number, name) VALUES (?, ?) ON CONFLICT (number) DO NOTHING",
				n, "Módulo "+strconv.Itoa(n)); err != nil {
				return fmt.Errorf("sqlite: seed counters: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM counters WHERE number > ? AND number NOT IN (SELECT counter FROM sessions)", s.cfg.Counters); err != nil {
			return fmt.Errorf("sqlite: counters: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: init: %w", err)
	}
	s.mu.Lock()
	err = s.load(s.w)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.process(nil) // close a day left open
	return nil
}

// load (re)builds the engine, keys and seqs from the database.
func (s *Store) load(q querier) error {
	ctx := context.Background()
	meta := map[string]string{}
	rows, err := q.QueryContext(ctx, "SELECT key, value FROM meta")
	if err != nil {
		return fmt.Errorf("sqlite: load meta: %w", err)
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: load meta: %w", err)
		}
		meta[k] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: load meta: %w", err)
	}
	tz := s.cfg.TimeZone
	if v := meta[metaTimeZone]; v != "" {
		tz = v
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return fmt.Errorf("sqlite: time zone %q: %w", tz, err)
	}
	rules := event.DefaultRules()
	if v := meta[metaRules]; v != "" {
		if err := json.Unmarshal([]byte(v), &rules); err != nil {
			return fmt.Errorf("sqlite: rules: %w", err)
		}
	}
	var hours event.Hours
	if v := meta[metaHours]; v != "" {
		if err := json.Unmarshal([]byte(v), &hours); err != nil {
			return fmt.Errorf("sqlite: hours: %w", err)
		}
	}
	sched, err := agent.NewSchedule(meta[metaOpeningHours], hours)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	st := agent.EngineState{Day: meta[agent.MetaDay], Numbering: map[string]int{}, Streaks: map[string]int{}, Means: map[string]float64{},
		Runs: map[string]int{}}
	st.Closed = st.Day != "" && meta[agent.MetaDayClosed] == st.Day
	if v := meta[metaHoursSince]; v != "" {
		st.HoursSince = parseTime(sql.NullString{String: v, Valid: true})
	}
	if v := meta[agent.MetaManagerDay]; v != "" {
		var d agent.ManagerDay
		if err := json.Unmarshal([]byte(v), &d); err != nil {
			// A damaged row costs today's manager changes, never the branch.
			s.log.Warn("stored manager changes unusable: ignored", "err", err)
		} else {
			st.Manager = &d
		}
	}
	for k, v := range meta {
		switch {
		case strings.HasPrefix(k, "streak."):
			st.Streaks[strings.TrimPrefix(k, "streak.")] = atoi(v)
		case strings.HasPrefix(k, "run."):
			st.Runs[strings.TrimPrefix(k, "run.")] = atoi(v)
		case strings.HasPrefix(k, "mean."):
			f, _ := strconv.ParseFloat(v, 64)
			st.Means[strings.TrimPrefix(k, "mean.")] = f
		}
	}
	svcs, err := loadServices(ctx, q)
	if err != nil {
		return err
	}
	counters, err := loadCounters(ctx, q)
	if err != nil {
		return err
	}
	execs, err := loadExecutives(ctx, q, "")
	if err != nil {
		return err
	}
	if rows, err = q.QueryContext(ctx, "SELECT service, last FROM numbering WHERE day = ?", st.Day); err != nil {
		return fmt.Errorf("sqlite: load numbering: %w", err)
	}
	for rows.Next() {
		var c string
		var n int
		if err := rows.Scan(&c, &n); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: load numbering: %w", err)
		}
		st.Numbering[c] = n
	}
	rows.Close()
	// An error mid-read would leave a service's number short: the next ticket
	// would re-issue a number already given today.
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: load numbering: %w", err)
	}
	if rows, err = q.QueryContext(ctx, "SELECT token_hash, executive, counter, paused, pause_reason, started_at, changed_at, pause_code FROM sessions"); err != nil {
		return fmt.Errorf("sqlite: load sessions: %w", err)
	}
	for rows.Next() {
		var ss agent.Session
		var paused int
		var started, changed sql.NullString
		if err := rows.Scan(&ss.TokenHash, &ss.Executive, &ss.Counter, &paused, &ss.PauseReason, &started, &changed, &ss.PauseCode); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: load sessions: %w", err)
		}
		ss.Paused, ss.StartedAt, ss.ChangedAt = paused == 1, parseTime(started), parseTime(changed)
		st.Sessions = append(st.Sessions, ss)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: load sessions: %w", err)
	}
	if st.Tickets, err = queryTickets(ctx, q, "WHERE status IN ('waiting', 'called', 'serving', 'parked')"); err != nil {
		return err
	}
	if st.Appointments, err = loadAppointments(ctx, q, st.Day); err != nil {
		return err
	}
	var outcomes []queue.Outcome
	if v := meta[metaOutcomes]; v != "" {
		if err := json.Unmarshal([]byte(v), &outcomes); err != nil {
			return fmt.Errorf("sqlite: outcomes: %w", err)
		}
	}
	draining, err := loadDraining(ctx, q, meta)
	if err != nil {
		return err
	}
	eng, err := agent.NewEngine(agent.EngineConfig{Branch: s.cfg.Branch, Location: loc, Services: svcs,
		Counters: counters, Executives: execs, Rules: rules, Schedule: sched, Draining: draining,
		Outcomes: outcomes, NewID: s.cfg.NewID, NewToken: s.cfg.NewToken}, st)
	if err != nil {
		return err
	}
	var maxSeq sql.NullInt64
	if err := q.QueryRowContext(ctx, "SELECT MAX(seq) FROM outbox").Scan(&maxSeq); err != nil {
		return fmt.Errorf("sqlite: load seq: %w", err)
	}
	ack := uint64(atoi(meta[metaLastAck]))
	last := max(uint64(maxSeq.Int64), ack)
	// The box hashes RUTs with its own key only; HQ's network-wide key never
	// lives here (a box that holds it reverses every RUT hash in seconds).
	rutKey := seal.Derive(s.cfg.DataKey, "rut-hash")
	var rutSeal *[seal.RUTSealKeySize]byte
	if v := meta[metaRUTSealKey]; v != "" {
		if rutSeal, err = seal.ParseRUTSealKey(v); err != nil {
			// Only a validated config stores it; a damaged value costs the
			// pseudonym (until HQ publishes again), never the branch.
			s.log.Warn("stored RUT sealing key unusable: tickets carry no RUT pseudonym", "err", err)
			rutSeal = nil
		}
	}
	s.rutSeal.Store(rutSeal)
	if s.eng != nil {
		eng.KeepManagers(s.eng) // a reload (config, failed write) keeps managers signed in
	}
	s.eng, s.lastSeq, s.rutKey, s.openingHours = eng, last, rutKey, meta[metaOpeningHours]
	s.name, s.region = meta[metaBranchName], meta[metaRegion]
	if s.name == "" { // HQ has not named the branch yet: the box's own setting
		s.name, s.region = s.cfg.Name, s.cfg.Region
	}
	s.reported = ""
	s.committed.Store(last)
	s.acked.Store(ack)
	s.broker.SetSeq(last)
	return nil
}

func loadServices(ctx context.Context, q querier) ([]queue.Service, error) {
	rows, err := q.QueryContext(ctx, "SELECT code, name, target_wait_s, mean_service_s, priority FROM services WHERE active = 1 ORDER BY rowid")
	if err != nil {
		return nil, fmt.Errorf("sqlite: load services: %w", err)
	}
	defer rows.Close()
	var out []queue.Service
	for rows.Next() {
		var sv queue.Service
		if err := rows.Scan(&sv.Code, &sv.Name, &sv.TargetWaitS, &sv.MeanServiceS, &sv.Priority); err != nil {
			return nil, fmt.Errorf("sqlite: load services: %w", err)
		}
		out = append(out, sv)
	}
	return out, rows.Err()
}

func loadCounters(ctx context.Context, q querier) ([]queue.Counter, error) {
	rows, err := q.QueryContext(ctx, "SELECT number, name FROM counters ORDER BY number")
	if err != nil {
		return nil, fmt.Errorf("sqlite: load counters: %w", err)
	}
	defer rows.Close()
	var out []queue.Counter
	for rows.Next() {
		var c queue.Counter
		if err := rows.Scan(&c.Number, &c.Name); err != nil {
			return nil, fmt.Errorf("sqlite: load counters: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// loadExecutives loads every executive, or only id when given.
func loadExecutives(ctx context.Context, q querier, id string) ([]agent.Executive, error) {
	query := "SELECT id, name, services, pin_hash, pin_weak, active, manager FROM executives"
	var args []any
	if id != "" {
		query += " WHERE id = ?"
		args = append(args, id)
	}
	rows, err := q.QueryContext(ctx, query+" ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: load executives: %w", err)
	}
	defer rows.Close()
	var out []agent.Executive
	for rows.Next() {
		var x agent.Executive
		var svcs string
		var weak, active, manager int
		if err := rows.Scan(&x.ID, &x.Name, &svcs, &x.PINHash, &weak, &active, &manager); err != nil {
			return nil, fmt.Errorf("sqlite: load executives: %w", err)
		}
		x.Services = splitCodes(svcs)
		x.WeakPIN = weak == 1
		x.Active = active == 1
		x.Manager = manager == 1
		out = append(out, x)
	}
	return out, rows.Err()
}

func splitCodes(s string) []string {
	var out []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

const ticketColumns = `id, day, origin_service, number, service, priority, status, counter, executive, recalls,
	outcome, rut_enc, rut_hash, token, channel, queued_at, first_in_line, created_at, called_at, recalled_at,
	started_at, ended_at, quoted_typical_s, quoted_upper_s, near, target_counter, target_executive, name_enc,
	appointment, due, join_cmd, present, hold_until, slides, checkin_code, rut_check`

func queryTickets(ctx context.Context, q querier, where string, args ...any) ([]agent.Ticket, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+ticketColumns+" FROM tickets "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: tickets: %w", err)
	}
	defer rows.Close()
	var out []agent.Ticket
	for rows.Next() {
		var t agent.Ticket
		var prio, status string
		var counter sql.NullInt64
		var exec sql.NullString
		var firstInLine, near int
		var queued, created, called, recalled, started, ended, due, hold sql.NullString
		var present int
		if err := rows.Scan(&t.ID, &t.Day, &t.OriginService, &t.Number, &t.Service, &prio, &status, &counter, &exec,
			&t.Recalls, &t.Outcome, &t.RUTEnc, &t.RUTHash, &t.Token, &t.Channel, &queued, &firstInLine, &created,
			&called, &recalled, &started, &ended, &t.QuotedTypical, &t.QuotedUpper, &near,
			&t.TargetCounter, &t.TargetExecutive, &t.NameEnc, &t.Appointment, &due, &t.Join, &present, &hold,
			&t.Slides, &t.Code, &t.RUTCheck); err != nil {
			return nil, fmt.Errorf("sqlite: tickets: %w", err)
		}
		t.Priority, t.Status = queue.PriorityClass(prio), queue.Status(status)
		t.Counter, t.Executive, t.FirstInLine, t.Near = int(counter.Int64), exec.String, firstInLine == 1, near == 1
		t.QueuedAt, t.CreatedAt = parseTime(queued), parseTime(created)
		t.CalledAt, t.RecalledAt, t.StartedAt, t.EndedAt = parseTime(called), parseTime(recalled), parseTime(started), parseTime(ended)
		t.Due, t.HoldUntil, t.Unchecked = parseTime(due), parseTime(hold), present == 0
		out = append(out, t)
	}
	return out, rows.Err()
}
