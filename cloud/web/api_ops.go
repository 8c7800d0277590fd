package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// The configuration changes the HQ forms (config.go, holiday.go, outcome.go)
// and the JSON configuration API (api.go) share: one store call, one guard
// and one audit entry each, so both surfaces apply the same rules and leave
// the same trail (the actor is the user's e-mail or "token:<name>").

// changeBranch applies one change to an existing branch's draft and audits
// it; change returns the audit detail. Errors: not_found hq.branch.not_found,
// and change's.
func (h *Handler) changeBranch(r *http.Request, q *req, id string, change func(ctx context.Context) (detail string, err error)) error {
	if _, err := h.store.Branch(r.Context(), cloud.AllBranches, id); err != nil {
		return err
	}
	detail, err := change(r.Context())
	if err != nil {
		return err
	}
	h.audit(r, q, cloud.AuditConfigChange, "branch:"+id, detail)
	return nil
}

// putBranch creates or updates a branch (name, region, zone, general hours).
func (h *Handler) putBranch(r *http.Request, q *req, in cloud.BranchInput) error {
	if err := h.store.PutBranch(r.Context(), in); err != nil {
		return err
	}
	h.audit(r, q, cloud.AuditConfigChange, "branch:"+in.ID, fmt.Sprintf("branch name=%q region=%q tz=%s hours=%s", in.Name, in.Region, in.TimeZone, in.OpeningHours))
	return nil
}

func (h *Handler) putService(ctx context.Context, id string, sv queue.Service) (string, error) {
	return fmt.Sprintf("service %s %q target=%ds mean=%ds priority=%d", sv.Code, sv.Name, sv.TargetWaitS, sv.MeanServiceS, sv.Priority),
		h.store.PutService(ctx, id, sv)
}

func (h *Handler) deleteService(ctx context.Context, id, code string) (string, error) {
	return "delete service " + code, h.store.DeleteService(ctx, id, code)
}

func (h *Handler) putCounter(ctx context.Context, id string, c queue.Counter) (string, error) {
	return fmt.Sprintf("counter %d %q", c.Number, c.Name), h.store.PutCounter(ctx, id, c)
}

// deleteCounter removes counter key (not a number: no such counter, 0,
// which the store refuses to find).
func (h *Handler) deleteCounter(ctx context.Context, id, key string) (string, error) {
	n, _ := strconv.Atoi(key)
	return "delete counter " + key, h.store.DeleteCounter(ctx, id, n)
}

// putExecutive adds or changes an executive. PINs are set at the branch
// (ticketero-agent executive set-pin): HQ never holds or sends one.
func (h *Handler) putExecutive(ctx context.Context, id string, e queue.Executive) (string, error) {
	return fmt.Sprintf("executive %s %q services=%s", e.ID, e.Name, strings.Join(e.Services, ",")),
		h.store.PutExecutive(ctx, id, e, "")
}

func (h *Handler) deleteExecutive(ctx context.Context, id, key string) (string, error) {
	return "delete executive " + key, h.store.DeleteExecutive(ctx, id, key)
}

func (h *Handler) putRules(ctx context.Context, id string, ru event.Rules) (string, error) {
	return fmt.Sprintf("rules %+v", ru), h.store.PutRules(ctx, id, ru)
}

// putHours stores a branch's schedule settings and audits them.
func (h *Handler) putHours(r *http.Request, q *req, id string, hs event.Hours) error {
	if err := h.store.PutBranchHours(r.Context(), id, hs); err != nil {
		return err
	}
	grace := "default"
	if hs.CloseGraceMin != nil {
		grace = strconv.Itoa(*hs.CloseGraceMin)
	}
	h.audit(r, q, cloud.AuditConfigChange, "branch:"+id, fmt.Sprintf("hours weekly=%v grace=%s last_ticket=%v", hs.WeeklyHours, grace, hs.LastTicket))
	return nil
}

