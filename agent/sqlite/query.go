package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/queue"
)

// BranchInfo returns the branch's identity and current day.
func (s *Store) BranchInfo(ctx context.Context) agent.BranchInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.cfg.Now().In(s.eng.Location())
	b := agent.BranchInfo{Branch: s.cfg.Branch, TimeZone: s.eng.Location().String(), Day: s.eng.BusinessDay(now),
		OpeningHours: s.openingHours, Name: s.name, Region: s.region,
		Closed: s.eng.Schedule().CheckIssue(queue.Service{}, now)}
	if sched := s.eng.Schedule(); sched != nil {
		today := sched.Today(now)
		b.HoursToday = &today
	}
	return b
}

// Services returns the services with their queue now and the estimate a new
// ticket would be quoted.
func (s *Store) Services(ctx context.Context) []agent.ServiceInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []agent.ServiceInfo
	now := s.cfg.Now().In(s.eng.Location())
	for _, sv := range s.eng.Services() {
		n := s.eng.WaitingCount(sv.Code)
		out = append(out, agent.ServiceInfo{Service: sv, Waiting: n, Estimate: s.eng.Estimate(sv.Code, n+1),
			Closed: s.eng.IssueRefusal(sv, now)})
	}
	return out
}

// ServiceTargets returns the target wait (seconds) of each running service by
// code: the agent's status carries it so HQ measures against the same targets.
func (s *Store) ServiceTargets(context.Context) map[string]int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]int{}
	for _, sv := range s.eng.Services() {
		out[sv.Code] = sv.TargetWaitS
	}
	for _, d := range s.eng.Draining() {
		out[d.Code] = d.TargetWaitS
	}
	return out
}

// Counters returns the counters and who is at each.
func (s *Store) Counters(ctx context.Context) []agent.CounterInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []agent.CounterInfo
	for _, c := range s.eng.Counters() {
		ci := agent.CounterInfo{Counter: c}
		if sess, ok := s.eng.SessionAt(c.Number); ok {
			ci.Executive = sess.Executive
			x, _ := s.eng.Executive(sess.Executive)
			ci.ExecutiveName = x.Name
		}
		out = append(out, ci)
	}
	return out
}

// Executives returns the active executives with their counter and state.
func (s *Store) Executives(ctx context.Context) ([]agent.ExecutiveInfo, error) {
	xs, err := loadExecutives(ctx, s.r, "")
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []agent.ExecutiveInfo{}
	for _, x := range xs {
		if !x.Active {
			continue
		}
		st := s.eng.ExecutiveState(x.ID)
		xi := agent.ExecutiveInfo{Executive: x.Executive, Counter: st.Counter, State: st.State, Manager: x.Manager}
		if svcs, changed := s.eng.ServicesToday(x.ID); changed {
			xi.Services, xi.ChangedToday = svcs, true
		}
		out = append(out, xi)
	}
	return out, nil
}

// Queues returns every service's queue now, tickets in calling order.
func (s *Store) Queues(ctx context.Context) (string, []agent.QueueInfo) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.cfg.Now()
	var out []agent.QueueInfo
	svcs := s.eng.Services()
	for _, d := range s.eng.Draining() { // closed to new tickets, still called
		svcs = append(svcs, d.Service)
	}
	for _, sv := range svcs {
		q := agent.QueueInfo{Service: sv.Code, Name: sv.Name, TargetWait: sv.TargetWait(),
			ExecutivesServing: s.eng.Serving(sv.Code), Tickets: []agent.QueueTicket{}}
		for i, t := range s.eng.Waiting(sv.Code, now) {
			w := now.Sub(t.QueuedAt)
			if w > q.LongestWait {
				q.LongestWait = w
			}
			q.Tickets = append(q.Tickets, agent.QueueTicket{ID: t.ID, Number: t.Display(), Priority: t.Priority, Position: i + 1,
				Waited: w, Booked: t.Booked()})
		}
		// A new ticket queues behind the service's order only; the tickets sent
		// to a counter or an executive wait apart (listed after, counted).
		q.Estimate = s.eng.Estimate(sv.Code, len(q.Tickets)+1)
		for _, t := range s.eng.Targeted(sv.Code) {
			w := now.Sub(t.QueuedAt)
			q.LongestWait = max(q.LongestWait, w)
			qt := agent.QueueTicket{ID: t.ID, Number: t.Display(), Priority: t.Priority, Position: s.eng.Position(t.ID, now),
				Waited: w, TargetCounter: t.TargetCounter}
			if x, ok := s.eng.Executive(t.TargetExecutive); ok {
				qt.TargetName = x.Name
			}
			q.Tickets = append(q.Tickets, qt)
		}
		q.Waiting = len(q.Tickets)
		// Remote tickets whose customers are not here yet: listed last, not
		// counted (nobody calls them until they check in).
		for _, t := range s.eng.Unchecked(sv.Code) {
			q.Tickets = append(q.Tickets, agent.QueueTicket{ID: t.ID, Number: t.Display(), Priority: t.Priority,
				Position: s.eng.Position(t.ID, now), Unchecked: true})
		}
		out = append(out, q)
	}
	return s.eng.BusinessDay(now), out
}

