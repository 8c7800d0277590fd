package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/queue"
)

// A template's bulk publication: the preview ("what changes where", with the
// guard's verdict per branch), the staged publication (a first stage, then
// the rest on HQ's confirmation) and the configuration version report. The
// store computes and publishes (cloud.Templates); these pages show it.

type templatePreviewData struct {
	cloud.TemplatePreview
	// Own names, per branch, the fields it keeps as its own that the
	// template manages.
	Own map[string]string
}

// templatePreview is GET /config/templates/{id}/preview.
func (h *Handler) templatePreview(w http.ResponseWriter, r *http.Request, q *req) {
	h.showTemplatePreview(w, r, q, templateID(r, "id"), http.StatusOK, "")
}

func (h *Handler) showTemplatePreview(w http.ResponseWriter, r *http.Request, q *req, id int64, status int, errMsg string) {
	p, err := h.store.PreviewTemplate(r.Context(), id, q.Lang)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	v := q.view("config", nil)
	d := templatePreviewData{TemplatePreview: p, Own: map[string]string{}}
	for _, b := range p.Branches {
		var names []string
		for _, f := range b.Kept {
			names = append(names, fieldLabel(v, f))
		}
		d.Own[b.Branch.ID] = strings.Join(names, ", ")
	}
	v.Data, v.Error = d, errMsg
	h.render(w, status, "template_preview", v)
}

// optionalInt reads an optional whole number of a form (empty: 0). Errors:
// invalid hq.form.number.
func optionalInt(r *http.Request, name string) (int, error) {
	if strings.TrimSpace(r.PostFormValue(name)) == "" {
		return 0, nil
	}
	return formInt(r, name)
}

func (h *Handler) publishOptions(q *req) cloud.PublishOptions {
	return cloud.PublishOptions{By: q.P.Actor(), IP: q.IP, RUTSealKey: h.cfg.RUTSealKey, Publisher: h.cfg.Publisher}
}

// templatePublish is POST /config/templates/{id}/publish: the first stage
// (first_n branches or first_pct of them; neither: all at once).
func (h *Handler) templatePublish(w http.ResponseWriter, r *http.Request, q *req) {
	id := templateID(r, "id")
	if _, err := h.store.Template(r.Context(), id); err != nil {
		h.fail(w, r, q, err)
		return
	}
	firstN, err := optionalInt(r, "first_n")
	var firstPct int
	if err == nil {
		firstPct, err = optionalInt(r, "first_pct")
	}
	var ro cloud.TemplateRollout
	if err == nil {
		ro, err = h.startTemplateRollout(r, q, id, firstN, firstPct)
	}
	if err != nil && ro.ID == 0 {
		if httpStatus(err) >= 500 {
			h.fail(w, r, q, err)
			return
		}
		h.showTemplatePreview(w, r, q, id, httpStatus(err), queue.ErrorMessage(q.Lang, err))
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/config/rollouts/%d", ro.ID), http.StatusSeeOther)
}

// markPublished pushes the tiles of the branches a stage published (their
// published version changed).
func (h *Handler) markPublished(ro cloud.TemplateRollout) {
	for _, res := range ro.Results {
		if res.Outcome == cloud.ResultPublished || res.Outcome == cloud.ResultUnsent {
			h.hub.mark(res.Branch)
		}
	}
}

type rolloutData struct {
	cloud.TemplateRollout
	Template cloud.Template
	Pending  int
}

// rolloutPage is GET /config/rollouts/{id}.
func (h *Handler) rolloutPage(w http.ResponseWriter, r *http.Request, q *req) {
	h.showRollout(w, r, q, templateID(r, "id"), http.StatusOK, "")
}

func (h *Handler) showRollout(w http.ResponseWriter, r *http.Request, q *req, id int64, status int, errMsg string) {
	ro, err := h.store.TemplateRollout(r.Context(), id)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	t, err := h.store.Template(r.Context(), ro.TemplateID)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	d := rolloutData{TemplateRollout: ro, Template: t}
	if ro.Status == cloud.RolloutFirstStage {
		d.Pending = len(ro.Rest)
	}
	v := q.view("config", d)
	v.Error = errMsg
	h.render(w, status, "template_rollout", v)
}

// rolloutContinue is POST /config/rollouts/{id}/continue: the rest.
func (h *Handler) rolloutContinue(w http.ResponseWriter, r *http.Request, q *req) {
	id := templateID(r, "id")
	_, err := h.continueTemplateRollout(r, q, id)
	h.rolloutDone(w, r, q, id, err)
}

// rolloutCancel is POST /config/rollouts/{id}/cancel.
func (h *Handler) rolloutCancel(w http.ResponseWriter, r *http.Request, q *req) {
	id := templateID(r, "id")
	h.rolloutDone(w, r, q, id, h.store.CancelTemplateRollout(r.Context(), id, h.publishOptions(q)))
}

func (h *Handler) rolloutDone(w http.ResponseWriter, r *http.Request, q *req, id int64, err error) {
	switch {
	case err == nil:
		http.Redirect(w, r, fmt.Sprintf("/config/rollouts/%d", id), http.StatusSeeOther) // #nosec G710 -- a fixed local path with a number
	case httpStatus(err) >= 500 || queue.ErrorCode(err) == queue.CodeNotFound:
		h.fail(w, r, q, err)
	default:
		h.showRollout(w, r, q, id, httpStatus(err), queue.ErrorMessage(q.Lang, err))
	}
}

type versionsData struct {
	Rows          []cloud.VersionRow
	Lagging       int
	Filter        cloud.VersionFilter
	Regions, Tags []string
}

// configVersions is GET /config/versions?region=&tag=&lagging=1: which
// branches run which configuration version.
func (h *Handler) configVersions(w http.ResponseWriter, r *http.Request, q *req) {
	ctx := r.Context()
	f := cloud.VersionFilter{Region: r.URL.Query().Get("region"), Tag: r.URL.Query().Get("tag"), Lagging: r.URL.Query().Get("lagging") == "1"}
	rows, err := h.store.ConfigVersions(ctx, f)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	d := versionsData{Rows: rows, Filter: f}
	for _, v := range rows {
		if v.Lagging() {
			d.Lagging++
		}
	}
	if d.Regions, err = h.store.Regions(ctx, cloud.AllBranches); err != nil {
		h.fail(w, r, q, err)
		return
	}
	if d.Tags, err = h.store.AllTags(ctx); err != nil {
		h.fail(w, r, q, err)
		return
	}
	h.render(w, http.StatusOK, "config_versions", q.view("config", d))
}
