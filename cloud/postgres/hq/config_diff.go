package hq

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// RunningConfig returns what a branch runs.
func (s *Store) RunningConfig(ctx context.Context, branch string) (RunningConfig, error) {
	var rc RunningConfig
	var raw []byte
	var imported *time.Time
	err := s.pool.QueryRow(ctx, `SELECT report, reported_at, imported_at FROM branch_reported_config WHERE branch = $1`, branch).
		Scan(&raw, &rc.At, &imported)
	if err == nil {
		var r event.ConfigReport
		if err := json.Unmarshal(raw, &r); err != nil {
			return rc, wrap("reported config", err)
		}
		if imported != nil {
			rc.ImportedAt = *imported
		}
		rc.Source, rc.Version, rc.Services, rc.Counters, rc.Executives = "reported", r.Version, r.Services, r.Counters, r.Executives
		rc.TimeZone = r.TimeZone
		if r.Version > 0 {
			// The hours and rules came with the HQ version it runs; a report
			// has none.
			var rules []byte
			err := s.pool.QueryRow(ctx, `SELECT coalesce(snapshot->>'opening_hours', ''), snapshot->'rules'
				FROM hq_branch_configs WHERE branch = $1 AND version = $2`,
				branch, r.Version).Scan(&rc.OpeningHours, &rules)
			if err != nil && err != pgx.ErrNoRows {
				return rc, wrap("running hours", err)
			}
			if len(rules) > 0 && string(rules) != "null" {
				var ru event.Rules
				if err := json.Unmarshal(rules, &ru); err != nil {
					return rc, wrap("running rules", err)
				}
				rc.Rules = &ru
			}
		}
		return rc, nil
	}
	if err != pgx.ErrNoRows {
		return rc, wrap("reported config", err)
	}
	err = s.pool.QueryRow(ctx, `SELECT c.snapshot FROM hq_branch_configs c JOIN branch_sync s ON s.branch = c.branch AND s.config_version = c.version
		WHERE c.branch = $1`, branch).Scan(&raw)
	if err == pgx.ErrNoRows {
		return rc, nil
	}
	if err != nil {
		return rc, wrap("running snapshot", err)
	}
	var c event.Config
	if err := json.Unmarshal(raw, &c); err != nil {
		return rc, wrap("running snapshot", err)
	}
	rc.Source, rc.At, rc.Version, rc.Services, rc.Counters = "published", c.PublishedAt, c.Version, c.Services, c.Counters
	rc.TimeZone, rc.OpeningHours, rc.Rules = c.TimeZone, c.OpeningHours, &c.Rules
	for _, x := range c.Executives {
		rc.Executives = append(rc.Executives, x.Executive)
	}
	return rc, nil
}

// stranded returns the services whose waiting tickets (today's and
// yesterday's in the branch's zone, from HQ's projection) the given
// configuration would leave without a service or an executive, most waiting
// first. A service that what the branch runs already leaves without an
// executive is not counted: the publication does not strand those tickets, and
// refusing it would block every publication (hours, names) until someone is
// assigned. When HQ knows nothing the branch runs, every case counts.
func (s *Store) stranded(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, branch, tz string, services []queue.Service, execs []queue.Executive, running RunningConfig) ([]Stranded, error) {
	names := runningNames(running)
	runsServed := func(code string) bool {
		if running.Source == "" {
			return true
		}
		for _, x := range running.Executives {
			if slices.Contains(x.Services, code) {
				return true
			}
		}
		return false
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	since := s.now().In(loc).AddDate(0, 0, -1).Format(time.DateOnly)
	rows, err := q.Query(ctx, `SELECT service, count(*) FROM tickets WHERE branch = $1 AND day >= $2::date AND status = 'waiting'
		GROUP BY service ORDER BY count(*) DESC, service`, branch, since)
	if err != nil {
		return nil, wrap("waiting tickets", err)
	}
	type waiting struct {
		code string
		n    int
	}
	ws, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (waiting, error) {
		var w waiting
		return w, r.Scan(&w.code, &w.n)
	})
	if err != nil {
		return nil, wrap("waiting tickets", err)
	}
	var out []Stranded
	for _, w := range ws {
		st := Stranded{Code: w.code, Name: names[w.code], Waiting: w.n, Removed: true}
		for _, sv := range services {
			if sv.Code == w.code {
				st.Removed, st.Name = false, sv.Name
			}
		}
		served := false
		for _, x := range execs {
			served = served || slices.Contains(x.Services, w.code)
		}
		if st.Name == "" {
			st.Name = w.code
		}
		if (st.Removed || !served) && runsServed(w.code) {
			out = append(out, st)
		}
	}
	return out, nil
}

// strandedError is the refusal of a publication that strands waiting tickets,
// naming the service most affected and how many wait for it.
func strandedError(st []Stranded) error {
	w := st[0]
	if w.Removed {
		return queue.Errorf(queue.CodeConflict, "hq.config.strands_service", w.Code, w.Name, w.Waiting)
	}
	return queue.Errorf(queue.CodeConflict, "hq.config.strands_unserved", w.Code, w.Name, w.Waiting)
}

// PublishPreview compares a branch's draft with what it runs, described in
// lang. Errors: not_found hq.branch.not_found.
func (s *Store) PublishPreview(ctx context.Context, branch string, lang i18n.Lang) (BranchConfig, Preview, error) {
	c, err := s.BranchConfig(ctx, branch)
	if err != nil {
		return c, Preview{}, err
	}
	var p Preview
	if p.Running, err = s.RunningConfig(ctx, branch); err != nil {
		return c, p, err
	}
	p.Diff = cloud.DiffConfig(p.Running, c, lang)
	execs := make([]queue.Executive, 0, len(c.Executives))
	for _, x := range c.Executives {
		execs = append(execs, x.Executive)
	}
	p.Stranded, err = s.stranded(ctx, s.pool, branch, c.TimeZone, c.Services, execs, p.Running)
	return c, p, err
}

func runningNames(rc RunningConfig) map[string]string {
	names := map[string]string{}
	for _, sv := range rc.Services {
		names[sv.Code] = sv.Name
	}
	return names
}
