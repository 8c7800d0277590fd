package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

type configListData struct {
	Branches []cloud.ConfigListRow
}

func (h *Handler) configList(w http.ResponseWriter, r *http.Request, q *req) {
	h.showConfigList(w, r, q, http.StatusOK, "")
}

func (h *Handler) showConfigList(w http.ResponseWriter, r *http.Request, q *req, status int, errMsg string) {
	rows, err := h.store.ConfigList(r.Context())
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	v := q.view("config", configListData{Branches: rows})
	v.Error = errMsg
	h.render(w, status, "config", v)
}

func (h *Handler) configPutBranch(w http.ResponseWriter, r *http.Request, q *req) {
	in := cloud.BranchInput{ID: strings.ToUpper(strings.TrimSpace(r.PostFormValue("id"))), Name: r.PostFormValue("name"),
		Region: r.PostFormValue("region"), TimeZone: r.PostFormValue("time_zone"), OpeningHours: r.PostFormValue("opening_hours")}
	if err := h.putBranch(r, q, in); err != nil {
		if httpStatus(err) >= 500 || r.PostFormValue("from") != "branch" {
			if httpStatus(err) >= 500 {
				h.fail(w, r, q, err)
				return
			}
			h.showConfigList(w, r, q, httpStatus(err), queue.ErrorMessage(q.Lang, err))
			return
		}
		h.showConfigBranch(w, r, q, in.ID, httpStatus(err), queue.ErrorMessage(q.Lang, err), "")
		return
	}
	http.Redirect(w, r, "/config/branches/"+url.PathEscape(in.ID)+"?saved=1", http.StatusSeeOther)
}

func (h *Handler) configBranch(w http.ResponseWriter, r *http.Request, q *req) {
	flash := ""
	if r.URL.Query().Get("saved") != "" {
		flash = q.view("", nil).T("hq.saved")
	}
	if v := r.URL.Query().Get("published"); v != "" {
		flash = q.view("", nil).T("hq.config.published", v)
	}
	h.showConfigBranch(w, r, q, r.PathValue("id"), http.StatusOK, "", flash)
}

func (h *Handler) showConfigBranch(w http.ResponseWriter, r *http.Request, q *req, id string, status int, errMsg, flash string) {
	c, err := h.store.BranchConfig(r.Context(), id)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	v := q.view("config", c)
	v.Error, v.Flash = errMsg, flash
	h.render(w, status, "config_branch", v)
}

func formInt(r *http.Request, name string) (int, error) {
	s := strings.TrimSpace(r.PostFormValue(name))
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, queue.Errorf(queue.CodeInvalid, "hq.form.number", name)
	}
	return n, nil
}

// configChange is a route that applies one change to a branch's draft and
// audits it (changeBranch): the branch must exist; change returns the audit
// detail. A refused change shows the branch page with the reason.
func (h *Handler) configChange(change func(r *http.Request, id string) (detail string, err error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, q *req) {
		id := r.PathValue("id")
		err := h.changeBranch(r, q, id, func(context.Context) (string, error) { return change(r, id) })
		if err != nil {
			if httpStatus(err) >= 500 || queue.ErrorReason(err) == "hq.branch.not_found" {
				h.fail(w, r, q, err)
				return
			}
			h.showConfigBranch(w, r, q, id, httpStatus(err), queue.ErrorMessage(q.Lang, err), "")
			return
		}
		http.Redirect(w, r, "/config/branches/"+url.PathEscape(id)+"?saved=1", http.StatusSeeOther)
	}
}

// configServicePut is POST /config/branches/{id}/services: add or change a
// service (waits in minutes on the form).
func (h *Handler) configServicePut(r *http.Request, id string) (string, error) {
	var sv queue.Service
	sv.Code, sv.Name = strings.ToUpper(strings.TrimSpace(r.PostFormValue("code"))), strings.TrimSpace(r.PostFormValue("name"))
	tmin, err := formInt(r, "target_min")
	if err != nil {
		return "", err
	}
	mmin, err := formInt(r, "mean_min")
	if err != nil {
		return "", err
	}
	if sv.Priority, err = formInt(r, "priority"); err != nil {
		return "", err
	}
	sv.TargetWaitS, sv.MeanServiceS = tmin*60, mmin*60
	return h.putService(r.Context(), id, sv)
}

// configServiceDelete is POST /config/branches/{id}/services/{key}/delete.
func (h *Handler) configServiceDelete(r *http.Request, id string) (string, error) {
	return h.deleteService(r.Context(), id, r.PathValue("key"))
}

// configCounterPut is POST /config/branches/{id}/counters: add or rename a
// counter.
func (h *Handler) configCounterPut(r *http.Request, id string) (string, error) {
	var c queue.Counter
	var err error
	if c.Number, err = formInt(r, "number"); err != nil {
		return "", err
	}
	c.Name = strings.TrimSpace(r.PostFormValue("name"))
	return h.putCounter(r.Context(), id, c)
}

