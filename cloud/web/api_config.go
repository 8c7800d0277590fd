package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// The configuration API's resources (api.go): the wire shapes, named in
// snake_case like the rest of the project's JSON, and their handlers.

type apiBranchItem struct {
	cloud.BranchInfo
	PublishedVersion int64      `json:"published_version"`
	RunningVersion   int64      `json:"running_version"`
	ReportedAt       *time.Time `json:"reported_at"`
}

type apiExecutive struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Services []string `json:"services"`
	// AtBranch: the branch reports him (his PIN is set there).
	AtBranch bool `json:"at_branch"`
}

type apiVersion struct {
	Version     int64     `json:"version"`
	PublishedAt time.Time `json:"published_at"`
	PublishedBy string    `json:"published_by"`
}

// apiHours is a branch's schedule settings beside its general hours (the
// network's holidays are their own resource).
type apiHours struct {
	WeeklyHours   map[string]string `json:"weekly_hours"`
	CloseGraceMin *int              `json:"close_grace_min"`
	LastTicket    map[string]string `json:"last_ticket"`
}

type apiDraft struct {
	Branch           cloud.BranchInfo `json:"branch"`
	OpeningHours     string           `json:"opening_hours"`
	Rules            event.Rules      `json:"rules"`
	Services         []queue.Service  `json:"services"`
	Counters         []queue.Counter  `json:"counters"`
	Executives       []apiExecutive   `json:"executives"`
	Hours            apiHours         `json:"hours"`
	Versions         []apiVersion     `json:"versions"`
	PublishedVersion int64            `json:"published_version"`
	RunningVersion   int64            `json:"running_version"`
}

type apiDiffItem struct {
	Kind   string `json:"kind"`
	Key    string `json:"key"`
	Before string `json:"before"`
	After  string `json:"after"`
}

type apiRunning struct {
	Source       string            `json:"source"`
	At           *time.Time        `json:"at"`
	Version      int64             `json:"version"`
	TimeZone     string            `json:"time_zone"`
	OpeningHours string            `json:"opening_hours"`
	Services     []queue.Service   `json:"services"`
	Counters     []queue.Counter   `json:"counters"`
	Executives   []queue.Executive `json:"executives"`
	ImportedAt   *time.Time        `json:"imported_at"`
}

type apiStranded struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	Waiting int    `json:"waiting"`
	Removed bool   `json:"removed"`
}

type apiDiff struct {
	Running apiRunning               `json:"running"`
	Changes map[string][]apiDiffItem `json:"changes"`
	Summary string                   `json:"summary"`
	// Stranded are the services whose waiting tickets the publication would
	// strand: while there are any, publishing is refused (409).
	Stranded    []apiStranded `json:"stranded"`
	Publishable bool          `json:"publishable"`
}

