package cloud

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// BranchInput creates or updates a branch.
type BranchInput struct {
	ID           string
	Name         string
	Region       string
	TimeZone     string
	OpeningHours string // "09:00-14:00" or several ranges separated by commas
}

// ConfigExecutive is an executive as HQ edits him (HasPIN instead of the hash).
type ConfigExecutive struct {
	queue.Executive
	HasPIN bool
	// AtBranch says the branch reports him (config.reported): without a PIN
	// set at HQ he keeps the PIN he has at the branch.
	AtBranch bool
}

// ConfigVersion is one published snapshot.
type ConfigVersion struct {
	Version     int64
	PublishedAt time.Time
	PublishedBy string
}

// ConfigListRow is a branch as HQ's configuration list shows it: the
// version it reports running, the latest HQ published and its tags.
type ConfigListRow struct {
	ID, Name, Region   string
	Running, Published int64
	Tags               []string
}

// The configuration list's version filter (ConfigListFilter.Version).
const (
	// ConfigBehind: the branch does not run the latest version published.
	ConfigBehind = "behind"
	// ConfigCurrent: it runs the latest version published.
	ConfigCurrent = "current"
	// ConfigUnpublished: HQ never published a version to it.
	ConfigUnpublished = "unpublished"
)

// ConfigListFilter narrows and pages HQ's configuration list. Zero fields
// do not filter.
type ConfigListFilter struct {
	// Query keeps the branches whose ID, name, region or one of its tags
	// contains each of its words (case and Spanish accents ignored).
	Query  string
	Region string
	// Version is ConfigBehind, ConfigCurrent or ConfigUnpublished.
	Version string
	// Template keeps the branches the template targets (its region, tag or
	// list).
	Template int64
	// Limit is the page size (0: every match) and Offset the matches
	// skipped; an offset past the last match shows the last page.
	Limit, Offset int
}

// ConfigListPage is a page of the configuration list: the rows, how many
// branches match the filter and the offset of the first row.
type ConfigListPage struct {
	Rows   []ConfigListRow
	Total  int
	Offset int
}

// BranchConfig is the draft HQ edits for a branch, its published versions and
// the version the branch reports running.
type BranchConfig struct {
	BranchInfo
	OpeningHours string
	Rules        event.Rules
	Services     []queue.Service
	Counters     []queue.Counter
	Executives   []ConfigExecutive
	Versions     []ConfigVersion
	Running      int64
}

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
	// Rules are the rules of the HQ version the branch runs (nil: HQ does
	// not know them: a branch that runs no HQ version).
	Rules *event.Rules
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
	// Rules are the changes of the rules (when HQ knows what the branch
	// runs): Key "calling" (preferential ratio, recalls, pre-notice),
	// "appointments" (check-in window, run of appointments, remote holds)
	// and "remote:<service>" (remote joining open and its cap).
	Rules []DiffItem
}

// Empty reports whether the publication changes none of them.
func (d ConfigDiff) Empty() bool {
	return len(d.Services) == 0 && len(d.Counters) == 0 && len(d.Executives) == 0 && len(d.TimeZone) == 0 &&
		len(d.Hours) == 0 && len(d.Rules) == 0
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
		Rules:    DiffRules(running.Rules, draft.Rules, lang),
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

// DiffRules compares the rules a branch runs with the draft's (nothing when
// HQ does not know what it runs): Key "calling", "appointments" and
// "remote:<service>". Appointment rules compare with their defaults filled
// in, so an unset rule and its default are the same.
func DiffRules(running *event.Rules, draft event.Rules, lang i18n.Lang) []DiffItem {
	if running == nil {
		return nil
	}
	type rule struct{ key, show string }
	list := func(r event.Rules) []rule {
		a := r.Appointments.WithDefaults()
		out := []rule{
			{"calling", RulesText(lang, r)},
			{"appointments", i18n.T(lang, "hq.config.diff.rules.appointments", a.EarlyMin, a.GraceMin, a.RunMax, a.HoldMin, a.SlideBy)},
		}
		for code, rr := range r.Appointments.Remote {
			if !rr.Open {
				continue
			}
			show := i18n.T(lang, "hq.config.diff.rules.remote_open")
			if rr.Cap > 0 {
				show = i18n.T(lang, "hq.config.diff.rules.remote_cap", rr.Cap)
			}
			out = append(out, rule{"remote:" + code, show})
		}
		return out
	}
	return diffBy(list(*running), list(draft), func(r rule) string { return r.key }, func(r rule) string { return r.show })
}

// Stranded is a service with waiting tickets that a publication would leave
// without the service (Removed) or without any executive serving it.
type Stranded struct {
	Code    string
	Name    string
	Waiting int
	Removed bool
}

// Preview is what HQ shows before a publication: what the branch runs, the
// changes and the services whose waiting tickets would be stranded (a
// publication is refused while there are any).
type Preview struct {
	Running  RunningConfig
	Diff     ConfigDiff
	Stranded []Stranded
}

// MaxOutcomes bounds the network's outcome codes (the terminal lists them all).
const MaxOutcomes = 50
