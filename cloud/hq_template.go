package cloud

import (
	"context"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// Configuration templates (issue #18): HQ manages the network as a network. A
// template is a named set of the parts a branch's configuration has
// (services, calling rules, general opening hours, outcome codes), each
// optional, applied to a region, a tag or a list of branches. A branch may
// keep its own value of a field (an override); applying the template writes
// the rest into the branch's draft, and publishing goes through the same
// review and guards as a single branch's (cloud/postgres/hq/template*.go).

// Template target kinds.
const (
	TargetRegion   = "region"
	TargetTag      = "tag"
	TargetBranches = "branches"
)

// Override fields a branch may keep as its own; a service is
// OverrideServicePrefix + its code.
const (
	OverrideHours         = "opening_hours"
	OverrideRules         = "rules"
	OverrideAppointments  = "appointment_rules"
	OverrideOutcomes      = "outcomes"
	OverrideServicePrefix = "service:"
)

var overrideRE = regexp.MustCompile(`^(opening_hours|rules|appointment_rules|outcomes|service:[A-Z])$`)

// ValidOverride reports whether f names a field a branch may keep as its
// own: one of the Override constants, or OverrideServicePrefix and a
// service code.
func ValidOverride(f string) bool { return overrideRE.MatchString(f) }

// Template is a named configuration applied to many branches. A nil part is
// not managed by the template: each branch keeps its own.
type Template struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Version int    `json:"version"`
	// TargetKind is "region", "tag" or "branches"; TargetValue the region or
	// tag; TargetBranches the list.
	TargetKind     string   `json:"target_kind"`
	TargetValue    string   `json:"target_value,omitempty"`
	TargetBranches []string `json:"target_branches,omitempty"`
	// Services, when not nil, is the set of services every target branch has
	// (apart from the ones it overrides).
	Services []queue.Service `json:"services"`
	// Rules are the calling rules (their Appointments are ignored: the
	// appointment rules are a part of their own).
	Rules *event.Rules `json:"rules"`
	// Appointments, when not nil, are the appointment and remote-queue rules
	// every target branch gets (remote joining only for the services each
	// branch has).
	Appointments *event.AppointmentRules `json:"appointment_rules"`
	OpeningHours *string                 `json:"opening_hours"`
	Outcomes     []queue.Outcome         `json:"outcomes"`
	UpdatedAt    time.Time               `json:"updated_at"`
	UpdatedBy    string                  `json:"updated_by"`
}

// Override is a field a branch keeps as its own under a template.
type Override struct {
	Branch string `json:"branch"`
	Field  string `json:"field"`
}

// Resolved is what a template gives one branch: its draft with the
// template's parts written in, except the fields it keeps as its own.
type Resolved struct {
	Branch BranchInfo
	// Draft is the branch's draft as the template would leave it.
	Draft BranchConfig
	// Outcomes are the branch's outcome codes after the template (nil: the
	// network's).
	Outcomes []queue.Outcome
	// Overridden are the fields the branch keeps as its own (sorted), and
	// Kept those of them the template manages (the ones that make a
	// difference).
	Overridden []string
	Kept       []string
}

