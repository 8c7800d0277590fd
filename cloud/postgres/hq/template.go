package hq

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/cloud"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// Configuration templates (issue #18): HQ manages the network as a network. A
// template is a named set of the parts a branch's configuration has
// (services, calling rules, general opening hours, outcome codes), each
// optional, applied to a region, a tag or a list of branches. A branch may
// keep its own value of a field (an override); applying the template writes
// the rest into the branch's draft, and publishing goes through the same
// review and guards as a single branch's (template_publish.go).

var tagRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// validateTemplate checks a template's name, target and parts. Errors:
// invalid hq.template.name, hq.template.target, hq.template.services,
// hq.rules.invalid, hq.appt.invalid, hq.branch.hours, hq.template.outcomes
// (and the part's own).
func validateTemplate(t *Template) error {
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" || len(t.Name) > 80 || !queue.ValidText(t.Name, 80) {
		return queue.Errorf(queue.CodeInvalid, "hq.template.name")
	}
	t.TargetValue = strings.TrimSpace(t.TargetValue)
	switch t.TargetKind {
	case TargetRegion:
		if t.TargetValue == "" || len(t.TargetValue) > 40 || !queue.ValidText(t.TargetValue, 40) {
			return queue.Errorf(queue.CodeInvalid, "hq.template.target")
		}
		t.TargetBranches = nil
	case TargetTag:
		t.TargetValue = strings.ToLower(t.TargetValue)
		if !tagRE.MatchString(t.TargetValue) {
			return queue.Errorf(queue.CodeInvalid, "hq.template.target")
		}
		t.TargetBranches = nil
	case TargetBranches:
		t.TargetValue = ""
		if len(t.TargetBranches) == 0 || len(t.TargetBranches) > 10000 {
			return queue.Errorf(queue.CodeInvalid, "hq.template.target")
		}
		for _, b := range t.TargetBranches {
			if _, err := queue.ParseBranchID(b); err != nil {
				return err
			}
		}
		slices.Sort(t.TargetBranches)
		t.TargetBranches = slices.Compact(t.TargetBranches)
	default:
		return queue.Errorf(queue.CodeInvalid, "hq.template.target")
	}
	if t.Services != nil {
		seen := map[string]bool{}
		for _, sv := range t.Services {
			if err := sv.Validate(); err != nil {
				return err
			}
			if seen[sv.Code] {
				return queue.Errorf(queue.CodeInvalid, "hq.template.services", sv.Code)
			}
			seen[sv.Code] = true
		}
		slices.SortFunc(t.Services, func(a, b queue.Service) int { return strings.Compare(a.Code, b.Code) })
	}
	if r := t.Rules; r != nil {
		if r.PreferentialRatio < 0 || r.PreferentialRatio > 20 || r.RecallLimit < 0 || r.RecallLimit > 10 || r.PreNoticeAhead < 0 || r.PreNoticeAhead > 50 {
			return queue.Errorf(queue.CodeInvalid, "hq.rules.invalid")
		}
		for code, n := range r.PreNoticeByService {
			if !queue.ValidServiceCode(code) || n < 0 || n > 50 {
				return queue.Errorf(queue.CodeInvalid, "hq.rules.notice_service_invalid", code)
			}
		}
	}
	if t.Rules != nil && !reflect.ValueOf(t.Rules.Appointments).IsZero() {
		r := *t.Rules
		r.Appointments = event.AppointmentRules{} // a part of their own
		t.Rules = &r
	}
	if a := t.Appointments; a != nil {
		if err := validateTemplateAppointments(a); err != nil {
			return err
		}
	}
	if t.OpeningHours != nil && !event.ValidOpeningHours(*t.OpeningHours) {
		return queue.Errorf(queue.CodeInvalid, "hq.branch.hours", *t.OpeningHours)
	}
	if t.Outcomes != nil {
		if len(t.Outcomes) > MaxOutcomes {
			return queue.Errorf(queue.CodeInvalid, "hq.template.outcomes")
		}
		seen := map[string]bool{}
		for _, o := range t.Outcomes {
			if err := o.Validate(); err != nil {
				return err
			}
			if seen[o.Code] {
				return queue.Errorf(queue.CodeInvalid, "hq.template.outcomes")
			}
			seen[o.Code] = true
		}
	}
	return nil
}

