package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

type configListData struct {
	Tiles []cloud.Tile
}

func (h *Handler) configList(w http.ResponseWriter, r *http.Request, q *req) {
	h.showConfigList(w, r, q, http.StatusOK, "")
}

func (h *Handler) showConfigList(w http.ResponseWriter, r *http.Request, q *req, status int, errMsg string) {
	tiles, err := h.store.Overview(r.Context(), cloud.AllBranches, cloud.OverviewFilter{})
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	v := q.view("config", configListData{Tiles: tiles})
	v.Error = errMsg
	h.render(w, status, "config", v)
}

func (h *Handler) configPutBranch(w http.ResponseWriter, r *http.Request, q *req) {
	in := cloud.BranchInput{ID: strings.ToUpper(strings.TrimSpace(r.PostFormValue("id"))), Name: r.PostFormValue("name"),
		Region: r.PostFormValue("region"), TimeZone: r.PostFormValue("time_zone"), OpeningHours: r.PostFormValue("opening_hours")}
	if err := h.store.PutBranch(r.Context(), in); err != nil {
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
	h.audit(r, q, cloud.AuditConfigChange, "branch:"+in.ID, fmt.Sprintf("branch name=%q region=%q tz=%s hours=%s", in.Name, in.Region, in.TimeZone, in.OpeningHours))
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
// audits it: the branch must exist; change returns the audit detail. A
// refused change shows the branch page with the reason.
func (h *Handler) configChange(change func(r *http.Request, id string) (detail string, err error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, q *req) {
		id := r.PathValue("id")
		if _, err := h.store.Branch(r.Context(), cloud.AllBranches, id); err != nil {
			h.fail(w, r, q, err)
			return
		}
		detail, err := change(r, id)
		if err != nil {
			if httpStatus(err) >= 500 {
				h.fail(w, r, q, err)
				return
			}
			h.showConfigBranch(w, r, q, id, httpStatus(err), queue.ErrorMessage(q.Lang, err), "")
			return
		}
		h.audit(r, q, cloud.AuditConfigChange, "branch:"+id, detail)
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
	return fmt.Sprintf("service %s %q target=%ds mean=%ds priority=%d", sv.Code, sv.Name, sv.TargetWaitS, sv.MeanServiceS, sv.Priority),
		h.store.PutService(r.Context(), id, sv)
}

// configServiceDelete is POST /config/branches/{id}/services/{key}/delete.
func (h *Handler) configServiceDelete(r *http.Request, id string) (string, error) {
	key := r.PathValue("key")
	return "delete service " + key, h.store.DeleteService(r.Context(), id, key)
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
	return fmt.Sprintf("counter %d %q", c.Number, c.Name), h.store.PutCounter(r.Context(), id, c)
}

// configCounterDelete is POST /config/branches/{id}/counters/{key}/delete.
func (h *Handler) configCounterDelete(r *http.Request, id string) (string, error) {
	key := r.PathValue("key")
	n, _ := strconv.Atoi(key) // not a number: no such counter (0), refused by the store
	return "delete counter " + key, h.store.DeleteCounter(r.Context(), id, n)
}

// configExecutivePut is POST /config/branches/{id}/executives: add or change
// an executive. PINs are set at the branch (ticketero-agent executive
// set-pin): HQ never holds or sends one.
func (h *Handler) configExecutivePut(r *http.Request, id string) (string, error) {
	e := queue.Executive{ID: strings.TrimSpace(r.PostFormValue("id")), Name: r.PostFormValue("name"),
		Services: cloud.SplitList(strings.ToUpper(r.PostFormValue("services")))}
	return fmt.Sprintf("executive %s %q services=%s", e.ID, e.Name, strings.Join(e.Services, ",")),
		h.store.PutExecutive(r.Context(), id, e, "")
}

// configExecutiveDelete is POST /config/branches/{id}/executives/{key}/delete.
func (h *Handler) configExecutiveDelete(r *http.Request, id string) (string, error) {
	key := r.PathValue("key")
	return "delete executive " + key, h.store.DeleteExecutive(r.Context(), id, key)
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
	return fmt.Sprintf("rules %+v", ru), h.store.PutRules(r.Context(), id, ru)
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

// publish snapshots the draft as a new version and sends it on the branch's
// config topic. A version that could not be sent stays stored (HQ publishes
// again; the branch applies only newer versions).
func (h *Handler) publish(w http.ResponseWriter, r *http.Request, q *req, id string) {
	// What the publication changes at the branch goes to the audit.
	_, preview, err := h.store.PublishPreview(r.Context(), id, i18n.EN)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	cfg, err := h.store.Publish(r.Context(), id, q.P.Actor(), h.cfg.RUTSealKey)
	if err != nil {
		if httpStatus(err) >= 500 {
			h.fail(w, r, q, err)
			return
		}
		h.showReview(w, r, q, id, httpStatus(err), queue.ErrorMessage(q.Lang, err))
		return
	}
	h.audit(r, q, cloud.AuditConfigPublish, "branch:"+id, fmt.Sprintf("version %d: %s", cfg.Version, preview.Diff.Summary()))
	if h.cfg.Publisher != nil {
		if err := h.cfg.Publisher.PublishConfig(r.Context(), cfg); err != nil {
			h.log.Error("publish config", "branch", id, "version", cfg.Version, "err", err)
			h.showConfigBranch(w, r, q, id, http.StatusServiceUnavailable, q.view("", nil).T("hq.config.unsent", cfg.Version), "")
			return
		}
	}
	h.hub.mark(id)
	http.Redirect(w, r, fmt.Sprintf("/config/branches/%s?published=%d", url.PathEscape(id), cfg.Version), http.StatusSeeOther)
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