// Calls returns today's latest calls and recalls, newest first.
func (s *Store) Calls(ctx context.Context, limit int) ([]agent.Call, error) {
	if limit <= 0 || limit > 100 {
		limit = 10
	}
	day := s.BranchInfo(ctx).Day
	rows, err := s.r.QueryContext(ctx, `SELECT id, origin_service, number, service, counter, called_at, recalled_at, recalls,
		due IS NOT NULL FROM tickets WHERE day = ? AND called_at IS NOT NULL AND counter IS NOT NULL
		ORDER BY COALESCE(recalled_at, called_at) DESC LIMIT ?`, day, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: calls: %w", err)
	}
	defer rows.Close()
	out := []agent.Call{}
	for rows.Next() {
		var c agent.Call
		var origin string
		var number int
		var called, recalled sql.NullString
		if err := rows.Scan(&c.Ticket, &origin, &number, &c.Service, &c.Counter, &called, &recalled, &c.Recall, &c.Booked); err != nil {
			return nil, fmt.Errorf("sqlite: calls: %w", err)
		}
		c.Number = queue.DisplayNumber(origin, number)
		c.CalledAt = parseTime(called)
		if r := parseTime(recalled); !r.IsZero() {
			c.CalledAt = r
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// StatsToday computes today's figures: counts by status, and waits and the
// service level by the one rule of branch and HQ (queue.Judge): a ticket
// waiting past its service's target counts as out of target now, and the mean
// wait includes the current waits of waiting tickets.
func (s *Store) StatsToday(ctx context.Context) (agent.Stats, error) {
	day := s.BranchInfo(ctx).Day
	now := s.cfg.Now()
	targets := map[string]time.Duration{}
	var order []string
	for _, sv := range s.Services(ctx) {
		targets[sv.Code] = sv.TargetWait()
		order = append(order, sv.Code)
	}
	rows, err := s.r.QueryContext(ctx, "SELECT service, status, queued_at, called_at, ended_at FROM tickets WHERE day = ?", day)
	if err != nil {
		return agent.Stats{}, fmt.Errorf("sqlite: stats: %w", err)
	}
	defer rows.Close()
	st := agent.Stats{Day: day}
	type acc struct {
		issued, served int
		fig            queue.WaitFigures
	}
	by := map[string]*acc{}
	var all queue.WaitFigures
	for rows.Next() {
		var svc, status string
		var queued, called, ended sql.NullString
		if err := rows.Scan(&svc, &status, &queued, &called, &ended); err != nil {
			return agent.Stats{}, fmt.Errorf("sqlite: stats: %w", err)
		}
		a := by[svc]
		if a == nil {
			a = &acc{}
			by[svc] = a
		}
		a.issued++
		st.Issued++
		switch queue.Status(status) {
		case queue.StatusDone:
			st.Served++
			a.served++
		case queue.StatusNoShow:
			st.NoShow++
		case queue.StatusCancelled:
			st.Cancelled++
		case queue.StatusWaiting:
			st.Waiting++
		}
		target, ok := targets[svc]
		if !ok {
			continue // a service no longer run: no target to judge against
		}
		r := queue.Judge(parseTime(queued), parseTime(called), parseTime(ended), now, target)
		if queue.Status(status) == queue.StatusWaiting && r.Decided && !r.Called {
			st.WaitingOver++
		}
		all.Add(r)
		a.fig.Add(r)
	}
	if err := rows.Err(); err != nil {
		return agent.Stats{}, fmt.Errorf("sqlite: stats: %w", err)
	}
	st.MeanWait, st.P90Wait, st.SLAPct, st.Decided = all.MeanWait(), all.P90Wait(), all.SLAPct(), all.Decided
	for _, code := range order {
		a := by[code]
		if a == nil {
			a = &acc{}
		}
		st.ByService = append(st.ByService, agent.ServiceStats{Service: code, Issued: a.issued, Served: a.served,
			MeanWait: a.fig.MeanWait(), SLAPct: a.fig.SLAPct(), Decided: a.fig.Decided})
	}
	return st, nil
}
