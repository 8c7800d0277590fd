package hq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/appt"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// PreviewTemplate computes, for every branch a template targets, the
// difference between what the branch runs and what the template would give
// it, and the guard's verdict, described in lang. Nothing is written.
// Errors: not_found hq.template.not_found.
func (s *Store) PreviewTemplate(ctx context.Context, id int64, lang i18n.Lang) (TemplatePreview, error) {
	t, rs, err := s.ResolveTemplate(ctx, id)
	if err != nil {
		return TemplatePreview{}, err
	}
	p := TemplatePreview{Template: t, Branches: make([]BranchPreview, 0, len(rs))}
	for _, r := range rs {
		bp, err := s.previewResolved(ctx, r, lang)
		if err != nil {
			return p, err
		}
		p.Add(bp)
	}
	return p, nil
}

// previewResolved compares a resolved draft with what the branch runs.
func (s *Store) previewResolved(ctx context.Context, r Resolved, lang i18n.Lang) (BranchPreview, error) {
	bp := BranchPreview{Resolved: r}
	var err error
	if bp.Running, err = s.RunningConfig(ctx, r.Branch.ID); err != nil {
		return bp, err
	}
	bp.Diff = DiffConfig(bp.Running, r.Draft, lang)
	// Rules and outcome codes are not in a branch's report: they are
	// compared with its latest published version (none: the branch's
	// defaults and no outcome codes).
	before := event.Config{Rules: event.DefaultRules()}
	latest, err := s.LatestConfig(ctx, r.Branch.ID)
	switch {
	case err == nil:
		before, bp.Published = latest, latest.Version
		was := RunningConfig{Source: "published", TimeZone: latest.TimeZone, OpeningHours: latest.OpeningHours,
			Services: latest.Services, Counters: latest.Counters}
		for _, x := range latest.Executives {
			was.Executives = append(was.Executives, x.Executive)
		}
		bp.SameAsPublished = DiffConfig(was, r.Draft, lang).Empty() && latest.BranchName == r.Draft.Name && latest.Region == r.Draft.Region
	case queue.ErrorCode(err) != queue.CodeNotFound:
		return bp, err
	}
	bp.Rules = cloud.DiffRules(&before.Rules, r.Draft.Rules, lang)
	after := r.Outcomes
	if after == nil {
		if after, err = s.Outcomes(ctx); err != nil {
			return bp, err
		}
	}
	bp.Outcomes = cloud.DiffOutcomes(before.Outcomes, after)
	bp.Stranded, err = s.stranded(ctx, s.pool, r.Branch.ID, r.Draft.TimeZone, r.Draft.Services, draftExecutives(r.Draft), bp.Running)
	for i, st := range bp.Stranded {
		// A branch that never reported: the service's name in HQ's draft.
		if err == nil && st.Name == st.Code {
			err = s.pool.QueryRow(ctx, `SELECT coalesce(max(name), $2) FROM hq_services WHERE branch = $1 AND code = $2`, r.Branch.ID, st.Code).
				Scan(&bp.Stranded[i].Name)
		}
	}
	return bp, wrap("stranded names", err)
}

func draftExecutives(c BranchConfig) []queue.Executive {
	out := make([]queue.Executive, 0, len(c.Executives))
	for _, x := range c.Executives {
		out = append(out, x.Executive)
	}
	return out
}