// validateTemplateAppointments checks a template's appointment rules as the
// branch's appointments page does (cloud.ValidateAppointmentRules, the same
// hq.appt.invalid), with its remote joining keyed by service codes: which
// services a branch has is decided per branch (Resolve drops the others).
func validateTemplateAppointments(a *event.AppointmentRules) error {
	var codes []string
	for code := range a.Remote {
		if !queue.ValidServiceCode(code) {
			return queue.Errorf(queue.CodeInvalid, "hq.appt.invalid", "remote."+truncateCode(code), "unknown service")
		}
		codes = append(codes, code)
	}
	if len(a.Remote) == 0 {
		a.Remote = nil
	}
	return apptInvalid(cloud.ValidateAppointmentRules(*a, codes))
}

// apptInvalid is err with a *cloud.ScheduleError as the appointments page
// shows it: invalid hq.appt.invalid naming the field and the allowed values.
func apptInvalid(err error) error {
	var se *cloud.ScheduleError
	if errors.As(err, &se) {
		return queue.Errorf(queue.CodeInvalid, "hq.appt.invalid", se.Field, se.Reason)
	}
	return err
}

// PutTemplate creates (ID 0) or changes a template; a change raises its
// version. It returns the stored template. Errors: those of validateTemplate;
// conflict hq.template.name_taken; not_found hq.template.not_found.
func (s *Store) PutTemplate(ctx context.Context, t Template, by string) (Template, error) {
	if err := validateTemplate(&t); err != nil {
		return t, err
	}
	var services, rules, apptRules, outcomes []byte
	var err error
	if t.Appointments != nil {
		if apptRules, err = json.Marshal(t.Appointments); err != nil {
			return t, wrap("put template", err)
		}
	}
	if t.Services != nil {
		if services, err = json.Marshal(t.Services); err != nil {
			return t, wrap("put template", err)
		}
	}
	if t.Rules != nil {
		if rules, err = json.Marshal(t.Rules); err != nil {
			return t, wrap("put template", err)
		}
	}
	if t.Outcomes != nil {
		if outcomes, err = json.Marshal(t.Outcomes); err != nil {
			return t, wrap("put template", err)
		}
	}
	t.UpdatedAt, t.UpdatedBy = s.now(), by
	branches := nonNil(t.TargetBranches)
	if t.ID == 0 {
		err = s.pool.QueryRow(ctx, `INSERT INTO hq_templates (name, target_kind, target_value, target_branches, services, rules, opening_hours, outcomes, updated_at, updated_by, appointment_rules)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (name) DO NOTHING RETURNING id, version`,
			t.Name, t.TargetKind, t.TargetValue, branches, services, rules, t.OpeningHours, outcomes, t.UpdatedAt, by, apptRules).Scan(&t.ID, &t.Version)
		if err == pgx.ErrNoRows {
			return t, queue.Errorf(queue.CodeConflict, "hq.template.name_taken", t.Name)
		}
		return t, wrap("put template", err)
	}
	var taken bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM hq_templates WHERE name = $1 AND id <> $2)`, t.Name, t.ID).Scan(&taken); err != nil {
		return t, wrap("put template", err)
	}
	if taken {
		return t, queue.Errorf(queue.CodeConflict, "hq.template.name_taken", t.Name)
	}
	err = s.pool.QueryRow(ctx, `UPDATE hq_templates SET name = $2, target_kind = $3, target_value = $4, target_branches = $5, services = $6,
			rules = $7, opening_hours = $8, outcomes = $9, updated_at = $10, updated_by = $11, appointment_rules = $12, version = version + 1
		WHERE id = $1 RETURNING version`,
		t.ID, t.Name, t.TargetKind, t.TargetValue, branches, services, rules, t.OpeningHours, outcomes, t.UpdatedAt, by, apptRules).Scan(&t.Version)
	if err == pgx.ErrNoRows {
		return t, queue.Errorf(queue.CodeNotFound, "hq.template.not_found")
	}
	return t, wrap("put template", err)
}

const templateCols = `id, name, version, target_kind, target_value, target_branches, services, rules, opening_hours, outcomes, updated_at, updated_by, appointment_rules`

func scanTemplate(r pgx.Row) (Template, error) {
	var t Template
	var services, rules, outcomes, apptRules []byte
	if err := r.Scan(&t.ID, &t.Name, &t.Version, &t.TargetKind, &t.TargetValue, &t.TargetBranches, &services, &rules,
		&t.OpeningHours, &outcomes, &t.UpdatedAt, &t.UpdatedBy, &apptRules); err != nil {
		return t, err
	}
	if apptRules != nil {
		t.Appointments = &event.AppointmentRules{}
		if err := json.Unmarshal(apptRules, t.Appointments); err != nil {
			return t, err
		}
	}
	if services != nil {
		if err := json.Unmarshal(services, &t.Services); err != nil {
			return t, err
		}
		t.Services = emptyIfNil(t.Services)
	}
	if rules != nil {
		t.Rules = &event.Rules{}
		if err := json.Unmarshal(rules, t.Rules); err != nil {
			return t, err
		}
	}
	if outcomes != nil {
		if err := json.Unmarshal(outcomes, &t.Outcomes); err != nil {
			return t, err
		}
		t.Outcomes = emptyIfNil(t.Outcomes)
	}
	if len(t.TargetBranches) == 0 {
		t.TargetBranches = nil
	}
	return t, nil
}

// Template returns a template. Errors: not_found hq.template.not_found.
func (s *Store) Template(ctx context.Context, id int64) (Template, error) {
	t, err := scanTemplate(s.pool.QueryRow(ctx, `SELECT `+templateCols+` FROM hq_templates WHERE id = $1`, id))
	if err == pgx.ErrNoRows {
		return t, queue.Errorf(queue.CodeNotFound, "hq.template.not_found")
	}
	return t, wrap("template", err)
}

// Templates lists the templates by name.
func (s *Store) Templates(ctx context.Context) ([]Template, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+templateCols+` FROM hq_templates ORDER BY name`)
	if err != nil {
		return nil, wrap("templates", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Template, error) { return scanTemplate(r) })
	return out, wrap("templates", err)
}

// DeleteTemplate removes a template, its overrides and its staged
// publications; what it published stays published. Errors: not_found
// hq.template.not_found.
func (s *Store) DeleteTemplate(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM hq_templates WHERE id = $1`, id)
	if err != nil {
		return wrap("delete template", err)
	}
	if tag.RowsAffected() == 0 {
		return queue.Errorf(queue.CodeNotFound, "hq.template.not_found")
	}
	return nil
}

