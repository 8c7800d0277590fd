package http

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/problem"
	"github.com/ticketero/ticketero/shared/queue"
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

func (s *Server) services(w http.ResponseWriter, r *http.Request) {
	type svc struct {
		Code          string         `json:"code"`
		Name          string         `json:"name"`
		TargetWaitS   int            `json:"target_wait_s"`
		MeanServiceS  int            `json:"mean_service_s"`
		Priority      int            `json:"priority"`
		Waiting       int            `json:"waiting"`
		EstimatedWait agent.Estimate `json:"estimated_wait"`
		Open          bool           `json:"open"`
		Closed        *closedView    `json:"closed,omitempty"`
	}
	out := []svc{}
	for _, sv := range s.cfg.Store.Services(r.Context()) {
		out = append(out, svc{sv.Code, sv.Name, sv.TargetWaitS, sv.MeanServiceS, sv.Priority, sv.Waiting, sv.Estimate,
			sv.Closed == nil, closedOf(r, sv.Closed)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"services": out})
}

// signedIn reports whether the request carries a live session's token.
// Executive IDs are what a PIN guess needs, so only signed-in callers see
// them; kiosks, TVs and the sign-in page see names.
func (s *Server) signedIn(r *http.Request) bool {
	tok, err := bearer(r)
	if err != nil {
		return false
	}
	_, err = s.cfg.Store.Session(r.Context(), tok)
	return err == nil
}

func (s *Server) counters(w http.ResponseWriter, r *http.Request) {
	type counter struct {
		Number        int     `json:"number"`
		Name          string  `json:"name"`
		Taken         bool    `json:"taken"`
		Executive     *string `json:"executive"`
		ExecutiveName *string `json:"executive_name"`
	}
	ids := s.signedIn(r)
	out := []counter{}
	for _, c := range s.cfg.Store.Counters(r.Context()) {
		v := counter{Number: c.Number, Name: c.Name, Taken: c.Executive != ""}
		if c.Executive != "" {
			name := c.ExecutiveName
			v.ExecutiveName = &name
			if ids {
				x := c.Executive
				v.Executive = &x
			}
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"counters": out})
}

func (s *Server) executives(w http.ResponseWriter, r *http.Request) {
	xs, err := s.cfg.Store.Executives(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	type exec struct {
		ID       string   `json:"id,omitempty"`
		Name     string   `json:"name"`
		Services []string `json:"services"`
		Counter  *int     `json:"counter"`
		State    string   `json:"state"`
	}
	ids := s.signedIn(r)
	out := []exec{}
	for _, x := range xs {
		xv := executiveView(x.Executive)
		v := exec{Name: xv.Name, Services: xv.Services, State: x.State}
		if ids {
			v.ID = xv.ID
		}
		if x.Counter != 0 {
			c := x.Counter
			v.Counter = &c
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"executives": out})
}

func (s *Server) queues(w http.ResponseWriter, r *http.Request) {
	type tk struct {
		ID       string `json:"id"`
		Number   string `json:"number"`
		Priority string `json:"priority"`
		Position int    `json:"position"`
		WaitedS  int    `json:"waited_s"`
	}
	type q struct {
		Service           string         `json:"service"`
		Name              string         `json:"name"`
		Waiting           int            `json:"waiting"`
		LongestWaitS      int            `json:"longest_wait_s"`
		TargetWaitS       int            `json:"target_wait_s"`
		ExecutivesServing int            `json:"executives_serving"`
		EstimatedWait     agent.Estimate `json:"estimated_wait"`
		Tickets           []tk           `json:"tickets"`
	}
	// ?tickets=none leaves the ticket lists out: the waiting-room display
	// shows only how many wait, and a busy branch's lists weigh tens of KB.
	withTickets := true
	switch v := r.URL.Query().Get("tickets"); v {
	case "", "all":
	case "none":
		withTickets = false
	default:
		s.problem(w, r, queue.Errorf(queue.CodeInvalid, "request.invalid_param", "tickets", truncate(v)))
		return
	}
	day, qs := s.cfg.Store.Queues(r.Context())
	out := []q{}
	for _, x := range qs {
		v := q{Service: x.Service, Name: x.Name, Waiting: x.Waiting, LongestWaitS: seconds(x.LongestWait),
			TargetWaitS: seconds(x.TargetWait), ExecutivesServing: x.ExecutivesServing, EstimatedWait: x.Estimate, Tickets: []tk{}}
		for _, t := range x.Tickets {
			if !withTickets {
				break
			}
			v.Tickets = append(v.Tickets, tk{t.ID, t.Number, string(t.Priority), t.Position, seconds(t.Waited)})
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"day": day, "queues": out})
}

func (s *Server) calls(w http.ResponseWriter, r *http.Request) {
	limit := 10
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			s.problem(w, r, queue.Errorf(queue.CodeInvalid, "request.invalid_param", "limit", truncate(v)))
			return
		}
		limit = n
	}
	cs, err := s.cfg.Store.Calls(r.Context(), limit)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	type call struct {
		Ticket   string    `json:"ticket"`
		Number   string    `json:"number"`
		Service  string    `json:"service"`
		Counter  int       `json:"counter"`
		CalledAt time.Time `json:"called_at"`
		Recall   int       `json:"recall"`
	}
	out := []call{}
	for _, c := range cs {
		out = append(out, call{c.Ticket, c.Number, c.Service, c.Counter, c.CalledAt.UTC(), c.Recall})
	}
	writeJSON(w, http.StatusOK, map[string]any{"calls": out})
}

