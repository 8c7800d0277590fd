package web

import (
	"context"
	"net/http"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// The configuration API's resources (api.go): the wire shapes, named in
// snake_case like the rest of the project's JSON, and the handlers of the
// branches, their drafts, diffs and publications. The parts of a draft and
// the network's lists have a file each: api_service.go, api_counter.go,
// api_executive.go, api_rules.go, api_hours.go, api_outcome.go,
// api_holiday.go.

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