// TemplateTargets returns the branches a template applies to today, by ID:
// the region's or the tag's branches, or those of the list that exist.
func (s *Store) TemplateTargets(ctx context.Context, t Template) ([]BranchInfo, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, region, time_zone FROM branches b
		WHERE ($1 = 'region' AND b.region = $2)
		   OR ($1 = 'tag' AND EXISTS (SELECT 1 FROM hq_branch_tags g WHERE g.branch = b.id AND g.tag = $2))
		   OR ($1 = 'branches' AND b.id = ANY($3::text[]))
		ORDER BY id`, t.TargetKind, t.TargetValue, nonNil(t.TargetBranches))
	if err != nil {
		return nil, wrap("template targets", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (BranchInfo, error) {
		var b BranchInfo
		return b, r.Scan(&b.ID, &b.Name, &b.Region, &b.TimeZone)
	})
	return out, wrap("template targets", err)
}

// TemplateTargetCounts returns how many branches each template applies to
// today, by template ID, in one query (TemplateTargets' rules).
func (s *Store) TemplateTargetCounts(ctx context.Context) (map[int64]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT t.id, count(b.id) FROM hq_templates t LEFT JOIN branches b
		ON (t.target_kind = 'region' AND b.region = t.target_value)
		   OR (t.target_kind = 'tag' AND EXISTS (SELECT 1 FROM hq_branch_tags g WHERE g.branch = b.id AND g.tag = t.target_value))
		   OR (t.target_kind = 'branches' AND b.id = ANY(t.target_branches))
		GROUP BY t.id`)
	if err != nil {
		return nil, wrap("template target counts", err)
	}
	out := map[int64]int{}
	var id int64
	var n int
	_, err = pgx.ForEachRow(rows, []any{&id, &n}, func() error { out[id] = n; return nil })
	return out, wrap("template target counts", err)
}