// configCounterDelete is POST /config/branches/{id}/counters/{key}/delete.
func (h *Handler) configCounterDelete(r *http.Request, id string) (string, error) {
	return h.deleteCounter(r.Context(), id, r.PathValue("key"))
}

// configExecutivePut is POST /config/branches/{id}/executives: add or change
// an executive (putExecutive: no PIN).
func (h *Handler) configExecutivePut(r *http.Request, id string) (string, error) {
	e := queue.Executive{ID: strings.TrimSpace(r.PostFormValue("id")), Name: r.PostFormValue("name"),
		Services: cloud.SplitList(strings.ToUpper(r.PostFormValue("services")))}
	return h.putExecutive(r.Context(), id, e)
}

// configExecutiveDelete is POST /config/branches/{id}/executives/{key}/delete.
func (h *Handler) configExecutiveDelete(r *http.Request, id string) (string, error) {
	return h.deleteExecutive(r.Context(), id, r.PathValue("key"))
}

// configRulesPut is POST /config/branches/{id}/rules: the branch's queue rules.
func (h *Handler) configRulesPut(r *http.Request, id string) (string, error) {
	var ru event.Rules
	var err error
	if ru.PreferentialRatio, err = formInt(r, "preferential_ratio"); err != nil {
		return "", err
	}
	if ru.RecallLimit, err = formInt(r, "recall_limit"); err != nil {
		return "", err
	}
	if ru.PreNoticeAhead, err = formInt(r, "pre_notice_ahead"); err != nil {
		return "", err
	}
	if ru.PreNoticeByService, err = parsePreNotice(r.PostFormValue("pre_notice_by_service")); err != nil {
		return "", err
	}
	return h.putRules(r.Context(), id, ru)
}

// configPublish is POST /config/branches/{id}/publish: without confirm=1 it
// shows the review; with it, it publishes.
func (h *Handler) configPublish(w http.ResponseWriter, r *http.Request, q *req) {
	id := r.PathValue("id")
	if _, err := h.store.Branch(r.Context(), cloud.AllBranches, id); err != nil {
		h.fail(w, r, q, err)
		return
	}
	if r.PostFormValue("confirm") != "1" {
		h.showReview(w, r, q, id, http.StatusOK, "")
		return
	}
	h.publish(w, r, q, id)
}

// configReview is the confirm step before "Publicar": what the branch runs
// (its last report, or the HQ version it runs), what the publication adds,
// removes and changes, and the services whose waiting tickets it would
// strand (the publication is then refused).
func (h *Handler) configReview(w http.ResponseWriter, r *http.Request, q *req) {
	h.showReview(w, r, q, r.PathValue("id"), http.StatusOK, "")
}

type reviewData struct {
	cloud.BranchConfig
	Preview cloud.Preview
}

func (h *Handler) showReview(w http.ResponseWriter, r *http.Request, q *req, id string, status int, errMsg string) {
	c, p, err := h.store.PublishPreview(r.Context(), id, q.Lang)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	v := q.view("config", reviewData{BranchConfig: c, Preview: p})
	v.Error = errMsg
	h.render(w, status, "config_publish", v)
}

// publish publishes the draft (publishBranch) and shows the branch with the
// new version, the review with the refusal, or the branch with the version
// stored but not sent.
func (h *Handler) publish(w http.ResponseWriter, r *http.Request, q *req, id string) {
	cfg, err := h.publishBranch(r, q, id)
	switch {
	case err == nil:
		http.Redirect(w, r, fmt.Sprintf("/config/branches/%s?published=%d", url.PathEscape(id), cfg.Version), http.StatusSeeOther)
	case queue.ErrorReason(err) == "hq.config.unsent":
		h.showConfigBranch(w, r, q, id, http.StatusServiceUnavailable, queue.ErrorMessage(q.Lang, err), "")
	case httpStatus(err) >= 500 || queue.ErrorReason(err) == "hq.branch.not_found":
		h.fail(w, r, q, err)
	default:
		h.showReview(w, r, q, id, httpStatus(err), queue.ErrorMessage(q.Lang, err))
	}
}

// parsePreNotice reads the per-service pre-notice overrides of the rules form:
// "P=1 G=2" (commas or spaces between; empty: none). Errors: invalid
// hq.rules.notice_service_invalid.
func parsePreNotice(s string) (map[string]int, error) {
	out := map[string]int{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		code, v, ok := strings.Cut(f, "=")
		n, err := strconv.Atoi(strings.TrimSpace(v))
		code = strings.ToUpper(strings.TrimSpace(code))
		if !ok || err != nil || !queue.ValidServiceCode(code) {
			return nil, queue.Errorf(queue.CodeInvalid, "hq.rules.notice_service_invalid", f)
		}
		out[code] = n
	}
	return out, nil
}
