package hq

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/shared/queue"
)

// ticketWhere is the predicate of a filtered page on $1 branch, $2 day and
// $3..$8 (status, service, executive, number, letter).
const ticketWhere = `t.branch = $1 AND t.day = $2 AND ($3 = '' OR t.status = $3) AND ($4 = '' OR t.service = $4)
	AND ($5 = '' OR t.executive = $5) AND ($6 = 0 OR t.number = $6)
	AND ($7 = '' OR t.origin_service = $7 OR t.printed LIKE $7 || '-%')`

// branchTickets reads the page of tickets f selects into out, with each
// ticket's wait, service time and timeline.
func (s *Store) branchTickets(ctx context.Context, id string, d, now time.Time, f TicketFilter, out *BranchDetail) error {
	letter, number := f.SearchNumber()
	args := []any{id, d, f.Status, f.Service, f.Executive, number, letter}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM tickets t WHERE `+ticketWhere, args...).Scan(&out.Total); err != nil {
		return wrap("branch tickets", err)
	}
	out.Pages = max(1, (out.Total+f.PerPage-1)/f.PerPage)
	if f.Page > out.Pages {
		return queue.Errorf(queue.CodeInvalid, "hq.page.range", f.Page, out.Pages)
	}
	rows, err := s.pool.Query(ctx, `SELECT t.id, t.service, coalesce(sv.name, ''), t.printed, t.origin_service, t.number, t.priority, t.status,
			t.counter, coalesce(t.executive, ''), `+executiveNameSQL("t.branch", "t.executive")+`, t.channel, t.queued_at, t.called_at, t.started_at, t.ended_at
		FROM tickets t LEFT JOIN hq_services sv ON sv.branch = t.branch AND sv.code = t.service
		WHERE `+ticketWhere+` ORDER BY t.created_at, t.id LIMIT $8 OFFSET $9`,
		append(args, f.PerPage, (f.Page-1)*f.PerPage)...)
	if err != nil {
		return wrap("branch tickets", err)
	}
	out.Tickets, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (TicketRow, error) {
		var t TicketRow
		var n int
		var printed, origin string
		err := r.Scan(&t.ID, &t.Service, &t.ServiceName, &printed, &origin, &n, &t.Priority, &t.Status, &t.Counter, &t.Executive, &t.ExecutiveName, &t.Channel,
			&t.QueuedAt, &t.CalledAt, &t.StartedAt, &t.EndedAt)
		t.Display = printedNumber(printed, origin, n)
		t.WaitS, t.ServiceS = ticketTimes(t, now)
		return t, err
	})
	if err != nil {
		return wrap("branch tickets", err)
	}
	ids := make([]string, len(out.Tickets))
	index := make(map[string]int, len(out.Tickets))
	for i, t := range out.Tickets {
		ids[i], index[t.ID] = t.ID, i
	}
	// Timelines from the append-only events of the day (with a margin for
	// clocks) that name a ticket of the page.
	rows, err = s.pool.Query(ctx, `SELECT e.data->>'ticket', e.seq, e.type, e.at, x.service, coalesce(sv.name, ''),
			CASE WHEN e.data->>'counter' ~ '^[0-9]{1,6}$' THEN (e.data->>'counter')::int ELSE 0 END,
			coalesce(e.data->>'executive', ''), `+executiveNameSQL("e.branch", "e.data->>'executive'")+`
		FROM events e
		CROSS JOIN LATERAL (SELECT CASE e.type WHEN 'ticket.transferred' THEN coalesce(e.data->>'to', '')
			WHEN 'ticket.issued' THEN coalesce(e.data->>'service', '') ELSE '' END AS service) x
		LEFT JOIN hq_services sv ON sv.branch = e.branch AND sv.code = x.service
		WHERE e.branch = $1 AND e.at >= $2 AND e.at < $3 AND e.data->>'ticket' = ANY($4::text[]) ORDER BY e.seq`,
		id, d.Add(-12*time.Hour), d.Add(36*time.Hour), ids)
	if err != nil {
		return wrap("branch timelines", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tid string
		var it TimelineItem
		if err := rows.Scan(&tid, &it.Seq, &it.Type, &it.At, &it.Service, &it.ServiceName, &it.Counter, &it.Executive, &it.ExecutiveName); err != nil {
			return wrap("branch timelines", err)
		}
		if i, ok := index[tid]; ok {
			out.Tickets[i].Timeline = append(out.Tickets[i].Timeline, it)
		}
	}
	return wrap("branch timelines", rows.Err())
}

// ticketTimes is a ticket's wait (arrival in its queue to its call; to now
// while it waits; to when it left uncalled) and service time (start to end;
// to now while served), in seconds.
func ticketTimes(t TicketRow, now time.Time) (wait, service *int) {
	secs := func(a, b time.Time) *int { n := max(0, int(b.Sub(a).Seconds()+0.5)); return &n }
	switch {
	case t.CalledAt != nil:
		wait = secs(t.QueuedAt, *t.CalledAt)
	case t.Status == string(queue.StatusWaiting):
		wait = secs(t.QueuedAt, now)
	case t.EndedAt != nil:
		wait = secs(t.QueuedAt, *t.EndedAt)
	}
	switch {
	case t.StartedAt != nil && t.EndedAt != nil:
		service = secs(*t.StartedAt, *t.EndedAt)
	case t.StartedAt != nil && t.Status == string(queue.StatusServing):
		service = secs(*t.StartedAt, now)
	}
	return wait, service
}

// executiveNameSQL is the name of executive id at branch: as he signed in
// at the branch, else as HQ configured him, else "".
func executiveNameSQL(branch, id string) string {
	return `coalesce((SELECT nullif(es.name, '') FROM executive_sessions es WHERE es.branch = ` + branch + ` AND es.executive = ` + id + `),
		(SELECT he.name FROM hq_executives he WHERE he.branch = ` + branch + ` AND he.id = ` + id + `), '')`
}