// SetOverride makes a branch keep (keep true) or give up its own value of a
// field under a template. Errors: invalid hq.template.override; not_found
// hq.template.not_found, hq.branch.not_found.
func (s *Store) SetOverride(ctx context.Context, templateID int64, branch, field string, keep bool) error {
	if !cloud.ValidOverride(field) {
		return queue.Errorf(queue.CodeInvalid, "hq.template.override", field)
	}
	if _, err := s.Template(ctx, templateID); err != nil {
		return err
	}
	if _, err := s.Branch(ctx, AllBranches, branch); err != nil {
		return err
	}
	var err error
	if keep {
		_, err = s.pool.Exec(ctx, `INSERT INTO hq_template_overrides (template_id, branch, field) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			templateID, branch, field)
	} else {
		_, err = s.pool.Exec(ctx, `DELETE FROM hq_template_overrides WHERE template_id = $1 AND branch = $2 AND field = $3`, templateID, branch, field)
	}
	return wrap("set override", err)
}

// SetOverrides makes a branch keep exactly fields as its own under a
// template (it gives up the others), in one transaction. Errors: those of
// SetOverride.
func (s *Store) SetOverrides(ctx context.Context, templateID int64, branch string, fields []string) error {
	for _, f := range fields {
		if !cloud.ValidOverride(f) {
			return queue.Errorf(queue.CodeInvalid, "hq.template.override", truncateCode(f))
		}
	}
	if _, err := s.Template(ctx, templateID); err != nil {
		return err
	}
	if _, err := s.Branch(ctx, AllBranches, branch); err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap("set overrides", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `DELETE FROM hq_template_overrides WHERE template_id = $1 AND branch = $2 AND field <> ALL($3::text[])`,
		templateID, branch, nonNil(fields)); err != nil {
		return wrap("set overrides", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO hq_template_overrides (template_id, branch, field) SELECT $1, $2, f FROM unnest($3::text[]) f
		ON CONFLICT DO NOTHING`, templateID, branch, nonNil(fields)); err != nil {
		return wrap("set overrides", err)
	}
	return wrap("set overrides", tx.Commit(ctx))
}

// Overrides returns a template's overrides by branch (fields sorted).
func (s *Store) Overrides(ctx context.Context, templateID int64) (map[string][]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT branch, field FROM hq_template_overrides WHERE template_id = $1 ORDER BY branch, field`, templateID)
	if err != nil {
		return nil, wrap("overrides", err)
	}
	out := map[string][]string{}
	var b, f string
	_, err = pgx.ForEachRow(rows, []any{&b, &f}, func() error {
		out[b] = append(out[b], f)
		return nil
	})
	return out, wrap("overrides", err)
}

// SetTags replaces a branch's free tags ("mall", "piloto"): lower case
// letters, digits, "-" and "_", at most 20. Errors: invalid hq.branch.tag;
// not_found hq.branch.not_found.
func (s *Store) SetTags(ctx context.Context, branch string, tags []string) error {
	if _, err := s.Branch(ctx, AllBranches, branch); err != nil {
		return err
	}
	clean := make([]string, 0, len(tags))
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if !tagRE.MatchString(t) {
			return queue.Errorf(queue.CodeInvalid, "hq.branch.tag", truncateCode(t))
		}
		clean = append(clean, t)
	}
	slices.Sort(clean)
	clean = slices.Compact(clean)
	if len(clean) > 20 {
		return queue.Errorf(queue.CodeInvalid, "hq.branch.tag", clean[20])
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap("set tags", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `DELETE FROM hq_branch_tags WHERE branch = $1`, branch); err != nil {
		return wrap("set tags", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO hq_branch_tags (branch, tag) SELECT $1, unnest($2::text[])`, branch, clean); err != nil {
		return wrap("set tags", err)
	}
	return wrap("set tags", tx.Commit(ctx))
}

