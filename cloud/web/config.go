package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

type configListData struct {
	Tiles []hq.Tile
}

func (h *Handler) configList(w http.ResponseWriter, r *http.Request, q *req) {
	h.showConfigList(w, r, q, http.StatusOK, "")
}

func (h *Handler) showConfigList(w http.ResponseWriter, r *http.Request, q *req, status int, errMsg string) {
	tiles, err := h.store.Overview(r.Context(), hq.AllBranches, hq.OverviewFilter{})
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	v := q.view("config", configListData{Tiles: tiles})
	v.Error = errMsg
	h.render(w, status, "config", v)
}

func (h *Handler) configPutBranch(w http.ResponseWriter, r *http.Request, q *req) {
	in := hq.BranchInput{ID: strings.ToUpper(strings.TrimSpace(r.PostFormValue("id"))), Name: r.PostFormValue("name"),
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
	h.audit(r, q, hq.AuditConfigChange, "branch:"+in.ID, fmt.Sprintf("branch name=%q region=%q tz=%s hours=%s", in.Name, in.Region, in.TimeZone, in.OpeningHours))
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

// configPost applies one change to a branch's draft (or publishes it) and
// audits it.
func (h *Handler) configPost(w http.ResponseWriter, r *http.Request, q *req) {
	ctx := r.Context()
	id, what, key, op := r.PathValue("id"), r.PathValue("what"), r.PathValue("key"), r.PathValue("op")
	if _, err := h.store.Branch(ctx, hq.AllBranches, id); err != nil {
		h.fail(w, r, q, err)
		return
	}
	var (
		err    error
		detail string
	)
	switch {
	case what == "services" && key == "":
		var sv queue.Service
		sv.Code, sv.Name = strings.ToUpper(strings.TrimSpace(r.PostFormValue("code"))), strings.TrimSpace(r.PostFormValue("name"))
		var tmin, mmin int
		if tmin, err = formInt(r, "target_min"); err == nil {
			if mmin, err = formInt(r, "mean_min"); err == nil {
				if sv.Priority, err = formInt(r, "priority"); err == nil {
					sv.TargetWaitS, sv.MeanServiceS = tmin*60, mmin*60
					err = h.store.PutService(ctx, id, sv)
				}
			}
		}
		detail = fmt.Sprintf("service %s %q target=%ds mean=%ds priority=%d", sv.Code, sv.Name, sv.TargetWaitS, sv.MeanServiceS, sv.Priority)
	case what == "services" && op == "delete":
		err, detail = h.store.DeleteService(ctx, id, key), "delete service "+key
	case what == "counters" && key == "":
		var c queue.Counter
		if c.Number, err = formInt(r, "number"); err == nil {
			c.Name = strings.TrimSpace(r.PostFormValue("name"))
			err = h.store.PutCounter(ctx, id, c)
		}
		detail = fmt.Sprintf("counter %d %q", c.Number, c.Name)
	case what == "counters" && op == "delete":
		n, _ := strconv.Atoi(key)
		err, detail = h.store.DeleteCounter(ctx, id, n), "delete counter "+key
	case what == "executives" && key == "":
		e := queue.Executive{ID: strings.TrimSpace(r.PostFormValue("id")), Name: r.PostFormValue("name"),
			Services: hq.SplitList(strings.ToUpper(r.PostFormValue("services")))}
		// PINs are set at the branch (ticketero-agent executive set-pin):
		// HQ never holds or sends one.
		err = h.store.PutExecutive(ctx, id, e, "")
		detail = fmt.Sprintf("executive %s %q services=%s", e.ID, e.Name, strings.Join(e.Services, ","))
	case what == "executives" && op == "delete":
		err, detail = h.store.DeleteExecutive(ctx, id, key), "delete executive "+key
	case what == "rules" && key == "":
		var ru event.Rules
		if ru.PreferentialRatio, err = formInt(r, "preferential_ratio"); err == nil {
			if ru.RecallLimit, err = formInt(r, "recall_limit"); err == nil {
				if ru.PreNoticeAhead, err = formInt(r, "pre_notice_ahead"); err == nil {
					if ru.PreNoticeByService, err = parsePreNotice(r.PostFormValue("pre_notice_by_service")); err == nil {
						err = h.store.PutRules(ctx, id, ru)
					}
				}
			}
		}
		detail = fmt.Sprintf("rules %+v", ru)
	case what == "publish" && key == "":
		if r.PostFormValue("confirm") != "1" {
			h.showReview(w, r, q, id, http.StatusOK, "")
			return
		}
		h.publish(w, r, q, id)
		return
	default:
		h.fail(w, r, q, errNotFound)
		return
	}
	if err != nil {
		if httpStatus(err) >= 500 {
			h.fail(w, r, q, err)
			return
		}
		h.showConfigBranch(w, r, q, id, httpStatus(err), queue.ErrorMessage(q.Lang, err), "")
		return
	}
	h.audit(r, q, hq.AuditConfigChange, "branch:"+id, detail)
	http.Redirect(w, r, "/config/branches/"+url.PathEscape(id)+"?saved=1", http.StatusSeeOther)
}

// configReview is the confirm step before "Publicar": what the branch runs
// (its last report, or the HQ version it runs), what the publication adds,
// removes and changes, and the services whose waiting tickets it would
// strand (the publication is then refused).
func (h *Handler) configReview(w http.ResponseWriter, r *http.Request, q *req) {
	h.showReview(w, r, q, r.PathValue("id"), http.StatusOK, "")
}

type reviewData struct {
	hq.BranchConfig
	Preview hq.Preview
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
	h.audit(r, q, hq.AuditConfigPublish, "branch:"+id, fmt.Sprintf("version %d: %s", cfg.Version, preview.Diff.Summary()))
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