// writeDraft stores a resolved draft: the template's parts the branch does
// not keep as its own (services, with the executives' lists following them;
// rules; appointment rules, saved and audited in the book's history as by's
// when they change; hours; outcome codes).
func (s *Store) writeDraft(ctx context.Context, t Template, r Resolved, by string) error {
	own := map[string]bool{}
	for _, f := range r.Overridden {
		own[f] = true
	}
	branch, d := r.Branch.ID, r.Draft
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap("template draft", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if t.Services != nil {
		codes := make([]string, 0, len(d.Services))
		for _, sv := range d.Services {
			codes = append(codes, sv.Code)
			if _, err := tx.Exec(ctx, `INSERT INTO hq_services (branch, code, name, target_wait_s, mean_service_s, priority) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (branch, code) DO UPDATE SET name = EXCLUDED.name, target_wait_s = EXCLUDED.target_wait_s,
					mean_service_s = EXCLUDED.mean_service_s, priority = EXCLUDED.priority`,
				branch, sv.Code, sv.Name, sv.TargetWaitS, sv.MeanServiceS, sv.Priority); err != nil {
				return wrap("template services", err)
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM hq_services WHERE branch = $1 AND NOT (code = ANY($2::text[]))`, branch, codes); err != nil {
			return wrap("template services", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE hq_executives SET services = ARRAY(SELECT c FROM unnest(services) c WHERE c = ANY($2::text[]))
			WHERE branch = $1`, branch, codes); err != nil {
			return wrap("template executives", err)
		}
	}
	if t.Rules != nil && !own[OverrideRules] || t.Services != nil {
		// The rules (and the pre-notice overrides following the services).
		if _, err := tx.Exec(ctx, `INSERT INTO hq_branch_settings (branch, preferential_ratio, recall_limit, pre_notice_ahead, updated_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (branch) DO UPDATE SET preferential_ratio = EXCLUDED.preferential_ratio,
			recall_limit = EXCLUDED.recall_limit, pre_notice_ahead = EXCLUDED.pre_notice_ahead, updated_at = EXCLUDED.updated_at`,
			branch, d.Rules.PreferentialRatio, d.Rules.RecallLimit, d.Rules.PreNoticeAhead, s.now()); err != nil {
			return wrap("template rules", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM telegram_service_settings WHERE branch = $1`, branch); err != nil {
			return wrap("template rules", err)
		}
		for code, n := range d.Rules.PreNoticeByService {
			if _, err := tx.Exec(ctx, `INSERT INTO telegram_service_settings (branch, service, pre_notice_ahead) VALUES ($1, $2, $3)`,
				branch, code, n); err != nil {
				return wrap("template rules", err)
			}
		}
	}
	if t.Appointments != nil && !own[OverrideAppointments] || t.Services != nil {
		// The appointment rules (and remote joining following the services).
		was, err := appt.ReadRules(ctx, tx, branch)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(was, d.Rules.Appointments) {
			if err := appt.SaveRules(ctx, tx, branch, d.Rules.Appointments, by, s.now()); err != nil {
				return err
			}
		}
	}
	if t.OpeningHours != nil && !own[OverrideHours] {
		if _, err := tx.Exec(ctx, `INSERT INTO hq_branch_settings (branch, opening_hours, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (branch) DO UPDATE SET opening_hours = EXCLUDED.opening_hours, updated_at = EXCLUDED.updated_at`,
			branch, d.OpeningHours, s.now()); err != nil {
			return wrap("template hours", err)
		}
	}
	if t.Outcomes != nil && !own[OverrideOutcomes] {
		raw, err := json.Marshal(emptyIfNil(r.Outcomes))
		if err != nil {
			return wrap("template outcomes", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO hq_branch_outcomes (branch, outcomes) VALUES ($1, $2)
			ON CONFLICT (branch) DO UPDATE SET outcomes = EXCLUDED.outcomes`, branch, raw); err != nil {
			return wrap("template outcomes", err)
		}
	}
	return wrap("template draft", tx.Commit(ctx))
}

// firstStageSize is how many of n branches go first.
func firstStageSize(n int, o PublishOptions) int {
	switch {
	case o.FirstStage > 0:
		return min(o.FirstStage, n)
	case o.FirstPercent > 0 && o.FirstPercent < 100:
		return min(n, max(1, int(math.Ceil(float64(n)*float64(o.FirstPercent)/100))))
	}
	return n
}

// StartTemplateRollout publishes a template to the first stage of the
// branches it targets (by branch ID) and records the rest for HQ to confirm;
// without a first stage size every branch goes at once. Each branch is
// refused on its own, the way its single-branch publication would be (its
// waiting tickets); the others go ahead. Errors: invalid hq.template.stage;
// conflict hq.template.rollout_open, hq.template.no_targets; not_found
// hq.template.not_found.
func (s *Store) StartTemplateRollout(ctx context.Context, id int64, o PublishOptions) (TemplateRollout, error) {
	if o.FirstStage < 0 || o.FirstPercent < 0 || o.FirstPercent > 100 {
		return TemplateRollout{}, queue.Errorf(queue.CodeInvalid, "hq.template.stage")
	}
	t, err := s.Template(ctx, id)
	if err != nil {
		return TemplateRollout{}, err
	}
	targets, err := s.TemplateTargets(ctx, t)
	if err != nil {
		return TemplateRollout{}, err
	}
	if len(targets) == 0 {
		return TemplateRollout{}, queue.Errorf(queue.CodeConflict, "hq.template.no_targets")
	}
	ids := make([]string, 0, len(targets))
	for _, b := range targets {
		ids = append(ids, b.ID)
	}
	n := firstStageSize(len(ids), o)
	ro := TemplateRollout{TemplateID: id, TemplateVersion: t.Version, FirstStage: ids[:n], Rest: nonNil(slices.Clone(ids[n:])),
		Status: RolloutFirstStage, Results: []StageResult{}, CreatedAt: s.now(), CreatedBy: o.By, UpdatedAt: s.now()}
	if len(ro.Rest) == 0 {
		ro.Status = RolloutDone
	}
	// One open rollout per template: the unique check and the insert under
	// the template's lock.
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return ro, wrap("start rollout", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `SELECT 1 FROM hq_templates WHERE id = $1 FOR UPDATE`, id); err != nil {
		return ro, wrap("start rollout", err)
	}
	var open bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM hq_template_rollouts WHERE template_id = $1 AND status = 'first_stage')`, id).Scan(&open); err != nil {
		return ro, wrap("start rollout", err)
	}
	if open {
		return ro, queue.Errorf(queue.CodeConflict, "hq.template.rollout_open")
	}
	if err := tx.QueryRow(ctx, `INSERT INTO hq_template_rollouts (template_id, template_version, first_stage, rest, status, created_at, created_by, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $6) RETURNING id`, id, t.Version, ro.FirstStage, ro.Rest, ro.Status, ro.CreatedAt, o.By).Scan(&ro.ID); err != nil {
		return ro, wrap("start rollout", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return ro, wrap("start rollout", err)
	}
	// A stage once started runs to its end (a client that goes away does
	// not leave it half done), and what it did is kept even when an internal
	// error stopped it.
	ctx = context.WithoutCancel(ctx)
	ro.Results, err = s.publishStage(ctx, t, ro.FirstStage, 1, o)
	if serr := s.saveResults(ctx, &ro); err == nil {
		err = serr
	}
	if err != nil {
		return ro, err
	}
	s.auditTemplate(ctx, o, t, fmt.Sprintf("rollout %d stage 1: %d branches, published=%d unchanged=%d refused=%d unsent=%d, waiting=%d",
		ro.ID, len(ro.FirstStage), ro.Count(ResultPublished), ro.Count(ResultUnchanged), ro.Count(ResultRefused), ro.Count(ResultUnsent), len(ro.Rest)))
	return ro, nil
}

// ContinueTemplateRollout publishes the rest of a staged publication once HQ
// has checked the first stage. The template must not have changed since
// (its new version gets a rollout of its own). Errors: conflict
// hq.template.rollout_closed, hq.template.changed; not_found
// hq.template.rollout_not_found.
func (s *Store) ContinueTemplateRollout(ctx context.Context, rolloutID int64, o PublishOptions) (TemplateRollout, error) {
	ro, err := s.TemplateRollout(ctx, rolloutID)
	if err != nil {
		return ro, err
	}
	t, err := s.Template(ctx, ro.TemplateID)
	if err != nil {
		return ro, err
	}
	if t.Version != ro.TemplateVersion {
		return ro, queue.Errorf(queue.CodeConflict, "hq.template.changed", ro.TemplateVersion, t.Version)
	}
	// Claim the stage: a second confirmation (another tab, a retry) finds it
	// closed instead of publishing twice.
	tag, err := s.pool.Exec(ctx, `UPDATE hq_template_rollouts SET status = 'done', updated_at = $2 WHERE id = $1 AND status = 'first_stage'`,
		rolloutID, s.now())
	if err != nil {
		return ro, wrap("continue rollout", err)
	}
	if tag.RowsAffected() == 0 {
		return ro, queue.Errorf(queue.CodeConflict, "hq.template.rollout_closed")
	}
	ro.Status = RolloutDone
	ctx = context.WithoutCancel(ctx) // claimed: the stage runs to its end
	res, err := s.publishStage(ctx, t, ro.Rest, 2, o)
	ro.Results = append(ro.Results, res...)
	if serr := s.saveResults(ctx, &ro); err == nil {
		err = serr
	}
	if err != nil {
		return ro, err
	}
	s.auditTemplate(ctx, o, t, fmt.Sprintf("rollout %d stage 2: %d branches, published=%d unchanged=%d refused=%d unsent=%d",
		ro.ID, len(ro.Rest), countIn(res, ResultPublished), countIn(res, ResultUnchanged), countIn(res, ResultRefused), countIn(res, ResultUnsent)))
	return ro, nil
}

func countIn(rs []StageResult, outcome string) int {
	return TemplateRollout{Results: rs}.Count(outcome)
}

// CancelTemplateRollout stops a staged publication after its first stage:
// the rest is not published (what the first stage published stays). Errors:
// conflict hq.template.rollout_closed; not_found hq.template.rollout_not_found.
func (s *Store) CancelTemplateRollout(ctx context.Context, rolloutID int64, o PublishOptions) error {
	ro, err := s.TemplateRollout(ctx, rolloutID)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE hq_template_rollouts SET status = 'cancelled', updated_at = $2 WHERE id = $1 AND status = 'first_stage'`,
		rolloutID, s.now())
	if err != nil {
		return wrap("cancel rollout", err)
	}
	if tag.RowsAffected() == 0 {
		return queue.Errorf(queue.CodeConflict, "hq.template.rollout_closed")
	}
	if t, err := s.Template(ctx, ro.TemplateID); err == nil {
		s.auditTemplate(ctx, o, t, fmt.Sprintf("rollout %d cancelled: %d branches not published", ro.ID, len(ro.Rest)))
	}
	return nil
}

func (s *Store) saveResults(ctx context.Context, ro *TemplateRollout) error {
	raw, err := json.Marshal(ro.Results)
	if err != nil {
		return wrap("rollout results", err)
	}
	ro.UpdatedAt = s.now()
	_, err = s.pool.Exec(ctx, `UPDATE hq_template_rollouts SET results = $2, updated_at = $3 WHERE id = $1`, ro.ID, raw, ro.UpdatedAt)
	return wrap("rollout results", err)
}

func (s *Store) auditTemplate(ctx context.Context, o PublishOptions, t Template, detail string) {
	// The audit is best effort like the web's: a failed write is not a
	// failed publication (the versions are stored).
	_ = s.Audit(ctx, AuditEntry{Actor: o.By, Action: AuditConfigTemplate, Target: fmt.Sprintf("template:%d", t.ID),
		Detail: fmt.Sprintf("%q v%d %s", t.Name, t.Version, detail), IP: o.IP})
}

// publishStage resolves the template afresh for each branch (drafts and
// waiting tickets move between stages), refuses the branches the guard
// refuses, writes the others' drafts and publishes them, sending each
// version and auditing it. An internal error stops the stage.
func (s *Store) publishStage(ctx context.Context, t Template, branches []string, stage int, o PublishOptions) ([]StageResult, error) {
	ov, err := s.Overrides(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	out := make([]StageResult, 0, len(branches))
	for _, b := range branches {
		res := StageResult{Branch: b, Stage: stage}
		r, err := s.resolveBranch(ctx, t, b, ov[b])
		if queue.ErrorCode(err) == queue.CodeNotFound {
			res.Outcome, res.Reason = ResultRefused, "hq.branch.not_found"
			res.Args = []any{b}
			out = append(out, res)
			continue
		}
		if err != nil {
			return out, err
		}
		bp, err := s.previewResolved(ctx, r, i18n.EN)
		if err != nil {
			return out, err
		}
		res.Summary = bp.Diff.Summary()
		switch {
		case bp.Refused():
			refuse(&res, strandedError(bp.Stranded))
		case bp.Unchanged():
			res.Outcome, res.Version = ResultUnchanged, bp.Published
			if err := s.markApplied(ctx, t, b, bp.Published); err != nil {
				return out, err
			}
		default:
			if err := s.writeDraft(ctx, t, r, o.By); err != nil {
				return out, err
			}
			cfg, err := s.Publish(ctx, b, o.By, o.RUTSealKey)
			if err != nil && queue.ErrorCode(err) != queue.CodeInternal {
				// Refused at publication (a ticket arrived since the
				// preview): the draft holds the template, unpublished,
				// like a refused single-branch publication.
				refuse(&res, err)
				break
			}
			if err != nil {
				return out, err
			}
			res.Outcome, res.Version = ResultPublished, cfg.Version
			if err := s.markApplied(ctx, t, b, cfg.Version); err != nil {
				return out, err
			}
			_ = s.Audit(ctx, AuditEntry{Actor: o.By, Action: AuditConfigPublish, Target: "branch:" + b, IP: o.IP,
				Detail: fmt.Sprintf("version %d: template %q v%d stage %d: %s", cfg.Version, t.Name, t.Version, stage, res.Summary)})
			if o.Publisher != nil {
				if err := o.Publisher.PublishConfig(ctx, cfg); err != nil {
					res.Outcome = ResultUnsent
				}
			}
		}
		out = append(out, res)
	}
	return out, nil
}

func refuse(res *StageResult, err error) {
	res.Outcome, res.Reason = ResultRefused, queue.ErrorReason(err)
	var qe *queue.Error
	if errors.As(err, &qe) {
		res.Args = qe.Args
	}
}

func (s *Store) markApplied(ctx context.Context, t Template, branch string, version int64) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO hq_template_applied (branch, template_id, template_version, config_version, applied_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (branch, template_id) DO UPDATE SET template_version = EXCLUDED.template_version,
		config_version = EXCLUDED.config_version, applied_at = EXCLUDED.applied_at`, branch, t.ID, t.Version, version, s.now())
	return wrap("template applied", err)
}

const rolloutCols = `id, template_id, template_version, first_stage, rest, status, results, created_at, created_by, updated_at`

func scanRollout(r pgx.Row) (TemplateRollout, error) {
	var ro TemplateRollout
	var raw []byte
	if err := r.Scan(&ro.ID, &ro.TemplateID, &ro.TemplateVersion, &ro.FirstStage, &ro.Rest, &ro.Status, &raw, &ro.CreatedAt, &ro.CreatedBy, &ro.UpdatedAt); err != nil {
		return ro, err
	}
	return ro, json.Unmarshal(raw, &ro.Results)
}

// TemplateRollout returns a staged publication. Errors: not_found
// hq.template.rollout_not_found.
func (s *Store) TemplateRollout(ctx context.Context, id int64) (TemplateRollout, error) {
	ro, err := scanRollout(s.pool.QueryRow(ctx, `SELECT `+rolloutCols+` FROM hq_template_rollouts WHERE id = $1`, id))
	if err == pgx.ErrNoRows {
		return ro, queue.Errorf(queue.CodeNotFound, "hq.template.rollout_not_found")
	}
	return ro, wrap("rollout", err)
}

// TemplateRollouts lists a template's staged publications, newest first.
func (s *Store) TemplateRollouts(ctx context.Context, templateID int64) ([]TemplateRollout, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+rolloutCols+` FROM hq_template_rollouts WHERE template_id = $1 ORDER BY id DESC LIMIT 20`, templateID)
	if err != nil {
		return nil, wrap("rollouts", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TemplateRollout, error) { return scanRollout(r) })
	return out, wrap("rollouts", err)
}

// ConfigVersions reports which branches run which configuration version.
func (s *Store) ConfigVersions(ctx context.Context, f VersionFilter) ([]VersionRow, error) {
	rows, err := s.pool.Query(ctx, `
SELECT b.id, b.name, b.region, b.time_zone,
       coalesce((SELECT array_agg(tag ORDER BY tag) FROM hq_branch_tags g WHERE g.branch = b.id), '{}'),
       coalesce(c.version, 0), c.published_at,
       coalesce(s.config_version, 0), coalesce((r.report->>'version')::bigint, 0), r.reported_at, coalesce(s.online, false),
       coalesce(a.name, ''), coalesce(a.id, 0), coalesce(a.template_version, 0), coalesce(a.version, 0)
FROM branches b
LEFT JOIN LATERAL (SELECT version, published_at FROM hq_branch_configs WHERE branch = b.id ORDER BY version DESC LIMIT 1) c ON true
LEFT JOIN branch_sync s ON s.branch = b.id
LEFT JOIN branch_reported_config r ON r.branch = b.id
LEFT JOIN LATERAL (SELECT t.name, t.id, ap.template_version, t.version FROM hq_template_applied ap JOIN hq_templates t ON t.id = ap.template_id
	WHERE ap.branch = b.id ORDER BY ap.applied_at DESC, t.id DESC LIMIT 1) a ON true
WHERE ($1 = '' OR b.region = $1)
  AND ($2 = '' OR EXISTS (SELECT 1 FROM hq_branch_tags g WHERE g.branch = b.id AND g.tag = $2))
  AND (NOT $3 OR coalesce(s.config_version, 0) < coalesce(c.version, 0))
ORDER BY b.id`, f.Region, f.Tag, f.Lagging)
	if err != nil {
		return nil, wrap("config versions", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (VersionRow, error) {
		var v VersionRow
		return v, r.Scan(&v.ID, &v.Name, &v.Region, &v.TimeZone, &v.Tags, &v.Published, &v.PublishedAt, &v.Running, &v.Reported,
			&v.ReportedAt, &v.Online, &v.Template, &v.TemplateID, &v.TemplateVersion, &v.TemplateCurrent)
	})
	return out, wrap("config versions", err)
}
