package http

import (
	"net/http"

	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/problem"
)

func (s *Server) branch(w http.ResponseWriter, r *http.Request) {
	b := s.cfg.Store.BranchInfo(r.Context())
	name := b.Name
	if name == "" {
		name = b.Branch
	}
	writeJSON(w, http.StatusOK, map[string]any{"branch": b.Branch, "name": name, "region": b.Region, "time_zone": b.TimeZone,
		"day": b.Day, "opening_hours": b.OpeningHours, "agent_version": s.cfg.Version,
		"hours_today": b.HoursToday, "open": b.Closed == nil, "closed": closedOf(r, b.Closed)})
}

// closedView is why the kiosk issues no ticket now: the problem the issue
// would answer with, in the reader's language.
type closedView struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

func closedOf(r *http.Request, err error) *closedView {
	if err == nil {
		return nil
	}
	p := problem.New(i18n.Parse(r.Header.Get("Accept-Language")), err, 0)
	return &closedView{Code: p.Code, Detail: p.Detail}
}