func (s *Server) statsToday(w http.ResponseWriter, r *http.Request) {
	st, err := s.cfg.Store.StatsToday(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	type bySvc struct {
		Service   string  `json:"service"`
		Issued    int     `json:"issued"`
		Served    int     `json:"served"`
		MeanWaitS int     `json:"mean_wait_s"`
		SLAPct    float64 `json:"sla_pct"`
		Decided   int     `json:"decided"`
	}
	by := []bySvc{}
	for _, b := range st.ByService {
		by = append(by, bySvc{b.Service, b.Issued, b.Served, seconds(b.MeanWait), b.SLAPct, b.Decided})
	}
	writeJSON(w, http.StatusOK, map[string]any{"day": st.Day, "issued": st.Issued, "served": st.Served,
		"no_show": st.NoShow, "cancelled": st.Cancelled, "waiting": st.Waiting, "mean_wait_s": seconds(st.MeanWait),
		"p90_wait_s": seconds(st.P90Wait), "sla_pct": st.SLAPct, "decided": st.Decided, "waiting_over": st.WaitingOver,
		"by_service": by})
}

func (s *Server) sync(w http.ResponseWriter, r *http.Request) {
	st, err := s.cfg.Store.SyncState(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	out := map[string]any{"mode": "standalone", "connected": false, "last_seq": st.LastSeq, "last_ack": st.LastAck,
		"backlog": st.Backlog(), "lag_s": nil, "last_ack_at": nil}
	if s.cfg.Link != nil {
		ls := s.cfg.Link.State()
		out["mode"], out["connected"] = ls.Mode, ls.Connected
		if !ls.LastAckAt.IsZero() {
			out["last_ack_at"] = ls.LastAckAt.UTC()
			if st.Backlog() > 0 {
				out["lag_s"] = int(s.cfg.Now().Sub(ls.LastAckAt).Seconds())
			} else {
				out["lag_s"] = 0
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func truncate(s string) string {
	if len(s) > 32 {
		return s[:32]
	}
	return s
}

// ticketIssue is POST /api/v1/tickets: 201 with the ticket, or 200 with the
// same ticket for a retry with the same Idempotency-Key.
func (s *Server) ticketIssue(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Service  string `json:"service"`
		RUT      string `json:"rut"`
		Priority string `json:"priority"`
	}
	if err := s.decode(w, r, &body, false); err != nil {
		s.problem(w, r, err)
		return
	}
	t, replay, err := s.cfg.Store.Issue(r.Context(), agent.TicketRequest{Service: body.Service, RUT: body.RUT,
		Priority: body.Priority, Channel: "kiosk", IdempotencyKey: r.Header.Get("Idempotency-Key")})
	if err != nil {
		s.problem(w, r, err)
		return
	}
	status := http.StatusCreated
	if replay {
		status = http.StatusOK
	} else {
		s.issued.WithLabelValues(t.OriginService).Inc()
	}
	w.Header().Set("Location", "/api/v1/tickets/"+t.ID)
	v := ticketView(t)
	v.Token = t.Token
	writeJSON(w, status, v)
}

func (s *Server) ticketGet(w http.ResponseWriter, r *http.Request) {
	t, err := s.cfg.Store.Ticket(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ticketView(t))
}

// ticketAct is POST /api/v1/tickets/{id}/<action> by a signed-in executive.
func (s *Server) ticketAct(action queue.Action) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, err := bearer(r)
		if err != nil {
			s.problem(w, r, err)
			return
		}
		a := agent.Act{Ticket: chi.URLParam(r, "id"), Action: action}
		switch action {
		case queue.ActionComplete:
			var body struct {
				Outcome string `json:"outcome"`
			}
			if err := s.decode(w, r, &body, true); err != nil {
				s.problem(w, r, err)
				return
			}
			a.Outcome = body.Outcome
		case queue.ActionTransfer:
			var body struct {
				Service     string `json:"service"`
				KeepArrival *bool  `json:"keep_arrival"`
				First       bool   `json:"first"`
			}
			if err := s.decode(w, r, &body, false); err != nil {
				s.problem(w, r, err)
				return
			}
			a.To, a.KeepArrival, a.First = body.Service, body.KeepArrival == nil || *body.KeepArrival, body.First
		default:
			var body struct{}
			if err := s.decode(w, r, &body, true); err != nil {
				s.problem(w, r, err)
				return
			}
		}
		t, err := s.cfg.Store.Act(r.Context(), tok, a)
		if err != nil {
			s.problem(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, ticketView(t))
	}
}

// ticketCallNext is POST /api/v1/counters/{counter}/call-next: 200 with the
// called ticket, 204 when nobody waits for the executive's services.
func (s *Server) ticketCallNext(w http.ResponseWriter, r *http.Request) {
	tok, err := bearer(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	raw := chi.URLParam(r, "counter")
	counter, err := strconv.Atoi(raw)
	if err != nil || counter <= 0 {
		s.problem(w, r, queue.Errorf(queue.CodeInvalid, "request.invalid_param", "counter", truncate(raw)))
		return
	}
	t, err := s.cfg.Store.CallNext(r.Context(), tok, counter)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if t == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.called.WithLabelValues(t.Service).Inc()
	writeJSON(w, http.StatusOK, ticketView(*t))
}

func (s *Server) sessionCreate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Executive string `json:"executive"`
		PIN       string `json:"pin"`
		Counter   int    `json:"counter"`
	}
	if err := s.decode(w, r, &body, false); err != nil {
		s.problem(w, r, err)
		return
	}
	tok, si, err := s.cfg.Store.Login(r.Context(), body.Executive, body.PIN, body.Counter, clientKey(r))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	v := sessionView(si)
	writeJSON(w, http.StatusCreated, struct {
		Token string `json:"token"`
		sessionJSON
	}{tok, v})
}

func (s *Server) sessionGet(w http.ResponseWriter, r *http.Request) {
	tok, err := bearer(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	si, err := s.cfg.Store.Session(r.Context(), tok)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sessionView(si))
}

func (s *Server) sessionDelete(w http.ResponseWriter, r *http.Request) {
	tok, err := bearer(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if err := s.cfg.Store.Logout(r.Context(), tok); err != nil {
		s.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) sessionPause(w http.ResponseWriter, r *http.Request) {
	tok, err := bearer(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if err := s.decode(w, r, &body, true); err != nil {
		s.problem(w, r, err)
		return
	}
	si, err := s.cfg.Store.Pause(r.Context(), tok, body.Reason)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sessionView(si))
}

func (s *Server) sessionResume(w http.ResponseWriter, r *http.Request) {
	tok, err := bearer(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	si, err := s.cfg.Store.Resume(r.Context(), tok)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sessionView(si))
}
