package hq

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// RunningConfig is what a branch runs, as HQ knows it: the branch's last
// config.reported (its own tables, so local changes show), or else the
// snapshot of the HQ version it reports running.
type RunningConfig struct {
	// Source is "reported", "published" or "" (HQ knows nothing the branch
	// runs: a branch that never reported and runs no HQ version).
	Source   string
	At       time.Time
	Version  int64
	TimeZone string
	// OpeningHours are the general hours the branch runs ("" with a Source:
	// none, open all day: a branch set up locally has no hours until HQ
	// publishes some).
	OpeningHours string
	Services     []queue.Service
	Counters     []queue.Counter
	Executives   []queue.Executive
	// ImportedAt is when the branch's report was imported into HQ's draft
	// (zero: never).
	ImportedAt time.Time
}

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
			// The hours came with the HQ version it runs; a report has none.
			err := s.pool.QueryRow(ctx, `SELECT coalesce(snapshot->>'opening_hours', '') FROM hq_branch_configs WHERE branch = $1 AND version = $2`,
				branch, r.Version).Scan(&rc.OpeningHours)
			if err != nil && err != pgx.ErrNoRows {
				return rc, wrap("running hours", err)
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
	rc.TimeZone, rc.OpeningHours = c.TimeZone, c.OpeningHours
	for _, x := range c.Executives {
		rc.Executives = append(rc.Executives, x.Executive)
	}
	return rc, nil
}

// DiffItem is one difference between what a branch runs and HQ's draft.
type DiffItem struct {
	// Kind is "added", "removed" or "changed" (by the publication).
	Kind   string
	Key    string
	Before string
	After  string
}

// ConfigDiff is what a publication would change at a branch.
type ConfigDiff struct {
	Services, Counters, Executives []DiffItem
	// TimeZone is the change of the branch's time zone, if any (Key "time_zone").
	TimeZone []DiffItem
	// Hours is the change of the branch's general opening hours, if any (Key
	// "opening_hours"): a branch that runs none (open all day) closes outside
	// the published ones from the moment they arrive.
	Hours []DiffItem
}

// Empty reports whether the publication changes none of them.
func (d ConfigDiff) Empty() bool {
	return len(d.Services) == 0 && len(d.Counters) == 0 && len(d.Executives) == 0 && len(d.TimeZone) == 0 && len(d.Hours) == 0
}

// Summary counts the changes for the audit: "services +1 -0 ~2, counters +0
// -0 ~0, executives +1 -1 ~0".
func (d ConfigDiff) Summary() string {
	count := func(name string, l []DiffItem) string {
		n := map[string]int{}
		for _, it := range l {
			n[it.Kind]++
		}
		return fmt.Sprintf("%s +%d -%d ~%d", name, n["added"], n["removed"], n["changed"])
	}
	return count("services", d.Services) + ", " + count("counters", d.Counters) + ", " + count("executives", d.Executives)
}

// Removals counts what the publication removes.
func (d ConfigDiff) Removals() int {
	n := 0
	for _, l := range [][]DiffItem{d.Services, d.Counters, d.Executives} {
		for _, it := range l {
			if it.Kind == "removed" {
				n++
			}
		}
	}
	return n
}

// diffBy compares two keyed lists in key order.
func diffBy[T any](running, draft []T, key func(T) string, show func(T) string) []DiffItem {
	was := map[string]T{}
	var keys []string
	for _, v := range running {
		was[key(v)] = v
		keys = append(keys, key(v))
	}
	now := map[string]T{}
	for _, v := range draft {
		now[key(v)] = v
		if _, ok := was[key(v)]; !ok {
			keys = append(keys, key(v))
		}
	}
	slices.Sort(keys)
	var out []DiffItem
	for _, k := range keys {
		a, inA := was[k]
		b, inB := now[k]
		switch {
		case !inA:
			out = append(out, DiffItem{Kind: "added", Key: k, After: show(b)})
		case !inB:
			out = append(out, DiffItem{Kind: "removed", Key: k, Before: show(a)})
		case show(a) != show(b):
			out = append(out, DiffItem{Kind: "changed", Key: k, Before: show(a), After: show(b)})
		}
	}
	return out
}

// DiffConfig compares HQ's draft with what the branch runs: services by code
// (name, target, mean time, priority), counters by number (name), executives
// by ID (name, services), described in lang. PINs are not compared: a branch
// never reports them.
func DiffConfig(running RunningConfig, draft BranchConfig, lang i18n.Lang) ConfigDiff {
	execs := make([]queue.Executive, 0, len(draft.Executives))
	for _, x := range draft.Executives {
		execs = append(execs, x.Executive)
	}
	var tz []DiffItem
	if running.TimeZone != "" && running.TimeZone != draft.TimeZone {
		tz = []DiffItem{{Kind: "changed", Key: "time_zone", Before: running.TimeZone, After: draft.TimeZone}}
	}
	var hours []DiffItem
	if running.Source != "" && running.OpeningHours != draft.OpeningHours {
		before := running.OpeningHours
		if before == "" {
			before = i18n.T(lang, "hq.config.hours.none")
		}
		hours = []DiffItem{{Kind: "changed", Key: "opening_hours", Before: before, After: draft.OpeningHours}}
	}
	return ConfigDiff{
		TimeZone: tz,
		Hours:    hours,
		Services: diffBy(running.Services, draft.Services, func(s queue.Service) string { return s.Code }, func(s queue.Service) string {
			return i18n.T(lang, "hq.config.diff.service", s.Name, s.TargetWaitS/60, s.MeanServiceS/60, s.Priority)
		}),
		Counters: diffBy(running.Counters, draft.Counters, func(c queue.Counter) string { return fmt.Sprintf("%03d", c.Number) },
			func(c queue.Counter) string { return strconv.Itoa(c.Number) + " " + c.Name }),
		Executives: diffBy(running.Executives, execs, func(x queue.Executive) string { return x.ID }, func(x queue.Executive) string {
			return x.Name + " · " + strings.Join(x.Services, ",")
		}),
	}
}

// Stranded is a service with waiting tickets that a publication would leave
// without the service (Removed) or without any executive serving it.
type Stranded struct {
	Code    string
	Name    string
	Waiting int
	Removed bool
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

// Preview is what HQ shows before a publication: what the branch runs, the
// changes and the services whose waiting tickets would be stranded (a
// publication is refused while there are any).
type Preview struct {
	Running  RunningConfig
	Diff     ConfigDiff
	Stranded []Stranded
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
	p.Diff = DiffConfig(p.Running, c, lang)
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
