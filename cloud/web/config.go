package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// configPerPage is how many branches a page of the configuration list
// shows.
const configPerPage = 100

// configListData is the configuration list: a page of the branches that
// match the search and filters (the URL's query is the page's state, so it
// works without JavaScript), the filters' options and the page links.
type configListData struct {
	Branches  []cloud.ConfigListRow
	Filter    configQuery
	Regions   []string
	Templates []cloud.Template
	// Count says which rows of how many matches the page shows.
	Count       string
	Total       int
	Page, Pages int
	Prev, Next  template.URL
	Links       []pagerEntry
}

// configQuery is the configuration list's query string: q (ID, name,
// region or tag), region, version (cloud.ConfigBehind, …), template (an
// ID) and page.
type configQuery struct {
	Q, Region, Version string
	Template           int64
	Page               int
}

// readConfigQuery reads the list's query. Errors: invalid hq.page.invalid,
// hq.configlist.template_invalid (the version is the store's to refuse).
func readConfigQuery(r *http.Request) (configQuery, error) {
	v := r.URL.Query()
	c := configQuery{Q: strings.TrimSpace(v.Get("q")), Region: v.Get("region"), Version: v.Get("version"), Page: 1}
	if s := v.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return c, queue.Errorf(queue.CodeInvalid, "hq.page.invalid", s)
		}
		c.Page = n
	}
	if s := v.Get("template"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return c, queue.Errorf(queue.CodeInvalid, "hq.configlist.template_invalid", s)
		}
		c.Template = n
	}
	return c, nil
}

// Filtered reports whether the list is searched or filtered.
func (c configQuery) Filtered() bool {
	return c.Q != "" || c.Region != "" || c.Version != "" || c.Template != 0
}

// link is the list's URL for page n with the same search and filters.
func (c configQuery) link(n int) template.URL {
	v := url.Values{}
	for k, s := range map[string]string{"q": c.Q, "region": c.Region, "version": c.Version} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if c.Template != 0 {
		v.Set("template", strconv.FormatInt(c.Template, 10))
	}
	if n > 1 {
		v.Set("page", strconv.Itoa(n))
	}
	if len(v) == 0 {
		return "/config"
	}
	return template.URL("/config?" + v.Encode()) // #nosec G203 -- built from url.Values
}

// pagerEntry is one entry of a numbered pager: a page or a gap ("…").
type pagerEntry struct {
	N       int
	URL     template.URL
	Current bool
	Gap     bool
}

// pagerEntries numbers the pages around page (two on each side), the first
// and the last, with a gap where pages are left out.
func pagerEntries(page, pages int, link func(int) template.URL) []pagerEntry {
	var out []pagerEntry
	last := 0
	for n := 1; n <= pages; n++ {
		if n != 1 && n != pages && (n < page-2 || n > page+2) {
			continue
		}
		if last != 0 && n > last+1 {
			out = append(out, pagerEntry{Gap: true})
		}
		out = append(out, pagerEntry{N: n, URL: link(n), Current: n == page})
		last = n
	}
	return out
}

func (h *Handler) configList(w http.ResponseWriter, r *http.Request, q *req) {
	c, err := readConfigQuery(r)
	if err != nil {
		h.fail(w, r, q, err)
		return
	}
	h.showConfigList(w, r, q, c, http.StatusOK, "")
}

// showConfigList renders the page of the configuration list c asks for.
// The page, the regions and the templates are read at once.
func (h *Handler) showConfigList(w http.ResponseWriter, r *http.Request, q *req, c configQuery, status int, errMsg string) {
	ctx := r.Context()
	d := configListData{Filter: c}
	var (
		page       cloud.ConfigListPage
		wg         sync.WaitGroup
		e1, e2, e3 error
	)
	wg.Add(3)
	go func() {
		defer wg.Done()
		page, e1 = h.store.ConfigList(ctx, cloud.ConfigListFilter{Query: c.Q, Region: c.Region, Version: c.Version, Template: c.Template,
			Limit: configPerPage, Offset: (c.Page - 1) * configPerPage})
	}()
	go func() { defer wg.Done(); d.Regions, e2 = h.store.Regions(ctx, cloud.AllBranches) }()
	go func() { defer wg.Done(); d.Templates, e3 = h.store.Templates(ctx) }()
	wg.Wait()
	if err := errors.Join(e1, e2, e3); err != nil {
		h.fail(w, r, q, err)
		return
	}
	d.Branches, d.Total = page.Rows, page.Total
	d.Pages = max(1, (page.Total+configPerPage-1)/configPerPage)
	d.Page = page.Offset/configPerPage + 1
	if d.Page > 1 {
		d.Prev = c.link(d.Page - 1)
	}
	if d.Page < d.Pages {
		d.Next = c.link(d.Page + 1)
	}
	if d.Pages > 1 {
		d.Links = pagerEntries(d.Page, d.Pages, c.link)
	}
	if page.Total > 0 {
		d.Count = i18n.T(q.Lang, "hq.configlist.count", thousands(q.Lang, page.Offset+1),
			thousands(q.Lang, page.Offset+len(page.Rows)), thousands(q.Lang, page.Total))
	}
	v := q.view("config", d)
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
			h.showConfigList(w, r, q, configQuery{Page: 1}, httpStatus(err), queue.ErrorMessage(q.Lang, err))
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
