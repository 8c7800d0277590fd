package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// metaConfigReported is the SHA-256 of the last config.reported payload.
const metaConfigReported = "config_reported"

// ReportConfig emits config.reported when the configuration the branch runs
// (services, counters, active executives, without PINs or PIN hashes) differs
// from the last one reported. This is how HQ learns a branch set up locally:
// the event travels the outbox like any other (exactly once, in order), and
// the cloud imports it into HQ's draft on first contact. The store checks on
// its own every Config.ReportEvery (the first time that long after start-up,
// so a new database reports within it) and after an HQ config is applied; the
// admin command's changes (made by another process on the file) are seen at
// the next check.
func (s *Store) ReportConfig(ctx context.Context) error {
	_, err := s.do(ctx, func(tx *sql.Tx, now time.Time) (any, agent.Change, error) {
		ch, err := s.reportChange(ctx, tx, now)
		if err != nil {
			return nil, ch, &writeError{err}
		}
		return nil, ch, nil
	})
	return err
}

// configReport reads the configuration the branch runs from its tables.
func configReport(ctx context.Context, q querier, tz string) (event.ConfigReport, error) {
	r := event.ConfigReport{Services: []queue.Service{}, Counters: []queue.Counter{}, Executives: []queue.Executive{}}
	v, _, err := getMeta(ctx, q, metaConfigVersion)
	if err != nil {
		return r, err
	}
	r.Version, _ = strconv.ParseInt(v, 10, 64)
	if r.TimeZone, _, err = getMeta(ctx, q, metaTimeZone); err != nil {
		return r, err
	}
	if r.TimeZone == "" {
		r.TimeZone = tz
	}
	svcs, err := loadServices(ctx, q)
	if err != nil {
		return r, err
	}
	counters, err := loadCounters(ctx, q)
	if err != nil {
		return r, err
	}
	execs, err := loadExecutives(ctx, q, "")
	if err != nil {
		return r, err
	}
	r.Services = append(r.Services, svcs...)
	r.Counters = append(r.Counters, counters...)
	for _, x := range execs {
		if x.Active {
			svc := x.Services
			if svc == nil {
				svc = []string{}
			}
			r.Executives = append(r.Executives, queue.Executive{ID: x.ID, Name: x.Name, Services: svc})
		}
	}
	return r, nil
}

// reportChange returns the config.reported event (and records its hash) when
// the report differs from the last one; an empty change otherwise.
func (s *Store) reportChange(ctx context.Context, q querier, now time.Time) (agent.Change, error) {
	var ch agent.Change
	r, err := configReport(ctx, q, s.cfg.TimeZone)
	if err != nil {
		return ch, err
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return ch, fmt.Errorf("sqlite: config report: %w", err)
	}
	sum := sha256.Sum256(raw)
	h := hex.EncodeToString(sum[:])
	prev, _, err := getMeta(ctx, q, metaConfigReported)
	if err != nil || prev == h {
		return ch, err
	}
	ch.Meta = map[string]string{metaConfigReported: h}
	ch.Events = append(ch.Events, agent.Emitted{Type: event.ConfigReported, At: now.UTC(), Data: r})
	s.log.Info("config reported", "version", r.Version, "services", len(r.Services), "counters", len(r.Counters), "executives", len(r.Executives))
	return ch, nil
}

// reportOp is the writer's own periodic check (nobody waits for it).
func (s *Store) reportOp() *op {
	ctx := context.Background()
	return &op{done: make(chan struct{}), run: func(tx *sql.Tx, now time.Time) (any, agent.Change, error) {
		ch, err := s.reportChange(ctx, tx, now)
		if err != nil {
			s.log.Warn("config report", "err", err)
			return nil, agent.Change{}, nil
		}
		return nil, ch, nil
	}}
}

// metaDrain prefixes the meta key of a service removed by HQ while tickets of
// it were open; the value lists the executives who served it.
const metaDrain = "drain."

// markDraining records, before an HQ config replaces the services, which of
// the running services it removes while tickets of theirs are still open, and
// who served them: those executives keep calling them until nobody is left
// (agent.Draining). A service the config keeps or brings back is no longer
// draining.
func markDraining(ctx context.Context, tx *sql.Tx, c event.Config) error {
	keep := map[string]bool{}
	for _, sv := range c.Services {
		keep[sv.Code] = true
		if _, err := tx.ExecContext(ctx, "DELETE FROM meta WHERE key = ?", metaDrain+sv.Code); err != nil {
			return fmt.Errorf("sqlite: drain: %w", err)
		}
	}
	svcs, err := loadServices(ctx, tx)
	if err != nil {
		return err
	}
	execs, err := loadExecutives(ctx, tx, "")
	if err != nil {
		return err
	}
	for _, sv := range svcs {
		if keep[sv.Code] {
			continue
		}
		var open int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM tickets WHERE service = ? AND status IN ('waiting', 'called', 'serving')",
			sv.Code).Scan(&open); err != nil {
			return fmt.Errorf("sqlite: drain: %w", err)
		}
		if open == 0 {
			continue
		}
		var ids []string
		for _, x := range execs {
			if x.Active && slices.Contains(x.Services, sv.Code) {
				ids = append(ids, x.ID)
			}
		}
		if err := setMeta(ctx, tx, metaDrain+sv.Code, strings.Join(ids, ",")); err != nil {
			return err
		}
	}
	return nil
}

// loadDraining returns the removed services that still have open tickets.
func loadDraining(ctx context.Context, q querier, meta map[string]string, active []queue.Service) ([]agent.Draining, error) {
	var out []agent.Draining
	for k, v := range meta {
		code, ok := strings.CutPrefix(k, metaDrain)
		if !ok || slices.ContainsFunc(active, func(s queue.Service) bool { return s.Code == code }) {
			continue
		}
		var d agent.Draining
		var open int
		err := q.QueryRowContext(ctx, `SELECT code, name, target_wait_s, mean_service_s, priority,
			(SELECT count(*) FROM tickets WHERE service = services.code AND status IN ('waiting', 'called', 'serving'))
			FROM services WHERE code = ?`, code).Scan(&d.Code, &d.Name, &d.TargetWaitS, &d.MeanServiceS, &d.Priority, &open)
		if errors.Is(err, sql.ErrNoRows) || open == 0 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: load draining: %w", err)
		}
		d.Executives = splitCodes(v)
		if d.Executives == nil {
			d.Executives = []string{}
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b agent.Draining) int { return strings.Compare(a.Code, b.Code) })
	return out, nil
}