type apiPublished struct {
	Branch      string    `json:"branch"`
	Version     int64     `json:"version"`
	PublishedAt time.Time `json:"published_at"`
	PublishedBy string    `json:"published_by"`
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// apiBranches is GET /branches: the branches within the token's scope.
func (h *Handler) apiBranches(w http.ResponseWriter, r *http.Request, q *req) {
	list, err := h.store.ConfigBranches(r.Context(), q.P.Scope())
	if err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	out := make([]apiBranchItem, 0, len(list))
	for _, b := range list {
		out = append(out, apiBranchItem{BranchInfo: b.BranchInfo, PublishedVersion: b.Published, RunningVersion: b.Running, ReportedAt: b.ReportedAt})
	}
	apiJSON(w, http.StatusOK, map[string]any{"branches": out})
}

// inScope checks the branch {id} exists within the token's scope (404, 403).
func (h *Handler) inScope(w http.ResponseWriter, r *http.Request, q *req) (string, bool) {
	id := r.PathValue("id")
	if _, err := h.store.Branch(r.Context(), q.P.Scope(), id); err != nil {
		h.apiFail(w, r, q, err, 0)
		return "", false
	}
	return id, true
}

// draft reads a branch's draft in its API shape.
func (h *Handler) draft(ctx context.Context, id string) (apiDraft, error) {
	c, err := h.store.BranchConfig(ctx, id)
	if err != nil {
		return apiDraft{}, err
	}
	hs, err := h.store.BranchHours(ctx, id)
	if err != nil {
		return apiDraft{}, err
	}
	d := apiDraft{Branch: c.BranchInfo, OpeningHours: c.OpeningHours, Rules: c.Rules, Services: orEmpty(c.Services),
		Counters: orEmpty(c.Counters), Executives: []apiExecutive{}, Versions: []apiVersion{}, RunningVersion: c.Running,
		Hours: apiHours{WeeklyHours: hs.WeeklyHours, CloseGraceMin: hs.CloseGraceMin, LastTicket: hs.LastTicket}}
	if d.Hours.WeeklyHours == nil {
		d.Hours.WeeklyHours = map[string]string{}
	}
	if d.Hours.LastTicket == nil {
		d.Hours.LastTicket = map[string]string{}
	}
	for _, x := range c.Executives {
		d.Executives = append(d.Executives, apiExecutive{ID: x.ID, Name: x.Name, Services: orEmpty(x.Services), AtBranch: x.AtBranch})
	}
	for _, v := range c.Versions {
		d.Versions = append(d.Versions, apiVersion(v))
	}
	if len(c.Versions) > 0 {
		d.PublishedVersion = c.Versions[0].Version
	}
	return d, nil
}

// apiDraft is GET /branches/{id}: the draft HQ would publish.
func (h *Handler) apiDraft(w http.ResponseWriter, r *http.Request, q *req) {
	id, ok := h.inScope(w, r, q)
	if !ok {
		return
	}
	h.answerDraft(w, r, q, id, http.StatusOK)
}

func (h *Handler) answerDraft(w http.ResponseWriter, r *http.Request, q *req, id string, status int) {
	d, err := h.draft(r.Context(), id)
	if err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	apiJSON(w, status, d)
}

// apiPutBranch is PUT /branches/{id}: create or update a branch's name,
// region, time zone and general opening hours (201 when created).
func (h *Handler) apiPutBranch(w http.ResponseWriter, r *http.Request, q *req) {
	var in struct {
		Name         string `json:"name"`
		Region       string `json:"region"`
		TimeZone     string `json:"time_zone"`
		OpeningHours string `json:"opening_hours"`
	}
	if err := decodeBody(r, &in); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	id := r.PathValue("id")
	status := http.StatusOK
	if _, err := h.store.Branch(r.Context(), cloud.AllBranches, id); queue.ErrorCode(err) == queue.CodeNotFound {
		status = http.StatusCreated
	}
	if err := h.putBranch(r, q, cloud.BranchInput{ID: id, Name: in.Name, Region: in.Region, TimeZone: in.TimeZone, OpeningHours: in.OpeningHours}); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	h.answerDraft(w, r, q, id, status)
}

// apiChange applies one change to a branch's draft (changeBranch: the same
// guard and audit as the pages) and answers the draft.
func (h *Handler) apiChange(w http.ResponseWriter, r *http.Request, q *req, change func(ctx context.Context, id string) (string, error)) {
	id := r.PathValue("id")
	if err := h.changeBranch(r, q, id, func(ctx context.Context) (string, error) { return change(ctx, id) }); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	h.answerDraft(w, r, q, id, http.StatusOK)
}

// apiDelete is apiChange for a removal: 204.
func (h *Handler) apiDelete(w http.ResponseWriter, r *http.Request, q *req, change func(ctx context.Context, id string) (string, error)) {
	id := r.PathValue("id")
	if err := h.changeBranch(r, q, id, func(ctx context.Context) (string, error) { return change(ctx, id) }); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// apiServiceIn is a service's fields; nil ones are absent (PATCH keeps them,
// PUT requires name, target_wait_s and mean_service_s).
type apiServiceIn struct {
	Name         *string `json:"name"`
	TargetWaitS  *int    `json:"target_wait_s"`
	MeanServiceS *int    `json:"mean_service_s"`
	Priority     *int    `json:"priority"`
}

func (in apiServiceIn) apply(sv *queue.Service) {
	if in.Name != nil {
		sv.Name = strings.TrimSpace(*in.Name)
	}
	if in.TargetWaitS != nil {
		sv.TargetWaitS = *in.TargetWaitS
	}
	if in.MeanServiceS != nil {
		sv.MeanServiceS = *in.MeanServiceS
	}
	if in.Priority != nil {
		sv.Priority = *in.Priority
	}
}

// apiPutService is PUT /branches/{id}/services/{code}: add or replace a
// service of the draft.
func (h *Handler) apiPutService(w http.ResponseWriter, r *http.Request, q *req) {
	var in apiServiceIn
	if err := decodeBody(r, &in); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	for _, f := range []struct {
		name   string
		absent bool
	}{{"name", in.Name == nil}, {"target_wait_s", in.TargetWaitS == nil}, {"mean_service_s", in.MeanServiceS == nil}} {
		if f.absent {
			h.apiFail(w, r, q, required(f.name), 0)
			return
		}
	}
	sv := queue.Service{Code: strings.ToUpper(r.PathValue("code"))}
	in.apply(&sv)
	h.apiChange(w, r, q, func(ctx context.Context, id string) (string, error) { return h.putService(ctx, id, sv) })
}

// apiPatchService is PATCH /branches/{id}/services/{code}: change some of an
// existing service's fields. Errors: not_found hq.api.service_not_found.
func (h *Handler) apiPatchService(w http.ResponseWriter, r *http.Request, q *req) {
	var in apiServiceIn
	if err := decodeBody(r, &in); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	code := strings.ToUpper(r.PathValue("code"))
	h.apiChange(w, r, q, func(ctx context.Context, id string) (string, error) {
		c, err := h.store.BranchConfig(ctx, id)
		if err != nil {
			return "", err
		}
		for _, sv := range c.Services {
			if sv.Code == code {
				in.apply(&sv)
				return h.putService(ctx, id, sv)
			}
		}
		return "", queue.Errorf(queue.CodeNotFound, "hq.api.service_not_found", clipText(code, 16))
	})
}

func (h *Handler) apiDeleteService(w http.ResponseWriter, r *http.Request, q *req) {
	h.apiDelete(w, r, q, func(ctx context.Context, id string) (string, error) {
		return h.deleteService(ctx, id, strings.ToUpper(r.PathValue("code")))
	})
}

// counterNumber reads {number}. Errors: invalid hq.counter.invalid.
func counterNumber(r *http.Request) (int, error) {
	n, err := strconv.Atoi(r.PathValue("number"))
	if err != nil {
		return 0, queue.Errorf(queue.CodeInvalid, "hq.counter.invalid", clipText(r.PathValue("number"), 16))
	}
	return n, nil
}

// apiPutCounter is PUT /branches/{id}/counters/{number}: add or rename.
func (h *Handler) apiPutCounter(w http.ResponseWriter, r *http.Request, q *req) {
	var in struct {
		Name string `json:"name"`
	}
	n, err := counterNumber(r)
	if err == nil {
		err = decodeBody(r, &in)
	}
	if err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	c := queue.Counter{Number: n, Name: strings.TrimSpace(in.Name)}
	h.apiChange(w, r, q, func(ctx context.Context, id string) (string, error) { return h.putCounter(ctx, id, c) })
}

func (h *Handler) apiDeleteCounter(w http.ResponseWriter, r *http.Request, q *req) {
	if _, err := counterNumber(r); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	h.apiDelete(w, r, q, func(ctx context.Context, id string) (string, error) {
		return h.deleteCounter(ctx, id, r.PathValue("number"))
	})
}

// apiPutExecutive is PUT /branches/{id}/executives/{exec}: add or change an
// executive (name, services); his PIN is set at the branch.
func (h *Handler) apiPutExecutive(w http.ResponseWriter, r *http.Request, q *req) {
	var in struct {
		Name     *string  `json:"name"`
		Services []string `json:"services"`
	}
	if err := decodeBody(r, &in); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	if in.Name == nil {
		h.apiFail(w, r, q, required("name"), 0)
		return
	}
	e := queue.Executive{ID: r.PathValue("exec"), Name: *in.Name}
	for _, s := range in.Services {
		e.Services = append(e.Services, strings.ToUpper(strings.TrimSpace(s)))
	}
	h.apiChange(w, r, q, func(ctx context.Context, id string) (string, error) { return h.putExecutive(ctx, id, e) })
}

func (h *Handler) apiDeleteExecutive(w http.ResponseWriter, r *http.Request, q *req) {
	h.apiDelete(w, r, q, func(ctx context.Context, id string) (string, error) {
		return h.deleteExecutive(ctx, id, r.PathValue("exec"))
	})
}

// apiRulesIn is the calling rules' fields; nil ones are absent (PATCH keeps
// them; PUT requires the three numbers, and an absent pre_notice_by_service
// removes every override).
type apiRulesIn struct {
	PreferentialRatio  *int           `json:"preferential_ratio"`
	RecallLimit        *int           `json:"recall_limit"`
	PreNoticeAhead     *int           `json:"pre_notice_ahead"`
	PreNoticeByService map[string]int `json:"pre_notice_by_service"`
}

func (in apiRulesIn) apply(ru *event.Rules) {
	for _, f := range []struct {
		src *int
		dst *int
	}{{in.PreferentialRatio, &ru.PreferentialRatio}, {in.RecallLimit, &ru.RecallLimit}, {in.PreNoticeAhead, &ru.PreNoticeAhead}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	ru.PreNoticeByService = nil // the store keeps the overrides unless given
	if in.PreNoticeByService != nil {
		ru.PreNoticeByService = map[string]int{}
		for k, v := range in.PreNoticeByService {
			ru.PreNoticeByService[strings.ToUpper(k)] = v
		}
	}
}

func (h *Handler) apiPutRules(w http.ResponseWriter, r *http.Request, q *req) {
	var in apiRulesIn
	if err := decodeBody(r, &in); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	for _, f := range []struct {
		name string
		v    *int
	}{{"preferential_ratio", in.PreferentialRatio}, {"recall_limit", in.RecallLimit}, {"pre_notice_ahead", in.PreNoticeAhead}} {
		if f.v == nil {
			h.apiFail(w, r, q, required(f.name), 0)
			return
		}
	}
	if in.PreNoticeByService == nil {
		in.PreNoticeByService = map[string]int{}
	}
	var ru event.Rules
	in.apply(&ru)
	h.apiChange(w, r, q, func(ctx context.Context, id string) (string, error) { return h.putRules(ctx, id, ru) })
}

func (h *Handler) apiPatchRules(w http.ResponseWriter, r *http.Request, q *req) {
	var in apiRulesIn
	if err := decodeBody(r, &in); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	h.apiChange(w, r, q, func(ctx context.Context, id string) (string, error) {
		c, err := h.store.BranchConfig(ctx, id)
		if err != nil {
			return "", err
		}
		ru := c.Rules
		in.apply(&ru)
		return h.putRules(ctx, id, ru)
	})
}

// apiPutHours is PUT /branches/{id}/hours: the schedule settings, replaced
// whole (a weekday absent: the general hours; "": closed).
func (h *Handler) apiPutHours(w http.ResponseWriter, r *http.Request, q *req) {
	var in apiHours
	if err := decodeBody(r, &in); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	id := r.PathValue("id")
	hs := event.Hours{WeeklyHours: in.WeeklyHours, CloseGraceMin: in.CloseGraceMin, LastTicket: map[string]string{}}
	for k, v := range in.LastTicket {
		hs.LastTicket[strings.ToUpper(k)] = v
	}
	if err := h.putHours(r, q, id, hs); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	h.answerDraft(w, r, q, id, http.StatusOK)
}

// apiDiff is GET /branches/{id}/diff: what the branch runs, what a
// publication would change there (described in the request's language) and
// the services whose waiting customers it would strand.
func (h *Handler) apiDiff(w http.ResponseWriter, r *http.Request, q *req) {
	id, ok := h.inScope(w, r, q)
	if !ok {
		return
	}
	_, p, err := h.store.PublishPreview(r.Context(), id, q.Lang)
	if err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	rc := p.Running
	out := apiDiff{
		Running: apiRunning{Source: rc.Source, At: timePtr(rc.At), Version: rc.Version, TimeZone: rc.TimeZone, OpeningHours: rc.OpeningHours,
			Services: orEmpty(rc.Services), Counters: orEmpty(rc.Counters), Executives: orEmpty(rc.Executives), ImportedAt: timePtr(rc.ImportedAt)},
		Changes:  map[string][]apiDiffItem{},
		Summary:  p.Diff.Summary(),
		Stranded: []apiStranded{},
	}
	for name, items := range map[string][]cloud.DiffItem{"services": p.Diff.Services, "counters": p.Diff.Counters,
		"executives": p.Diff.Executives, "time_zone": p.Diff.TimeZone, "opening_hours": p.Diff.Hours, "rules": p.Diff.Rules} {
		list := make([]apiDiffItem, 0, len(items))
		for _, it := range items {
			list = append(list, apiDiffItem(it))
		}
		out.Changes[name] = list
	}
	for _, s := range p.Stranded {
		out.Stranded = append(out.Stranded, apiStranded(s))
	}
	out.Publishable = len(out.Stranded) == 0
	apiJSON(w, http.StatusOK, out)
}

// apiPublish is POST /branches/{id}/publish: the pages' publication
// (publishBranch): refused with 409 while it would strand waiting customers;
// 503 hq.config.unsent when the version was stored but not sent.
func (h *Handler) apiPublish(w http.ResponseWriter, r *http.Request, q *req) {
	id := r.PathValue("id")
	cfg, err := h.publishBranch(r, q, id)
	if err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	apiJSON(w, http.StatusCreated, apiPublished{Branch: id, Version: cfg.Version, PublishedAt: cfg.PublishedAt, PublishedBy: cfg.PublishedBy})
}

// apiOutcomes is GET /outcomes: the network's visit outcome codes.
func (h *Handler) apiOutcomes(w http.ResponseWriter, r *http.Request, q *req) {
	list, err := h.store.Outcomes(r.Context())
	if err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	apiJSON(w, http.StatusOK, map[string]any{"outcomes": orEmpty(list)})
}

func (h *Handler) apiPutOutcome(w http.ResponseWriter, r *http.Request, q *req) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeBody(r, &in); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	if err := h.putOutcome(r, q, queue.Outcome{Code: strings.TrimSpace(r.PathValue("code")), Name: strings.TrimSpace(in.Name)}); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	h.apiOutcomes(w, r, q)
}

func (h *Handler) apiDeleteOutcome(w http.ResponseWriter, r *http.Request, q *req) {
	if err := h.deleteOutcome(r, q, r.PathValue("code")); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiHolidays is GET /holidays?year=: the network's public holidays of a
// year (default: this one in Santiago).
func (h *Handler) apiHolidays(w http.ResponseWriter, r *http.Request, q *req) {
	year, err := h.yearParam(r)
	if err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	h.answerHolidays(w, r, q, year)
}

func (h *Handler) answerHolidays(w http.ResponseWriter, r *http.Request, q *req, year int) {
	list, err := h.store.Holidays(r.Context(), year)
	if err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	apiJSON(w, http.StatusOK, map[string]any{"year": year, "holidays": orEmpty(list)})
}

func (h *Handler) apiPutHoliday(w http.ResponseWriter, r *http.Request, q *req) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeBody(r, &in); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	d := event.Holiday{Date: r.PathValue("date"), Name: strings.TrimSpace(in.Name)}
	if err := h.putHoliday(r, q, d); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	h.answerHolidays(w, r, q, h.yearOf(d.Date))
}

func (h *Handler) apiDeleteHoliday(w http.ResponseWriter, r *http.Request, q *req) {
	if err := h.deleteHoliday(r, q, r.PathValue("date")); err != nil {
		h.apiFail(w, r, q, err, 0)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
