package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
)

// metaDrain prefixes the meta key of a service an HQ config left with open
// tickets and nobody to serve them: removed, or kept with no executive serving
// it. The value is "<applied at>|<executives who served it>": only tickets
// issued before the config count (the service takes no new ones meanwhile).
const metaDrain = "drain."

// drainMark is a parsed metaDrain value.
type drainMark struct {
	since time.Time // zero: every open ticket counts
	execs []string
}

func parseDrain(v string) drainMark {
	at, execs, ok := strings.Cut(v, "|")
	if !ok {
		return drainMark{execs: splitCodes(v)}
	}
	t, _ := time.Parse(timeLayout, at)
	return drainMark{since: t, execs: splitCodes(execs)}
}

// markDraining records, before an HQ config replaces the services, which of
// the running services it would leave with open tickets and nobody to serve
// them, and who served them: those executives keep calling them until nobody
// is left (agent.Draining). An HQ that checks its publications never sends
// such a config; an older cloud might. A service the config keeps with
// someone to serve it, or brings back, is no longer draining.
func markDraining(ctx context.Context, tx *sql.Tx, c event.Config, now time.Time) error {
	keep := map[string]bool{}
	servedAfter := map[string]bool{}
	for _, sv := range c.Services {
		keep[sv.Code] = true
	}
	for _, x := range c.Executives {
		for _, code := range x.Services {
			servedAfter[code] = true
		}
	}
	execs, err := loadExecutives(ctx, tx, "")
	if err != nil {
		return err
	}
	if len(c.Executives) == 0 { // a config without executives keeps the branch's (replaceConfig)
		for _, x := range execs {
			for _, code := range x.Services {
				servedAfter[code] = servedAfter[code] || x.Active
			}
		}
	}
	svcs, err := loadServices(ctx, tx)
	if err != nil {
		return err
	}
	for _, sv := range svcs {
		if keep[sv.Code] && servedAfter[sv.Code] {
			if _, err := tx.ExecContext(ctx, "DELETE FROM meta WHERE key = ?", metaDrain+sv.Code); err != nil {
				return fmt.Errorf("sqlite: drain: %w", err)
			}
			continue
		}
		var open int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM tickets WHERE service = ? AND status IN ('waiting', 'called', 'serving', 'parked')",
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
		if keep[sv.Code] && len(ids) == 0 {
			continue // nobody served it before either: not this config's doing
		}
		if err := setMeta(ctx, tx, metaDrain+sv.Code, ts(now)+"|"+strings.Join(ids, ",")); err != nil {
			return err
		}
	}
	// Services the config brings back are ordinary again.
	for code := range keep {
		if servedAfter[code] {
			if _, err := tx.ExecContext(ctx, "DELETE FROM meta WHERE key = ?", metaDrain+code); err != nil {
				return fmt.Errorf("sqlite: drain: %w", err)
			}
		}
	}
	return nil
}

// loadDraining returns the services still draining: marked by markDraining
// and with tickets from before the mark still open.
func loadDraining(ctx context.Context, q querier, meta map[string]string) ([]agent.Draining, error) {
	var out []agent.Draining
	for k, v := range meta {
		code, ok := strings.CutPrefix(k, metaDrain)
		if !ok {
			continue
		}
		m := parseDrain(v)
		var d agent.Draining
		err := q.QueryRowContext(ctx, `SELECT code, name, target_wait_s, mean_service_s, priority FROM services WHERE code = ?`, code).
			Scan(&d.Code, &d.Name, &d.TargetWaitS, &d.MeanServiceS, &d.Priority)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: load draining: %w", err)
		}
		open, err := queryTickets(ctx, q, "WHERE service = ? AND status IN ('waiting', 'called', 'serving', 'parked')", code)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(open, func(t agent.Ticket) bool { return m.since.IsZero() || !t.CreatedAt.After(m.since) }) {
			continue // drained: a later ticket belongs to the service HQ kept
		}
		d.Executives = m.execs
		if d.Executives == nil {
			d.Executives = []string{}
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b agent.Draining) int { return strings.Compare(a.Code, b.Code) })
	return out, nil
}
