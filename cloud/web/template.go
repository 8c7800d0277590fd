package web

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// HQ's configuration templates (issue #18): a named set of services, rules,
// hours and outcome codes for a region, a tag or a list of branches, the
// fields each branch keeps as its own, and branch tags. The logic lives in
// the store (cloud.Templates); these pages edit it. Publishing is in
// template_publish.go.

type templateRow struct {
	cloud.Template
	Targets int
}

type templatesData struct {
	Templates []templateRow
	Tagged    []cloud.TaggedBranch
	Regions   []string
	AllTags   []string
	FormCtx   formCtx
}

// formCtx is what the shared template form (templates.html,
// "template_form") shows: the form, the page (for its language) and the
// regions and tags it suggests.
type formCtx struct {
	Form             templateForm
	View             *view
	Regions, AllTags []string
}

// templateForm is a template as its form shows it.
type templateForm struct {
	cloud.Template
	ServicesText, OutcomesText, PreNotice, Branches string
	Rules                                           event.Rules
	Hours                                           string
	// Appt are the appointment rules shown (zero fields empty, with
	// ApptDefaults as placeholders) and RemoteText remote joining ("C=5 P").
	Appt, ApptDefaults event.AppointmentRules
	RemoteText         string
}

func formOf(t cloud.Template) templateForm {
	f := templateForm{Template: t, Rules: event.DefaultRules(), Hours: "09:00-14:00", Branches: strings.Join(t.TargetBranches, ", ")}
	var b strings.Builder
	for _, sv := range t.Services {
		fmt.Fprintf(&b, "%s | %s | %d | %d | %d\n", sv.Code, sv.Name, sv.TargetWaitS/60, sv.MeanServiceS/60, sv.Priority)
	}
	f.ServicesText = b.String()
	b.Reset()
	for _, o := range t.Outcomes {
		fmt.Fprintf(&b, "%s | %s\n", o.Code, o.Name)
	}
	f.OutcomesText = b.String()
	if t.Rules != nil {
		f.Rules = *t.Rules
		var parts []string
		for _, code := range slices.Sorted(maps.Keys(t.Rules.PreNoticeByService)) {
			parts = append(parts, fmt.Sprintf("%s=%d", code, t.Rules.PreNoticeByService[code]))
		}
		f.PreNotice = strings.Join(parts, " ")
	}
	if t.OpeningHours != nil {
		f.Hours = *t.OpeningHours
	}
	if t.Appointments != nil {
		f.Appt = *t.Appointments
		f.RemoteText = remoteText(t.Appointments.Remote)
	}
	f.ApptDefaults = event.AppointmentRules{}.WithDefaults()
	return f
}

// remoteText shows remote joining as the form takes it: "C=5 P" (open, with
// its cap when it has one).
func remoteText(m map[string]event.RemoteRule) string {
	var parts []string
	for _, code := range slices.Sorted(maps.Keys(m)) {
		switch rr := m[code]; {
		case !rr.Open:
		case rr.Cap > 0:
			parts = append(parts, fmt.Sprintf("%s=%d", code, rr.Cap))
		default:
			parts = append(parts, code)
		}
	}
	return strings.Join(parts, " ")
}

// parseRemote reads "C=5 P" (services open, with a cap or none). Errors:
// invalid hq.appt.invalid.
func parseRemote(s string) (map[string]event.RemoteRule, error) {
	var out map[string]event.RemoteRule
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == ';' }) {
		code, capText, hasCap := strings.Cut(tok, "=")
		code = strings.ToUpper(strings.TrimSpace(code))
		rr := event.RemoteRule{Open: true}
		if hasCap {
			n, err := strconv.Atoi(strings.TrimSpace(capText))
			if err != nil {
				return nil, queue.Errorf(queue.CodeInvalid, "hq.appt.invalid", "remote", tok)
			}
			rr.Cap = n
		}
		if out == nil {
			out = map[string]event.RemoteRule{}
		}
		out[code] = rr
	}
	return out, nil
}