// Tags returns a branch's tags, sorted.
func (s *Store) Tags(ctx context.Context, branch string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT tag FROM hq_branch_tags WHERE branch = $1 ORDER BY tag`, branch)
	if err != nil {
		return nil, wrap("tags", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, wrap("tags", err)
}

// TaggedBranches returns the branches that have tags, by ID, with their
// tags (sorted).
func (s *Store) TaggedBranches(ctx context.Context) ([]cloud.TaggedBranch, error) {
	rows, err := s.pool.Query(ctx, `SELECT b.id, b.name, b.region, array_agg(g.tag ORDER BY g.tag)
		FROM hq_branch_tags g JOIN branches b ON b.id = g.branch GROUP BY b.id, b.name, b.region ORDER BY b.id`)
	if err != nil {
		return nil, wrap("tagged branches", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (cloud.TaggedBranch, error) {
		var b cloud.TaggedBranch
		return b, r.Scan(&b.ID, &b.Name, &b.Region, &b.Tags)
	})
	return out, wrap("tagged branches", err)
}

// AllTags lists every tag in use, sorted.
func (s *Store) AllTags(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT tag FROM hq_branch_tags ORDER BY tag`)
	if err != nil {
		return nil, wrap("tags", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, wrap("tags", err)
}

// BranchOutcomes returns the outcome codes a branch's publication carries:
// its own (set by a template) or else the network's.
func (s *Store) BranchOutcomes(ctx context.Context, branch string) ([]queue.Outcome, bool, error) {
	var raw []byte
	err := s.pool.QueryRow(ctx, `SELECT outcomes FROM hq_branch_outcomes WHERE branch = $1`, branch).Scan(&raw)
	if err == pgx.ErrNoRows {
		o, err := s.Outcomes(ctx)
		return o, false, err
	}
	if err != nil {
		return nil, false, wrap("branch outcomes", err)
	}
	var out []queue.Outcome
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, false, wrap("branch outcomes", err)
	}
	return emptyIfNil(out), true, nil
}

// resolveBranch resolves a template for one branch from the store.
func (s *Store) resolveBranch(ctx context.Context, t Template, branch string, overrides []string) (Resolved, error) {
	draft, err := s.BranchConfig(ctx, branch)
	if err != nil {
		return Resolved{}, err
	}
	var own []queue.Outcome
	o, has, err := s.BranchOutcomes(ctx, branch)
	if err != nil {
		return Resolved{}, err
	}
	if has {
		own = o
	}
	return Resolve(t, draft, own, overrides), nil
}

// ResolveTemplate resolves a template for each branch it targets, with each
// branch's overrides.
func (s *Store) ResolveTemplate(ctx context.Context, id int64) (Template, []Resolved, error) {
	t, err := s.Template(ctx, id)
	if err != nil {
		return t, nil, err
	}
	targets, err := s.TemplateTargets(ctx, t)
	if err != nil {
		return t, nil, err
	}
	ov, err := s.Overrides(ctx, id)
	if err != nil {
		return t, nil, err
	}
	out := make([]Resolved, 0, len(targets))
	for _, b := range targets {
		r, err := s.resolveBranch(ctx, t, b.ID, ov[b.ID])
		if err != nil {
			return t, nil, err
		}
		out = append(out, r)
	}
	return t, out, nil
}

// emptyIfNil is s, or an empty slice for nil (a managed part that is empty
// is not an unmanaged one).
func emptyIfNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