// Resolve applies a template to a branch's draft. Fields in overrides keep
// the draft's value: a service override keeps the draft's service (or its
// absence); executives lose the services the result no longer has; the
// per-service pre-notice overrides follow the services. draftOutcomes are the
// branch's own outcome codes (nil: the network's).
func Resolve(t Template, draft BranchConfig, draftOutcomes []queue.Outcome, overrides []string) Resolved {
	own := map[string]bool{}
	for _, f := range overrides {
		own[f] = true
	}
	res := Resolved{Branch: draft.BranchInfo, Draft: draft, Outcomes: draftOutcomes, Overridden: slices.Sorted(slices.Values(overrides))}
	kept := func(f string) { res.Kept = append(res.Kept, f) }
	if t.Services != nil {
		var out []queue.Service
		inTemplate := map[string]bool{}
		for _, sv := range t.Services {
			inTemplate[sv.Code] = true
			if !own[OverrideServicePrefix+sv.Code] {
				out = append(out, sv)
			}
		}
		for _, sv := range draft.Services {
			if own[OverrideServicePrefix+sv.Code] {
				out = append(out, sv)
			}
		}
		for _, f := range res.Overridden {
			if code, ok := strings.CutPrefix(f, OverrideServicePrefix); ok {
				has := slices.ContainsFunc(draft.Services, func(sv queue.Service) bool { return sv.Code == code })
				if inTemplate[code] || has {
					kept(f)
				}
			}
		}
		slices.SortFunc(out, func(a, b queue.Service) int { return strings.Compare(a.Code, b.Code) })
		if out == nil {
			out = []queue.Service{}
		}
		res.Draft.Services = out
		has := map[string]bool{}
		for _, sv := range out {
			has[sv.Code] = true
		}
		res.Draft.Executives = make([]ConfigExecutive, 0, len(draft.Executives))
		for _, x := range draft.Executives {
			x.Services = slices.DeleteFunc(slices.Clone(x.Services), func(c string) bool { return !has[c] })
			res.Draft.Executives = append(res.Draft.Executives, x)
		}
	}
	switch {
	case t.Rules != nil && own[OverrideRules]:
		kept(OverrideRules)
	case t.Rules != nil:
		r := *t.Rules
		r.Appointments = draft.Rules.Appointments // a part of their own, below
		r.PreNoticeByService = nil
		for code, n := range t.Rules.PreNoticeByService {
			if slices.ContainsFunc(res.Draft.Services, func(sv queue.Service) bool { return sv.Code == code }) {
				if r.PreNoticeByService == nil {
					r.PreNoticeByService = map[string]int{}
				}
				r.PreNoticeByService[code] = n
			}
		}
		res.Draft.Rules = r
	}
	switch {
	case t.Appointments != nil && own[OverrideAppointments]:
		kept(OverrideAppointments)
	case t.Appointments != nil:
		res.Draft.Rules.Appointments = *t.Appointments
	}
	switch {
	case t.OpeningHours != nil && own[OverrideHours]:
		kept(OverrideHours)
	case t.OpeningHours != nil:
		res.Draft.OpeningHours = *t.OpeningHours
	}
	switch {
	case t.Outcomes != nil && own[OverrideOutcomes]:
		kept(OverrideOutcomes)
	case t.Outcomes != nil:
		res.Outcomes = slices.Clone(t.Outcomes)
	}
	// The per-service pre-notice overrides of a draft kept as its own
	// follow the services the branch keeps.
	if pn := res.Draft.Rules.PreNoticeByService; pn != nil {
		m := maps.Clone(pn)
		maps.DeleteFunc(m, func(code string, _ int) bool {
			return !slices.ContainsFunc(res.Draft.Services, func(sv queue.Service) bool { return sv.Code == code })
		})
		res.Draft.Rules.PreNoticeByService = m
	}
	// So does remote joining: open only for services the branch has.
	if rm := res.Draft.Rules.Appointments.Remote; rm != nil {
		m := maps.Clone(rm)
		maps.DeleteFunc(m, func(code string, _ event.RemoteRule) bool {
			return !slices.ContainsFunc(res.Draft.Services, func(sv queue.Service) bool { return sv.Code == code })
		})
		if len(m) == 0 {
			m = nil
		}
		res.Draft.Rules.Appointments.Remote = m
	}
	return res
}

// AuditConfigTemplate is a change to a template, its overrides, a branch's
// tags or a staged publication (start, confirm, cancel); each branch's
// publication is a config.publish entry of its own.
const AuditConfigTemplate = "config.template"

// BranchPreview is what publishing a template would do at one branch: the
// review a single branch's publication shows (what it runs, the changes, the
// waiting tickets it would strand) plus the rules (calling, appointments,
// remote joining per service: DiffRules) and outcome codes against its
// latest published version.
type BranchPreview struct {
	Resolved
	Running  RunningConfig
	Diff     ConfigDiff
	Rules    []DiffItem
	Outcomes []DiffItem
	// Stranded, when not empty, refuses the publication at this branch (the
	// single-branch review's guard).
	Stranded []Stranded
	// Published is the branch's latest published version (0: none), and
	// SameAsPublished says the template would publish what it holds.
	Published       int64
	SameAsPublished bool
}

// Refused reports whether the publication is refused at this branch.
func (p BranchPreview) Refused() bool { return len(p.Stranded) > 0 }

// Unchanged reports whether the branch already runs what it would get: then
// nothing is published to it.
func (p BranchPreview) Unchanged() bool {
	return p.Published > 0 && p.SameAsPublished && len(p.Rules) == 0 && len(p.Outcomes) == 0
}