func (h *Handler) templatesPage(w http.ResponseWriter, r *http.Request, q *req) {
	flash := ""
	if b := r.URL.Query().Get("tags"); b != "" {
		flash = q.view("", nil).T("hq.templates.tags_saved", b)
	}
	h.showTemplates(w, r, q, http.StatusOK, "", flash, formOf(cloud.Template{TargetKind: cloud.TargetRegion}))
}

func (h *Handler) showTemplates(w http.ResponseWriter, r *http.Request, q *req, status int, errMsg, flash string, nf templateForm) {
	ctx := r.Context()
	list, err := h.store.Templates(ctx)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	counts, err := h.store.TemplateTargetCounts(ctx)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	d := templatesData{}
	for _, t := range list {
		d.Templates = append(d.Templates, templateRow{Template: t, Targets: counts[t.ID]})
	}
	if d.Tagged, err = h.store.TaggedBranches(ctx); err != nil {
		h.fail(w, r, q, err)
		return
	}
	if d.Regions, err = h.store.Regions(ctx, cloud.AllBranches); err != nil {
		h.fail(w, r, q, err)
		return
	}
	if d.AllTags, err = h.store.AllTags(ctx); err != nil {
		h.fail(w, r, q, err)
		return
	}
	v := q.view("config", nil)
	d.FormCtx = formCtx{Form: nf, View: v, Regions: d.Regions, AllTags: d.AllTags}
	v.Data, v.Error, v.Flash = d, errMsg, flash
	h.render(w, status, "templates", v)
}

// templateFromForm reads the template form. Errors: invalid hq.template.line,
// hq.form.number, hq.rules.notice_service_invalid, hq.appt.invalid.
func templateFromForm(r *http.Request) (cloud.Template, error) {
	t := cloud.Template{Name: r.PostFormValue("name"), TargetKind: r.PostFormValue("target_kind"),
		TargetValue: r.PostFormValue("target_value")}
	if t.TargetKind == cloud.TargetBranches {
		t.TargetBranches = splitBranches(r.PostFormValue("target_branches"))
	}
	if r.PostFormValue("manage_services") != "" {
		t.Services = []queue.Service{}
		for i, line := range formLines(r.PostFormValue("services")) {
			f := splitBar(line)
			if len(f) != 5 {
				return t, queue.Errorf(queue.CodeInvalid, "hq.template.line", i+1, line)
			}
			n := make([]int, 3)
			for j := range n {
				var err error
				if n[j], err = strconv.Atoi(f[2+j]); err != nil {
					return t, queue.Errorf(queue.CodeInvalid, "hq.template.line", i+1, line)
				}
			}
			t.Services = append(t.Services, queue.Service{Code: strings.ToUpper(f[0]), Name: f[1], TargetWaitS: n[0] * 60, MeanServiceS: n[1] * 60, Priority: n[2]})
		}
	}
	if r.PostFormValue("manage_rules") != "" {
		var ru event.Rules
		var err error
		if ru.PreferentialRatio, err = formInt(r, "preferential_ratio"); err != nil {
			return t, err
		}
		if ru.RecallLimit, err = formInt(r, "recall_limit"); err != nil {
			return t, err
		}
		if ru.PreNoticeAhead, err = formInt(r, "pre_notice_ahead"); err != nil {
			return t, err
		}
		if ru.PreNoticeByService, err = parsePreNotice(r.PostFormValue("pre_notice_by_service")); err != nil {
			return t, err
		}
		t.Rules = &ru
	}
	if r.PostFormValue("manage_appointments") != "" {
		var a event.AppointmentRules
		for _, f := range []struct {
			name string
			dst  *int
		}{{"early_min", &a.EarlyMin}, {"grace_min", &a.GraceMin}, {"run_max", &a.RunMax}, {"hold_min", &a.HoldMin}, {"slide_by", &a.SlideBy}} {
			var err error
			if *f.dst, err = formIntOr(r, f.name, 0); err != nil {
				return t, err
			}
		}
		var err error
		if a.Remote, err = parseRemote(r.PostFormValue("remote")); err != nil {
			return t, err
		}
		t.Appointments = &a
	}
	if r.PostFormValue("manage_hours") != "" {
		hours := strings.TrimSpace(r.PostFormValue("opening_hours"))
		t.OpeningHours = &hours
	}
	if r.PostFormValue("manage_outcomes") != "" {
		t.Outcomes = []queue.Outcome{}
		for i, line := range formLines(r.PostFormValue("outcomes")) {
			f := splitBar(line)
			if len(f) != 2 {
				return t, queue.Errorf(queue.CodeInvalid, "hq.template.line", i+1, line)
			}
			t.Outcomes = append(t.Outcomes, queue.Outcome{Code: f[0], Name: f[1]})
		}
	}
	return t, nil
}

func formLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func splitBar(line string) []string {
	f := strings.Split(line, "|")
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	return f
}

func splitBranches(s string) []string {
	return strings.FieldsFunc(strings.ToUpper(s), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == ';' })
}

// templateCreate is POST /config/templates.
func (h *Handler) templateCreate(w http.ResponseWriter, r *http.Request, q *req) {
	h.saveTemplate(w, r, q, 0, func(f templateForm, status int, msg string) {
		h.showTemplates(w, r, q, status, msg, "", f)
	})
}

// saveTemplate stores the template form as template id (0: a new one),
// audits it and goes to its page; refused input goes to refused with the
// form as sent.
func (h *Handler) saveTemplate(w http.ResponseWriter, r *http.Request, q *req, id int64, refused func(f templateForm, status int, msg string)) {
	t, err := templateFromForm(r)
	t.ID = id
	if err == nil {
		t, err = h.putTemplate(r, q, t)
	}
	if err != nil {
		if httpStatus(err) >= 500 {
			h.fail(w, r, q, err)
			return
		}
		refused(formOf(t), httpStatus(err), queue.ErrorMessage(q.Lang, err))
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/config/templates/%d?saved=%d", t.ID, t.Version), http.StatusSeeOther) // #nosec G710 -- a fixed local path with numbers
}

// putTemplate stores t (ID 0: a new one) and audits it: the template form
// and the config API's POST and PUT /templates.
func (h *Handler) putTemplate(r *http.Request, q *req, t cloud.Template) (cloud.Template, error) {
	id := t.ID
	t, err := h.store.PutTemplate(r.Context(), t, q.P.Actor())
	if err != nil {
		return t, err
	}
	op := "change"
	if id == 0 {
		op = "create"
	}
	h.audit(r, q, cloud.AuditConfigTemplate, fmt.Sprintf("template:%d", t.ID), fmt.Sprintf("%s %q v%d", op, t.Name, t.Version))
	return t, nil
}

// templateID reads the {id} of a template route (0: not a number).
func templateID(r *http.Request, name string) int64 {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// targetRow is a branch a template applies to, with the fields it may keep
// as its own.
type targetRow struct {
	cloud.BranchInfo
	Fields []fieldBox
	Own    []string
}

type fieldBox struct {
	Field, Label string
	Own          bool
}

type templateEditData struct {
	Form     templateForm
	FormCtx  formCtx
	Targets  []targetRow
	Rollouts []cloud.TemplateRollout
}

// overrideFields are the fields a branch may keep under a template: the
// parts it manages, each of its services and those the branch keeps
// already.
func overrideFields(t cloud.Template, own []string) []string {
	var out []string
	if t.Services != nil {
		for _, sv := range t.Services {
			out = append(out, cloud.OverrideServicePrefix+sv.Code)
		}
	}
	if t.Rules != nil {
		out = append(out, cloud.OverrideRules)
	}
	if t.Appointments != nil {
		out = append(out, cloud.OverrideAppointments)
	}
	if t.OpeningHours != nil {
		out = append(out, cloud.OverrideHours)
	}
	if t.Outcomes != nil {
		out = append(out, cloud.OverrideOutcomes)
	}
	for _, f := range own {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// fieldLabel names an override field in the page's language.
func fieldLabel(v *view, f string) string {
	if code, ok := strings.CutPrefix(f, cloud.OverrideServicePrefix); ok {
		return v.T("hq.config.services") + " " + code
	}
	switch f {
	case cloud.OverrideRules:
		return v.T("hq.tpreview.rules")
	case cloud.OverrideAppointments:
		return v.T("hq.appt.rules")
	case cloud.OverrideHours:
		return v.T("hq.hours.title")
	case cloud.OverrideOutcomes:
		return v.T("hq.tpreview.outcomes")
	}
	return f
}

func (h *Handler) templatePage(w http.ResponseWriter, r *http.Request, q *req) {
	flash := ""
	if s := r.URL.Query().Get("saved"); s != "" {
		n, _ := strconv.Atoi(s)
		flash = q.view("", nil).T("hq.templates.saved", n)
	}
	h.showTemplate(w, r, q, templateID(r, "id"), nil, http.StatusOK, "", flash)
}

// showTemplate renders a template's page; form, when not nil, is what the
// admin sent (shown again with the error).
func (h *Handler) showTemplate(w http.ResponseWriter, r *http.Request, q *req, id int64, form *templateForm, status int, errMsg, flash string) {
	ctx := r.Context()
	t, err := h.store.Template(ctx, id)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	d := templateEditData{Form: formOf(t)}
	if form != nil {
		form.ID, form.Version = t.ID, t.Version
		d.Form = *form
	}
	v := q.view("config", nil)
	targets, err := h.store.TemplateTargets(ctx, t)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	own, err := h.store.Overrides(ctx, id)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	for _, b := range targets {
		row := targetRow{BranchInfo: b}
		for _, f := range overrideFields(t, own[b.ID]) {
			isOwn := slices.Contains(own[b.ID], f)
			row.Fields = append(row.Fields, fieldBox{Field: f, Label: fieldLabel(v, f), Own: isOwn})
			if isOwn {
				row.Own = append(row.Own, fieldLabel(v, f))
			}
		}
		d.Targets = append(d.Targets, row)
	}
	if d.Rollouts, err = h.store.TemplateRollouts(ctx, id); err != nil {
		h.fail(w, r, q, err)
		return
	}
	d.FormCtx = formCtx{Form: d.Form, View: v}
	if d.FormCtx.Regions, err = h.store.Regions(ctx, cloud.AllBranches); err != nil {
		h.fail(w, r, q, err)
		return
	}
	if d.FormCtx.AllTags, err = h.store.AllTags(ctx); err != nil {
		h.fail(w, r, q, err)
		return
	}
	v.Data, v.Error, v.Flash = d, errMsg, flash
	h.render(w, status, "template_edit", v)
}

// templateUpdate is POST /config/templates/{id}.
func (h *Handler) templateUpdate(w http.ResponseWriter, r *http.Request, q *req) {
	id := templateID(r, "id")
	if _, err := h.store.Template(r.Context(), id); err != nil {
		h.fail(w, r, q, err)
		return
	}
	h.saveTemplate(w, r, q, id, func(f templateForm, status int, msg string) {
		h.showTemplate(w, r, q, id, &f, status, msg, "")
	})
}

// templateDelete is POST /config/templates/{id}/delete.
func (h *Handler) templateDelete(w http.ResponseWriter, r *http.Request, q *req) {
	id := templateID(r, "id")
	t, err := h.store.Template(r.Context(), id)
	if err == nil {
		err = h.store.DeleteTemplate(r.Context(), id)
	}
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	h.audit(r, q, cloud.AuditConfigTemplate, fmt.Sprintf("template:%d", id), fmt.Sprintf("delete %q", t.Name))
	http.Redirect(w, r, "/config/templates", http.StatusSeeOther)
}

// templateOverrides is POST /config/templates/{id}/overrides: the fields a
// branch keeps as its own (the ticked "field" boxes; the others it gives up).
func (h *Handler) templateOverrides(w http.ResponseWriter, r *http.Request, q *req) {
	id, branch := templateID(r, "id"), r.PostFormValue("branch")
	t, err := h.store.Template(r.Context(), id)
	if err == nil {
		_, err = h.setOverrides(r, q, t, branch, r.PostForm["field"]) // parsed by PostFormValue above
	}
	if err != nil {
		if httpStatus(err) >= 500 || queue.ErrorReason(err) == "hq.template.not_found" {
			h.fail(w, r, q, err)
			return
		}
		h.showTemplate(w, r, q, id, nil, httpStatus(err), queue.ErrorMessage(q.Lang, err), "")
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/config/templates/%d#targets", id), http.StatusSeeOther) // #nosec G710 -- a fixed local path with numbers
}

// setOverrides makes branch keep exactly the fields keep as its own under
// t (it gives up the others, at once) and audits it: the template page's
// form and the config API. A branch keeps only a field t lets it keep
// (overrideFields: a part t manages, one of t's services, or one it keeps
// already), and only while t targets it (giving all up is always allowed).
// It returns the fields kept, sorted. Errors: invalid
// hq.template.override, hq.template.override_unmanaged; not_found
// hq.branch.not_found; conflict hq.template.not_target.
func (h *Handler) setOverrides(r *http.Request, q *req, t cloud.Template, branch string, keep []string) ([]string, error) {
	ctx := r.Context()
	if _, err := h.store.Branch(ctx, cloud.AllBranches, branch); err != nil {
		return nil, err
	}
	own, err := h.store.Overrides(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	keep = slices.Compact(slices.Sorted(slices.Values(keep)))
	allowed := overrideFields(t, own[branch])
	for _, f := range keep {
		if !cloud.ValidOverride(f) {
			return nil, queue.Errorf(queue.CodeInvalid, "hq.template.override", clipText(f, 64))
		}
		if !slices.Contains(allowed, f) {
			return nil, queue.Errorf(queue.CodeInvalid, "hq.template.override_unmanaged", f, t.Name)
		}
	}
	if len(keep) > 0 {
		targets, err := h.store.TemplateTargets(ctx, t)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(targets, func(b cloud.BranchInfo) bool { return b.ID == branch }) {
			return nil, queue.Errorf(queue.CodeConflict, "hq.template.not_target", branch, t.Name)
		}
	}
	if err := h.store.SetOverrides(ctx, t.ID, branch, keep); err != nil {
		return nil, err
	}
	h.audit(r, q, cloud.AuditConfigTemplate, fmt.Sprintf("template:%d", t.ID), fmt.Sprintf("overrides %s keeps=%s", branch, strings.Join(keep, ",")))
	return keep, nil
}

// branchTagsPut is POST /config/tags: a branch's free tags.
func (h *Handler) branchTagsPut(w http.ResponseWriter, r *http.Request, q *req) {
	branch := strings.ToUpper(strings.TrimSpace(r.PostFormValue("branch")))
	tags := strings.FieldsFunc(r.PostFormValue("tags"), func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
	if err := h.store.SetTags(r.Context(), branch, tags); err != nil {
		if httpStatus(err) >= 500 || queue.ErrorCode(err) == queue.CodeNotFound {
			h.fail(w, r, q, err)
			return
		}
		h.showTemplates(w, r, q, httpStatus(err), queue.ErrorMessage(q.Lang, err), "",
			formOf(cloud.Template{TargetKind: cloud.TargetRegion}))
		return
	}
	h.audit(r, q, cloud.AuditConfigTemplate, "branch:"+branch, "tags "+strings.Join(tags, ","))
	http.Redirect(w, r, "/config/templates?tags="+url.QueryEscape(branch)+"#tags", http.StatusSeeOther)
}