func (h *Handler) putHoliday(r *http.Request, q *req, d event.Holiday) error {
	if err := h.store.PutHoliday(r.Context(), d, q.P.Actor()); err != nil {
		return err
	}
	h.audit(r, q, cloud.AuditConfigChange, "holiday:"+d.Date, fmt.Sprintf("holiday %s %q", d.Date, d.Name))
	return nil
}

func (h *Handler) deleteHoliday(r *http.Request, q *req, date string) error {
	if err := h.store.DeleteHoliday(r.Context(), date); err != nil {
		return err
	}
	h.audit(r, q, cloud.AuditConfigChange, "holiday:"+date, "delete holiday "+date)
	return nil
}

func (h *Handler) putOutcome(r *http.Request, q *req, o queue.Outcome) error {
	if err := h.store.PutOutcome(r.Context(), o); err != nil {
		return err
	}
	h.audit(r, q, cloud.AuditConfigChange, "outcome:"+o.Code, "outcome "+o.Code+" "+o.Name)
	return nil
}

func (h *Handler) deleteOutcome(r *http.Request, q *req, code string) error {
	if err := h.store.DeleteOutcome(r.Context(), code); err != nil {
		return err
	}
	h.audit(r, q, cloud.AuditConfigChange, "outcome:"+code, "delete outcome "+code)
	return nil
}

// publishBranch snapshots a branch's draft as a new version, audits it with
// what it changes at the branch and sends it on the branch's config topic.
// The store refuses a publication that strands waiting customers (conflict
// hq.config.strands_service, hq.config.strands_unserved). A version that
// could not be sent stays stored (HQ publishes again; the branch applies only
// newer versions): unavailable hq.config.unsent, with the version returned.
func (h *Handler) publishBranch(r *http.Request, q *req, id string) (event.Config, error) {
	ctx := r.Context()
	// What the publication changes at the branch goes to the audit.
	_, preview, err := h.store.PublishPreview(ctx, id, i18n.EN)
	if err != nil {
		return event.Config{}, err
	}
	cfg, err := h.store.Publish(ctx, id, q.P.Actor(), h.cfg.RUTSealKey)
	if err != nil {
		return event.Config{}, err
	}
	h.audit(r, q, cloud.AuditConfigPublish, "branch:"+id, fmt.Sprintf("version %d: %s", cfg.Version, preview.Diff.Summary()))
	if h.cfg.Publisher != nil {
		if err := h.cfg.Publisher.PublishConfig(ctx, cfg); err != nil {
			h.log.Error("publish config", "branch", id, "version", cfg.Version, "err", err)
			return cfg, queue.Errorf(queue.CodeUnavailable, "hq.config.unsent", cfg.Version)
		}
	}
	h.hub.mark(id)
	return cfg, nil
}

// startTemplateRollout publishes template id to its first stage (firstN
// branches or firstPct of them; neither: all at once), each branch under the
// single-branch guard, audited by the store with the actor (the user or
// "token:<name>"). A stage that started and then failed returns its rollout
// with the error (logged here).
func (h *Handler) startTemplateRollout(r *http.Request, q *req, id int64, firstN, firstPct int) (cloud.TemplateRollout, error) {
	if _, err := h.store.Template(r.Context(), id); err != nil {
		return cloud.TemplateRollout{}, err
	}
	o := h.publishOptions(q)
	o.FirstStage, o.FirstPercent = firstN, firstPct
	ro, err := h.store.StartTemplateRollout(r.Context(), id, o)
	if err != nil && ro.ID != 0 {
		h.log.Error("template publication", "rollout", ro.ID, "err", err)
	}
	h.markPublished(ro)
	return ro, err
}

// continueTemplateRollout publishes the rest of a staged publication.
func (h *Handler) continueTemplateRollout(r *http.Request, q *req, id int64) (cloud.TemplateRollout, error) {
	ro, err := h.store.ContinueTemplateRollout(r.Context(), id, h.publishOptions(q))
	h.markPublished(ro)
	return ro, err
}
