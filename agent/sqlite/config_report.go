package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

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
	err := s.do(ctx, func(tx *sql.Tx, now time.Time) (agent.Change, error) {
		ch, err := s.reportChange(ctx, tx, now)
		if err != nil {
			return ch, &writeError{err}
		}
		return ch, nil
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

// reportChange returns the config.reported event when the report differs from
// the last one this process sent; an empty change otherwise. The hash lives
// in memory on purpose: every start reports once (a new cloud, a restored
// database or a replaced box learns the branch's setup), and a rolled-back
// write reloads the store, which forgets it, so nothing is lost.
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
	if s.reported == h {
		return ch, nil
	}
	s.reported = h
	ch.Events = append(ch.Events, agent.Emitted{Type: event.ConfigReported, At: now.UTC(), Data: r})
	s.log.Info("config reported", "version", r.Version, "services", len(r.Services), "counters", len(r.Counters), "executives", len(r.Executives))
	return ch, nil
}

// reportOp is the writer's own periodic check (nobody waits for it).
func (s *Store) reportOp() *op {
	ctx := context.Background()
	return &op{done: make(chan struct{}), run: func(tx *sql.Tx, now time.Time) (agent.Change, error) {
		ch, err := s.reportChange(ctx, tx, now)
		if err != nil {
			s.log.Warn("config report", "err", err)
			return agent.Change{}, nil
		}
		return ch, nil
	}}
}