// Changes counts the branch's changes.
func (p BranchPreview) Changes() int {
	return len(p.Diff.Services) + len(p.Diff.Counters) + len(p.Diff.Executives) + len(p.Diff.TimeZone) + len(p.Diff.Hours) +
		len(p.Rules) + len(p.Outcomes)
}

// TemplatePreview is "what changes where" before a template's publication.
type TemplatePreview struct {
	Template Template
	Branches []BranchPreview
	// Counts over the branches: changing, unchanged, refused, keeping some
	// field of their own; and the services added, removed and changed.
	Changing, Unchanged, Refused, WithOverrides     int
	ServicesAdded, ServicesRemoved, ServicesChanged int
}

// Add counts one branch's preview in.
func (p *TemplatePreview) Add(bp BranchPreview) {
	p.Branches = append(p.Branches, bp)
	switch {
	case bp.Refused():
		p.Refused++
	case bp.Unchanged():
		p.Unchanged++
	default:
		p.Changing++
	}
	if len(bp.Kept) > 0 {
		p.WithOverrides++
	}
	for _, it := range bp.Diff.Services {
		switch it.Kind {
		case "added":
			p.ServicesAdded++
		case "removed":
			p.ServicesRemoved++
		default:
			p.ServicesChanged++
		}
	}
}

// RulesText shows calling rules in words: "2:1 · 3 rellamados · aviso con 3
// delante (P=1)".
func RulesText(lang i18n.Lang, r event.Rules) string {
	s := i18n.T(lang, "hq.template.rules.show", r.PreferentialRatio, r.RecallLimit, r.PreNoticeAhead)
	if len(r.PreNoticeByService) > 0 {
		var parts []string
		for _, code := range slices.Sorted(maps.Keys(r.PreNoticeByService)) {
			parts = append(parts, fmt.Sprintf("%s=%d", code, r.PreNoticeByService[code]))
		}
		s += " (" + strings.Join(parts, " ") + ")"
	}
	return s
}

// PublishOptions are who publishes a template and how.
type PublishOptions struct {
	By, IP     string
	RUTSealKey string
	// Publisher sends each published config on the branch's config topic
	// (nil: stored only; the branch gets it when someone sends it).
	Publisher ConfigPublisher
	// FirstStage is how many branches the first stage publishes to, or
	// FirstPercent what share of them (rounded up); neither: all at once.
	FirstStage, FirstPercent int
}

// Template publication outcomes at one branch.
const (
	ResultPublished = "published"
	ResultUnchanged = "unchanged"
	ResultRefused   = "refused"
	// ResultUnsent: the version is stored but could not be sent (the broker
	// was down); publishing again sends it.
	ResultUnsent = "unsent"
)

// StageResult is what a template publication did at one branch.
type StageResult struct {
	Branch  string `json:"branch"`
	Stage   int    `json:"stage"`
	Outcome string `json:"outcome"`
	Version int64  `json:"version,omitempty"`
	// Summary counts the changes ("services +1 -0 ~0, ...").
	Summary string `json:"summary,omitempty"`
	// Reason and Args are the refusal (a catalogue key and its arguments).
	Reason string `json:"reason,omitempty"`
	Args   []any  `json:"args,omitempty"`
}

// Message is the refusal in lang ("" when not refused).
func (r StageResult) Message(lang i18n.Lang) string {
	if r.Reason == "" {
		return ""
	}
	args := make([]any, len(r.Args))
	for i, a := range r.Args {
		// JSON numbers come back as float64; the messages count with %d.
		if f, ok := a.(float64); ok && f == math.Trunc(f) {
			a = int64(f)
		}
		args[i] = a
	}
	return i18n.T(lang, r.Reason, args...)
}

// TemplateRollout is a staged publication of a template: Status "first_stage" until
// HQ confirms the rest ("done") or cancels it ("cancelled").
type TemplateRollout struct {
	ID              int64         `json:"id"`
	TemplateID      int64         `json:"template_id"`
	TemplateVersion int           `json:"template_version"`
	FirstStage      []string      `json:"first_stage"`
	Rest            []string      `json:"rest"`
	Status          string        `json:"status"`
	Results         []StageResult `json:"results"`
	CreatedAt       time.Time     `json:"created_at"`
	CreatedBy       string        `json:"created_by"`
	UpdatedAt       time.Time     `json:"updated_at"`
}

