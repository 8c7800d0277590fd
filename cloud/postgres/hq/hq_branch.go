package hq

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// Branch returns a branch within scope. Errors: not_found hq.branch.not_found,
// forbidden hq.branch.forbidden (exists but outside scope).
func (s *Store) Branch(ctx context.Context, scope Scope, id string) (BranchInfo, error) {
	var b BranchInfo
	err := s.pool.QueryRow(ctx, `SELECT id, name, region, time_zone FROM (`+branchListSQL+`) x(id, name, region, time_zone) WHERE id = $1`, id).
		Scan(&b.ID, &b.Name, &b.Region, &b.TimeZone)
	if errors.Is(err, pgx.ErrNoRows) {
		return BranchInfo{}, queue.Errorf(queue.CodeNotFound, "hq.branch.not_found", id)
	}
	if err != nil {
		return BranchInfo{}, wrap("branch", err)
	}
	if !scope.Allows(b.ID, b.Region) {
		return BranchInfo{}, queue.Errorf(queue.CodeForbidden, "hq.branch.forbidden", id)
	}
	return b, nil
}

// BranchView returns queues, executives and the first page of the day's
// tickets of a branch within scope (BranchPage with only a day).
func (s *Store) BranchView(ctx context.Context, scope Scope, id, day string) (BranchDetail, error) {
	return s.BranchPage(ctx, scope, id, TicketFilter{Day: day})
}

// BranchPage returns queues, executives and one page of the day's tickets
// matching f (with their timelines) of a branch within scope. f.Day is
// "YYYY-MM-DD" in the branch's time zone; empty means today. Errors: see
// Branch; invalid hq.day.invalid, and those of TicketFilter.Normalize; a page
// past the last one is invalid hq.page.range.
func (s *Store) BranchPage(ctx context.Context, scope Scope, id string, f TicketFilter) (BranchDetail, error) {
	if err := f.Normalize(); err != nil {
		return BranchDetail{}, err
	}
	day := f.Day
	b, err := s.Branch(ctx, scope, id)
	if err != nil {
		return BranchDetail{}, err
	}
	loc, err := time.LoadLocation(b.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	now := s.now()
	if day == "" {
		day = now.In(loc).Format(time.DateOnly)
	}
	d, err := time.ParseInLocation(time.DateOnly, day, loc)
	if err != nil {
		return BranchDetail{}, queue.Errorf(queue.CodeInvalid, "hq.day.invalid", day)
	}
	f.Day = day
	out := BranchDetail{BranchInfo: b, Day: day, Filter: f}

	// The target the branch runs first (its status), as the overview does.
	rows, err := s.pool.Query(ctx, `SELECT t.service, coalesce(sv.name, ''), count(*),
			coalesce(max(extract(epoch FROM $3::timestamptz + coalesce(sy.clock_skew_ms, 0) * interval '1 millisecond' - t.queued_at)), 0)::int,
			coalesce((sy.service_targets->>t.service)::int, sv.target_wait_s, $4)
		FROM tickets t LEFT JOIN hq_services sv ON sv.branch = t.branch AND sv.code = t.service
		LEFT JOIN branch_sync sy ON sy.branch = t.branch
		WHERE t.branch = $1 AND t.day = $2 AND t.status = 'waiting'
		GROUP BY t.service, sv.name, sv.target_wait_s, sy.service_targets, sy.clock_skew_ms ORDER BY t.service`, id, d, now, s.DefaultTargetWaitS)
	if err != nil {
		return out, wrap("branch queues", err)
	}
	out.Queues, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (QueueRow, error) {
		var q QueueRow
		return q, r.Scan(&q.Service, &q.Name, &q.Waiting, &q.LongestWaitS, &q.TargetWaitS)
	})
	if err != nil {
		return out, wrap("branch queues", err)
	}

	rows, err = s.pool.Query(ctx, `SELECT es.executive, es.name, es.counter, es.state, es.reason, es.since,
			coalesce(t.printed, ''), coalesce(t.origin_service, ''), coalesce(t.number, 0), coalesce(t.status, '')
		FROM executive_sessions es
		LEFT JOIN LATERAL (SELECT printed, origin_service, number, status FROM tickets
			WHERE branch = es.branch AND executive = es.executive AND status IN ('called', 'serving')
			ORDER BY called_at DESC NULLS LAST LIMIT 1) t ON true
		WHERE es.branch = $1 AND es.state <> 'logged_out' ORDER BY es.counter, es.executive`, id)
	if err != nil {
		return out, wrap("branch executives", err)
	}
	out.Executives, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ExecutiveRow, error) {
		var e ExecutiveRow
		var printed, origin string
		var n int
		err := r.Scan(&e.ID, &e.Name, &e.Counter, &e.State, &e.Reason, &e.Since, &printed, &origin, &n, &e.Status)
		if origin != "" {
			e.Ticket = printedNumber(printed, origin, n)
		}
		return e, err
	})
	if err != nil {
		return out, wrap("branch executives", err)
	}

	if err := s.branchTickets(ctx, id, d, now, f, &out); err != nil {
		return out, err
	}
	out.Quarantined, err = s.quarantined(ctx, id)
	return out, err
}

// Branches lists the branches within scope by ID (a light list for pickers).
func (s *Store) Branches(ctx context.Context, scope Scope) ([]BranchInfo, error) {
	all, bs, rs := scopeArgs(scope)
	rows, err := s.pool.Query(ctx, `SELECT id, name, region, time_zone FROM (`+branchListSQL+`) x(id, name, region, time_zone)
		WHERE ($1::bool OR x.id = ANY($2::text[]) OR x.region = ANY($3::text[])) ORDER BY id`, all, bs, rs)
	if err != nil {
		return nil, wrap("branches", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (BranchInfo, error) {
		var b BranchInfo
		return b, r.Scan(&b.ID, &b.Name, &b.Region, &b.TimeZone)
	})
	return out, wrap("branches", err)
}

// printedNumber is a ticket's number as the branch printed it; a ticket
// projected before the branch relayed it is rebuilt from the service it was
// issued in (never its current one: a transferred C-004 stays C-004).
func printedNumber(printed, origin string, n int) string {
	return event.TicketRef{Number: n, Printed: printed}.PrintedOr(origin)
}
