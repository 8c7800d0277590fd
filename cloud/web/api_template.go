package web

import (
	"net/http"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// The configuration API's templates (api.go): list, read, create and
// replace (the form's validation and error codes), preview ("what changes
// where", with the guard's verdict per branch) and the staged publication,
// through the store functions the template pages use
// (cloud.Templates; the store audits each publication with the token as
// actor). A template spans branches by region, tag or list, so reading one
// needs a token whose scope is every branch (an admin's, or an unscoped
// viewer's): 403 hq.api.templates_scope otherwise.

func (h *Handler) apiTemplateRoutes(read, write func(method, path string, fn handlerFunc)) {
	read(http.MethodGet, "/templates", h.apiTemplates)
	write(http.MethodPost, "/templates", h.apiTemplateCreate)
	read(http.MethodGet, "/templates/{id}", h.apiTemplate)
	write(http.MethodPut, "/templates/{id}", h.apiTemplatePut)
	write(http.MethodPut, "/templates/{id}/overrides/{branch}", h.apiTemplateOverrides)
	read(http.MethodGet, "/templates/{id}/preview", h.apiTemplatePreview)
	write(http.MethodPost, "/templates/{id}/publish", h.apiTemplatePublish)
	read(http.MethodGet, "/rollouts/{id}", h.apiRollout)
	write(http.MethodPost, "/rollouts/{id}/continue", h.apiRolloutContinue)
	write(http.MethodPost, "/rollouts/{id}/cancel", h.apiRolloutCancel)
}

// allScope refuses a token that does not see every branch.
func (h *Handler) allScope(w http.ResponseWriter, r *http.Request, q *req) bool {
	if q.P.Scope().All {
		return true
	}
	h.apiFail(w, r, q, queue.Errorf(queue.CodeForbidden, "hq.api.templates_scope"), 0)
	return false
}

// pathID reads a positive numeric {id}. Errors: not_found reason.
func pathID(r *http.Request, reason string) (int64, error) {
	id := templateID(r, "id")
	if id == 0 {
		return 0, queue.Errorf(queue.CodeNotFound, reason)
	}
	return id, nil
}

type apiTemplateItem struct {
	cloud.Template
	// Overrides lists, per branch, the fields it keeps as its own.
	Overrides map[string][]string `json:"overrides,omitempty"`
}

// apiTemplateOf is t in its API shape: a part the template does not manage
// is null (services, rules, opening_hours, outcomes).
func apiTemplateOf(t cloud.Template) apiTemplateItem {
	if t.TargetBranches == nil {
		t.TargetBranches = []string{}
	}
	return apiTemplateItem{Template: t}
}

func (h *Handler) apiTemplates(w http.ResponseWriter, r *http.Request, q *req) {
	if !h.allScope(w, r, q) {
		return
	}
	list, err := h.store.Templates(r.Context())
	if err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	out := make([]apiTemplateItem, 0, len(list))
	for _, t := range list {
		out = append(out, apiTemplateOf(t))
	}
	apiJSON(w, http.StatusOK, map[string]any{"templates": out})
}

func (h *Handler) apiTemplate(w http.ResponseWriter, r *http.Request, q *req) {
	if !h.allScope(w, r, q) {
		return
	}
	id, err := pathID(r, "hq.template.not_found")
	var t cloud.Template
	if err == nil {
		t, err = h.store.Template(r.Context(), id)
	}
	h.answerTemplate(w, r, q, t, err)
}

// answerTemplate answers t with every branch's overrides, or the problem
// err (or the overrides' read) is.
func (h *Handler) answerTemplate(w http.ResponseWriter, r *http.Request, q *req, t cloud.Template, err error) {
	var own map[string][]string
	if err == nil {
		own, err = h.store.Overrides(r.Context(), t.ID)
	}
	if err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	out := apiTemplateOf(t)
	out.Overrides = own
	apiJSON(w, http.StatusOK, out)
}

// apiTemplateIn is a template as POST and PUT /templates take it: a part
// absent or null is not managed (each branch keeps its own); [] manages an
// empty set.
type apiTemplateIn struct {
	Name           string                  `json:"name"`
	TargetKind     string                  `json:"target_kind"`
	TargetValue    string                  `json:"target_value"`
	TargetBranches []string                `json:"target_branches"`
	Services       []queue.Service         `json:"services"`
	Rules          *apiTemplateRules       `json:"rules"`
	Appointments   *event.AppointmentRules `json:"appointment_rules"`
	OpeningHours   *string                 `json:"opening_hours"`
	Outcomes       []queue.Outcome         `json:"outcomes"`
}

// apiTemplateRules are a template's calling rules (the appointment rules are
// appointment_rules).
type apiTemplateRules struct {
	PreferentialRatio  int            `json:"preferential_ratio"`
	RecallLimit        int            `json:"recall_limit"`
	PreNoticeAhead     int            `json:"pre_notice_ahead"`
	PreNoticeByService map[string]int `json:"pre_notice_by_service"`
}

// apiTemplateSave stores the body as template id (0: a new one) through the
// template form's store call and audit, and answers it with status.
func (h *Handler) apiTemplateSave(w http.ResponseWriter, r *http.Request, q *req, id int64, status int) {
	if !h.allScope(w, r, q) {
		return
	}
	var in apiTemplateIn
	err := decodeBody(r, &in)
	t := cloud.Template{ID: id, Name: in.Name, TargetKind: in.TargetKind, TargetValue: in.TargetValue, TargetBranches: in.TargetBranches,
		Services: in.Services, Appointments: in.Appointments, OpeningHours: in.OpeningHours, Outcomes: in.Outcomes}
	if in.Rules != nil {
		t.Rules = &event.Rules{PreferentialRatio: in.Rules.PreferentialRatio, RecallLimit: in.Rules.RecallLimit,
			PreNoticeAhead: in.Rules.PreNoticeAhead, PreNoticeByService: in.Rules.PreNoticeByService}
	}
	if err == nil {
		t, err = h.putTemplate(r, q, t)
	}
	if err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	apiJSON(w, status, apiTemplateOf(t))
}

// apiTemplateCreate is POST /templates: 201 with the template (version 1).
// Errors: invalid (the form's: hq.template.*, hq.rules.invalid,
// hq.appt.invalid, hq.branch.hours, …); conflict hq.template.name_taken.
func (h *Handler) apiTemplateCreate(w http.ResponseWriter, r *http.Request, q *req) {
	h.apiTemplateSave(w, r, q, 0, http.StatusCreated)
}

// apiTemplatePut is PUT /templates/{id}: the template replaced whole, its
// version raised. Errors: those of POST; not_found hq.template.not_found.
func (h *Handler) apiTemplatePut(w http.ResponseWriter, r *http.Request, q *req) {
	id, err := pathID(r, "hq.template.not_found")
	if err == nil {
		_, err = h.store.Template(r.Context(), id) // before the name's check
	}
	if err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	h.apiTemplateSave(w, r, q, id, http.StatusOK)
}

// apiTemplateOverrides is PUT /templates/{id}/overrides/{branch}
// {"fields": [...]}: the fields the branch keeps as its own under the
// template, the others given up ([] gives up all), as the template page's
// form sets them (setOverrides: its validation, guards and audit). 200 with
// the template and every branch's overrides. Errors: invalid
// hq.api.field_required, hq.template.override,
// hq.template.override_unmanaged; not_found hq.template.not_found,
// hq.branch.not_found; conflict hq.template.not_target.
func (h *Handler) apiTemplateOverrides(w http.ResponseWriter, r *http.Request, q *req) {
	if !h.allScope(w, r, q) {
		return
	}
	var in struct {
		Fields *[]string `json:"fields"`
	}
	id, err := pathID(r, "hq.template.not_found")
	var t cloud.Template
	if err == nil {
		t, err = h.store.Template(r.Context(), id)
	}
	if err == nil {
		err = decodeBody(r, &in)
	}
	if err == nil && in.Fields == nil {
		err = required("fields")
	}
	if err == nil {
		_, err = h.setOverrides(r, q, t, r.PathValue("branch"), *in.Fields)
	}
	h.answerTemplate(w, r, q, t, err)
}

type apiBranchPreview struct {
	Branch     cloud.BranchInfo         `json:"branch"`
	Verdict    string                   `json:"verdict"`
	Changes    map[string][]apiDiffItem `json:"changes"`
	Summary    string                   `json:"summary"`
	Stranded   []apiStranded            `json:"stranded"`
	Kept       []string                 `json:"kept"`
	Overridden []string                 `json:"overridden"`
	Published  int64                    `json:"published_version"`
}

type apiTemplatePreview struct {
	Template apiTemplateItem    `json:"template"`
	Branches []apiBranchPreview `json:"branches"`
	Counts   map[string]int     `json:"counts"`
}

func diffItems(items []cloud.DiffItem) []apiDiffItem {
	out := make([]apiDiffItem, 0, len(items))
	for _, it := range items {
		out = append(out, apiDiffItem(it))
	}
	return out
}

// apiTemplatePreview is GET /templates/{id}/preview: what publishing the
// template would change at each branch it targets, and where the guard
// refuses it (verdict "refused": that branch is skipped, the others go).
func (h *Handler) apiTemplatePreview(w http.ResponseWriter, r *http.Request, q *req) {
	if !h.allScope(w, r, q) {
		return
	}
	id, err := pathID(r, "hq.template.not_found")
	var p cloud.TemplatePreview
	if err == nil {
		p, err = h.store.PreviewTemplate(r.Context(), id, q.Lang)
	}
	if err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	out := apiTemplatePreview{Template: apiTemplateOf(p.Template), Branches: make([]apiBranchPreview, 0, len(p.Branches)),
		Counts: map[string]int{"changing": p.Changing, "unchanged": p.Unchanged, "refused": p.Refused, "with_overrides": p.WithOverrides,
			"services_added": p.ServicesAdded, "services_removed": p.ServicesRemoved, "services_changed": p.ServicesChanged}}
	for _, b := range p.Branches {
		bp := apiBranchPreview{Branch: b.Branch, Verdict: "changing", Summary: b.Diff.Summary(), Stranded: []apiStranded{},
			Kept: orEmpty(b.Kept), Overridden: orEmpty(b.Overridden), Published: b.Published,
			Changes: map[string][]apiDiffItem{"services": diffItems(b.Diff.Services), "counters": diffItems(b.Diff.Counters),
				"executives": diffItems(b.Diff.Executives), "time_zone": diffItems(b.Diff.TimeZone), "opening_hours": diffItems(b.Diff.Hours),
				"rules": diffItems(b.Rules), "outcomes": diffItems(b.Outcomes)}}
		switch {
		case b.Refused():
			bp.Verdict = "refused"
		case b.Unchanged():
			bp.Verdict = "unchanged"
		}
		for _, s := range b.Stranded {
			bp.Stranded = append(bp.Stranded, apiStranded(s))
		}
		out.Branches = append(out.Branches, bp)
	}
	apiJSON(w, http.StatusOK, out)
}

type apiStageResult struct {
	cloud.StageResult
	// Detail is the refusal in the request's language.
	Detail string `json:"detail,omitempty"`
}

type apiRolloutOut struct {
	cloud.TemplateRollout
	Results []apiStageResult `json:"results"`
}

func (h *Handler) answerRollout(w http.ResponseWriter, q *req, status int, ro cloud.TemplateRollout) {
	out := apiRolloutOut{TemplateRollout: ro, Results: make([]apiStageResult, 0, len(ro.Results))}
	out.FirstStage, out.Rest = orEmpty(ro.FirstStage), orEmpty(ro.Rest)
	for _, res := range ro.Results {
		out.Results = append(out.Results, apiStageResult{StageResult: res, Detail: res.Message(q.Lang)})
	}
	apiJSON(w, status, out)
}

// apiTemplatePublish is POST /templates/{id}/publish {"first_n", "first_pct"}
// (both optional; neither: every branch at once): the first stage, each
// branch under its own guard. 201 with the rollout and each branch's result.
func (h *Handler) apiTemplatePublish(w http.ResponseWriter, r *http.Request, q *req) {
	var in struct {
		FirstN   int `json:"first_n"`
		FirstPct int `json:"first_pct"`
	}
	id, err := pathID(r, "hq.template.not_found")
	if err == nil && r.ContentLength != 0 {
		err = decodeBody(r, &in)
	}
	var ro cloud.TemplateRollout
	if err == nil {
		ro, err = h.startTemplateRollout(r, q, id, in.FirstN, in.FirstPct)
	}
	if err != nil && ro.ID == 0 {
		h.apiFail(w, r, q, err, 0)
		return
	}
	h.answerRollout(w, q, http.StatusCreated, ro)
}

// rolloutAction runs act on the rollout {id} and answers it.
func (h *Handler) rolloutAction(w http.ResponseWriter, r *http.Request, q *req, act func(id int64) (cloud.TemplateRollout, error)) {
	id, err := pathID(r, "hq.template.rollout_not_found")
	var ro cloud.TemplateRollout
	if err == nil {
		ro, err = act(id)
	}
	if err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	h.answerRollout(w, q, http.StatusOK, ro)
}

func (h *Handler) apiRollout(w http.ResponseWriter, r *http.Request, q *req) {
	if h.allScope(w, r, q) {
		h.rolloutAction(w, r, q, func(id int64) (cloud.TemplateRollout, error) { return h.store.TemplateRollout(r.Context(), id) })
	}
}

// apiRolloutContinue is POST /rollouts/{id}/continue: the rest of a staged
// publication (a refusal, or a failure part-way, answers the problem; GET
// /rollouts/{id} shows what was done).
func (h *Handler) apiRolloutContinue(w http.ResponseWriter, r *http.Request, q *req) {
	h.rolloutAction(w, r, q, func(id int64) (cloud.TemplateRollout, error) { return h.continueTemplateRollout(r, q, id) })
}

// apiRolloutCancel is POST /rollouts/{id}/cancel: the rest is not published.
func (h *Handler) apiRolloutCancel(w http.ResponseWriter, r *http.Request, q *req) {
	h.rolloutAction(w, r, q, func(id int64) (cloud.TemplateRollout, error) {
		if err := h.store.CancelTemplateRollout(r.Context(), id, h.publishOptions(q)); err != nil {
			return cloud.TemplateRollout{}, err
		}
		return h.store.TemplateRollout(r.Context(), id)
	})
}