// TemplateRollout statuses.
const (
	RolloutFirstStage = "first_stage"
	RolloutDone       = "done"
	RolloutCancelled  = "cancelled"
)

// Count returns how many results have the outcome.
func (r TemplateRollout) Count(outcome string) int {
	n := 0
	for _, x := range r.Results {
		if x.Outcome == outcome {
			n++
		}
	}
	return n
}

// VersionRow is which configuration a branch runs: its latest published
// version, the one it reports running (branch_sync, from its status) and
// the one in its last config report, and the template its latest
// publication came from.
type VersionRow struct {
	BranchInfo
	Tags        []string   `json:"tags"`
	Published   int64      `json:"published"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
	Running     int64      `json:"running"`
	Reported    int64      `json:"reported"`
	ReportedAt  *time.Time `json:"reported_at,omitempty"`
	Online      bool       `json:"online"`
	// Template is the template last applied to the branch ("" none), the
	// version applied and the template's current version.
	Template        string `json:"template,omitempty"`
	TemplateID      int64  `json:"template_id,omitempty"`
	TemplateVersion int    `json:"template_version,omitempty"`
	TemplateCurrent int    `json:"template_current,omitempty"`
}

// Lagging reports whether the branch does not run its latest published
// version yet.
func (v VersionRow) Lagging() bool { return v.Running < v.Published }

// TemplateBehind reports whether the template changed since it was applied.
func (v VersionRow) TemplateBehind() bool {
	return v.Template != "" && v.TemplateVersion < v.TemplateCurrent
}

// VersionFilter selects the version report's branches; zero fields match all.
type VersionFilter struct {
	Region, Tag string
	// Lagging keeps only the branches not running their latest version.
	Lagging bool
}

// DiffOutcomes compares outcome codes by code (name shown).
func DiffOutcomes(before, after []queue.Outcome) []DiffItem {
	return diffBy(before, after, func(o queue.Outcome) string { return o.Code }, func(o queue.Outcome) string { return o.Name })
}

// TaggedBranch is a branch with its free tags.
type TaggedBranch struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Region string   `json:"region"`
	Tags   []string `json:"tags"`
}

// Templates is HQ's configuration templates: branch tags, templates and
// their overrides, the preview and the staged publication, and the version
// report (cloud/postgres/hq). The HQ web and its JSON API share it.
type Templates interface {
	PutTemplate(ctx context.Context, t Template, by string) (Template, error)
	Template(ctx context.Context, id int64) (Template, error)
	Templates(ctx context.Context) ([]Template, error)
	DeleteTemplate(ctx context.Context, id int64) error
	TemplateTargets(ctx context.Context, t Template) ([]BranchInfo, error)
	// TemplateTargetCounts is len(TemplateTargets) of every template, by ID.
	TemplateTargetCounts(ctx context.Context) (map[int64]int, error)
	SetOverride(ctx context.Context, templateID int64, branch, field string, keep bool) error
	// SetOverrides makes a branch keep exactly fields as its own (it gives
	// up the others), at once.
	SetOverrides(ctx context.Context, templateID int64, branch string, fields []string) error
	Overrides(ctx context.Context, templateID int64) (map[string][]string, error)
	SetTags(ctx context.Context, branch string, tags []string) error
	Tags(ctx context.Context, branch string) ([]string, error)
	AllTags(ctx context.Context) ([]string, error)
	TaggedBranches(ctx context.Context) ([]TaggedBranch, error)
	ResolveTemplate(ctx context.Context, id int64) (Template, []Resolved, error)
	PreviewTemplate(ctx context.Context, id int64, lang i18n.Lang) (TemplatePreview, error)
	StartTemplateRollout(ctx context.Context, id int64, o PublishOptions) (TemplateRollout, error)
	ContinueTemplateRollout(ctx context.Context, rolloutID int64, o PublishOptions) (TemplateRollout, error)
	CancelTemplateRollout(ctx context.Context, rolloutID int64, o PublishOptions) error
	TemplateRollout(ctx context.Context, id int64) (TemplateRollout, error)
	TemplateRollouts(ctx context.Context, templateID int64) ([]TemplateRollout, error)
	ConfigVersions(ctx context.Context, f VersionFilter) ([]VersionRow, error)
}
