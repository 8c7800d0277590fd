package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/ticketero/ticketero/shared/event"
)

// The configuration API's calling rules of a branch's draft (api_config.go).

// apiRulesIn is the rules' fields; nil ones are absent (PATCH keeps them;
// PUT requires the three numbers, and an absent pre_notice_by_service
// removes every override; absent appointments stay as they are).
type apiRulesIn struct {
	PreferentialRatio  *int           `json:"preferential_ratio"`
	RecallLimit        *int           `json:"recall_limit"`
	PreNoticeAhead     *int           `json:"pre_notice_ahead"`
	PreNoticeByService map[string]int `json:"pre_notice_by_service"`
	// Appointments, when given and not empty, replace the appointment and
	// remote-queue rules (validated as the appointments page does); absent
	// or empty, they stay as they are.
	Appointments *event.AppointmentRules `json:"appointments"`
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
	ru.Appointments = event.AppointmentRules{} // the store keeps them unless given
	if in.Appointments != nil {
		ru.Appointments = *in.Appointments
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
