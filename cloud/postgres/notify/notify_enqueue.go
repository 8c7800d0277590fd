package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// EnqueueEvents writes the notification jobs caused by events of branch, inside
// tx: the ingest's transaction, after it projected them, so a job exists if and
// only if its event is stored. Every insert is ON CONFLICT DO NOTHING on
// (branch, ticket, kind, call_no, chat): re-projection never sends twice.
//
// The lookups, links and pre-notices go in one round trip (pgx batch); a
// second one inserts the jobs, only when there are any.
func (s *Store) EnqueueEvents(ctx context.Context, tx pgx.Tx, branch string, events []event.Event) error {
	type svcDay struct{ service, day string }
	var (
		issued   []*event.Issued
		tickets  []string
		requests []string
		advanced = map[svcDay]bool{}
		payloads = make([]any, len(events))
	)
	for i, e := range events {
		p, err := e.Payload()
		if err != nil || p == nil {
			continue // unknown or malformed: the ingest already logged it
		}
		payloads[i] = p
		switch d := p.(type) {
		case *event.Issued:
			issued = append(issued, d)
			tickets = append(tickets, d.Ticket)
		case *event.Called:
			tickets = append(tickets, d.Ticket)
			advanced[svcDay{d.Service, d.Day}] = true
		case *event.Transferred:
			tickets = append(tickets, d.Ticket)
			advanced[svcDay{d.Service, d.Day}] = true
			advanced[svcDay{d.To, d.Day}] = true
		case *event.Cancelled:
			tickets = append(tickets, d.Ticket)
			advanced[svcDay{d.Service, d.Day}] = true
			if d.Request != "" {
				requests = append(requests, d.Request)
			}
		case *event.TicketRef:
			tickets = append(tickets, d.Ticket)
			if e.Type == event.TicketNoShow || e.Type == event.TicketAbandoned {
				advanced[svcDay{d.Service, d.Day}] = true
			}
		}
	}
	if len(tickets) == 0 && len(requests) == 0 {
		return nil
	}
	// One round trip: mark commands applied; link new tickets to chats (by the
	// scanned token of a /start that came first, and by a consented RUT) and
	// read the chats of every ticket of the batch; write pre-notices.
	pb := &pgx.Batch{}
	for _, id := range requests {
		pb.Queue(`UPDATE branch_commands SET status = 'applied', applied_at = $3
			WHERE id = $1 AND branch = $2 AND status = 'pending'`, id, branch, s.Now())
	}
	var ids, tokens, ruts []string
	for _, d := range issued {
		if d.Token != "" || d.RUTHash != "" {
			ids = append(ids, d.Ticket)
			tokens = append(tokens, d.Token)
			rl := ""
			if d.RUTHash != "" {
				rl = s.hash.Lookup("rut", d.RUTHash)
			}
			ruts = append(ruts, rl)
		}
	}
	// The token's lock serializes this with a concurrent /start of the same
	// token (LinkToken): one of the two always sees the other's link.
	lockTokens := slices.ContainsFunc(tokens, func(t string) bool { return t != "" })
	if lockTokens {
		pb.Queue(`SELECT pg_advisory_xact_lock($1, hashtext(t)) FROM unnest($2::text[]) AS t WHERE t <> ''`,
			tokenLockClass, tokens)
	}
	pb.Queue(`WITH new AS (
			INSERT INTO telegram_ticket_chats (branch, ticket, chat_id)
			SELECT $1, u.id, l.chat_id FROM unnest($2::text[], $3::text[]) AS u(id, token)
			JOIN telegram_token_links l ON l.token = u.token
			UNION
			SELECT $1, u.id, c.id FROM unnest($2::text[], $4::text[]) AS u(id, rut)
			JOIN telegram_chats c ON c.rut_lookup = u.rut
			ON CONFLICT DO NOTHING RETURNING ticket, chat_id)
		SELECT ticket, chat_id FROM new
		UNION
		SELECT ticket, chat_id FROM telegram_ticket_chats WHERE branch = $1 AND ticket = ANY($5)`,
		branch, ids, tokens, ruts, tickets)
	var svcs, days []string
	for sd := range advanced {
		if _, err := time.Parse(time.DateOnly, sd.day); err == nil && sd.service != "" {
			svcs, days = append(svcs, sd.service), append(days, sd.day)
		}
	}
	if len(svcs) > 0 {
		pb.Queue(preNoticeSQL, branch, svcs, days, s.PreNoticeAhead)
	}
	br := tx.SendBatch(ctx, pb)
	for range requests {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return fmt.Errorf("notify: commands applied at %s: %w", branch, err)
		}
	}
	if lockTokens {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return fmt.Errorf("notify: token locks at %s: %w", branch, err)
		}
	}
	chats := map[string][]int64{}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return fmt.Errorf("notify: chats of %s: %w", branch, err)
	}
	for rows.Next() {
		var t string
		var c int64
		if err := rows.Scan(&t, &c); err != nil {
			rows.Close()
			_ = br.Close()
			return fmt.Errorf("notify: chats of %s: %w", branch, err)
		}
		chats[t] = append(chats[t], c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		_ = br.Close()
		return fmt.Errorf("notify: chats of %s: %w", branch, err)
	}
	if len(svcs) > 0 {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return fmt.Errorf("notify: pre-notices at %s: %w", branch, err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("notify: enqueue at %s: %w", branch, err)
	}

	var jb jobBatch
	for i, e := range events {
		p := payloads[i]
		switch d := p.(type) {
		case *event.Issued:
			for _, c := range chats[d.Ticket] {
				jb.add(branch, d.Ticket, KindConfirm, 0, c, ConfirmMsg(queue.DisplayNumber(d.Service, d.Number),
					d.Position-1, d.QuotedTypical, d.QuotedUpper))
			}
		case *event.Called:
			kind, callNo := KindCalled, int64(d.Recall)
			m := CalledMsg(queue.DisplayNumber(d.Service, d.Number), d.Counter, d.ExecutiveName)
			if e.Type == event.TicketRecalled {
				kind = KindRecalled
				m = Msg{Key: "telegram.recalled", Args: []Arg{S(queue.DisplayNumber(d.Service, d.Number)), S(strconv.Itoa(d.Counter))}}
			}
			for _, c := range chats[d.Ticket] {
				jb.add(branch, d.Ticket, kind, callNo, c, m)
			}
		case *event.Transferred:
			for _, c := range chats[d.Ticket] {
				jb.add(branch, d.Ticket, KindTransferred, int64(e.Seq), c, Msg{Key: "telegram.transferred",
					Args: []Arg{S(queue.DisplayNumber(d.Service, d.Number)), S(d.To)}})
			}
		case *event.Cancelled:
			for _, c := range chats[d.Ticket] {
				jb.add(branch, d.Ticket, KindCancelled, 0, c, Msg{Key: "telegram.cancelled",
					Args: []Arg{S(queue.DisplayNumber(d.Service, d.Number))}})
			}
		case *event.TicketRef:
			kind, key := "", ""
			switch e.Type {
			case event.TicketNoShow:
				kind, key = KindNoShow, "telegram.no_show"
			case event.TicketAbandoned:
				kind, key = KindDayClosed, "telegram.day_closed"
			default:
				continue
			}
			for _, c := range chats[d.Ticket] {
				jb.add(branch, d.Ticket, kind, 0, c, Msg{Key: key, Args: []Arg{S(queue.DisplayNumber(d.Service, d.Number))}})
			}
		}
	}
	if err := jb.insert(ctx, tx); err != nil {
		return fmt.Errorf("notify: jobs of %s: %w", branch, err)
	}
	return nil
}

// preNoticeSQL writes the come-back notice for every linked waiting ticket of
// the given (service, day) queues whose tickets ahead are now at most the
// threshold ($4, or telegram_service_settings for the service). Ahead counts
// the waiting tickets of the queue before it, preferential and premium first,
// then by arrival: an approximation of the branch's calling rule (which may
// interleave classes by ratio), good enough for "come back now". The plan
// does not depend on fresh statistics: links of the branch, then primary-key
// probes, then one window over the waiting tickets of the linked queues only.
const preNoticeSQL = `WITH p AS (
		SELECT DISTINCT u.s, u.d::date AS d FROM unnest($2::text[], $3::text[]) AS u(s, d)
	), lw AS MATERIALIZED (
		-- linked waiting tickets of those queues: the branch's links (kept for
		-- two days by Purge), each probed by primary key.
		SELECT t.id, t.service, t.day, c.chat_id FROM telegram_ticket_chats c
		JOIN tickets t ON t.branch = c.branch AND t.id = c.ticket
		JOIN p ON p.s = t.service AND p.d = t.day
		WHERE c.branch = $1 AND t.status = 'waiting'
	), w AS MATERIALIZED (
		SELECT t.id, t.service, t.origin_service, t.number,
			row_number() OVER (PARTITION BY t.service, t.day
				ORDER BY CASE t.priority WHEN 'normal' THEN 1 ELSE 0 END, t.queued_at, t.number) - 1 AS ahead
		FROM (SELECT DISTINCT service, day FROM lw) q
		JOIN tickets t ON t.branch = $1 AND t.day = q.day AND t.service = q.service AND t.status = 'waiting'
	), ins AS (
		INSERT INTO telegram_jobs (branch, ticket, kind, call_no, chat_id, params)
		SELECT $1, w.id, 'prenotice', 0, lw.chat_id, jsonb_build_object('key', 'telegram.prenotice', 'args',
			jsonb_build_array(
				jsonb_build_object('s', w.origin_service || '-' ||
					CASE WHEN w.number < 1000 THEN lpad(w.number::text, 3, '0') ELSE w.number::text END),
				jsonb_build_object('s', w.ahead::text)))
		FROM w JOIN lw ON lw.id = w.id
		WHERE w.ahead <= COALESCE((SELECT pre_notice_ahead FROM telegram_service_settings
			WHERE branch = $1 AND service = w.service), $4)
		ON CONFLICT DO NOTHING RETURNING 1)
	` + wakeWorkers

// ConfirmMsg is the confirmation at issue (or at linking): number, people
// ahead and the estimated wait range.
func ConfirmMsg(display string, ahead, typicalS, upperS int) Msg {
	return Msg{Key: "telegram.confirm", Args: []Arg{S(display), S(strconv.Itoa(max(0, ahead))), WaitArg(typicalS, upperS)}}
}

// CalledMsg is the your-turn message: counter and the executive's first name.
func CalledMsg(display string, counter int, executiveName string) Msg {
	first, _, _ := strings.Cut(strings.TrimSpace(executiveName), " ")
	if first == "" {
		return Msg{Key: "telegram.called_anon", Args: []Arg{S(display), S(strconv.Itoa(counter))}}
	}
	return Msg{Key: "telegram.called", Args: []Arg{S(display), S(strconv.Itoa(counter)), S(first)}}
}

// WaitArg renders an estimate range in minutes (rounded up).
func WaitArg(typicalS, upperS int) Arg {
	lo, hi := (typicalS+59)/60, (upperS+59)/60
	if hi < lo {
		hi = lo
	}
	if hi <= 0 {
		return Arg{Key: "telegram.wait_now"}
	}
	return Arg{Key: "telegram.wait_range", Args: []string{strconv.Itoa(lo), strconv.Itoa(hi)}}
}

// tokenLockClass namespaces the transaction advisory locks taken on ticket
// tokens (first key of pg_advisory_xact_lock(int, int)).
const tokenLockClass = 0x7467 // "tg"

// JobsChannel is the NOTIFY channel that wakes idle workers when jobs are
// written (delivered at commit; duplicates in one transaction fold into one).
const JobsChannel = "telegram_jobs"

// wakeWorkers ends a statement whose CTE "ins" inserted jobs: it notifies
// JobsChannel once if any row was inserted.
const wakeWorkers = `SELECT pg_notify('` + JobsChannel + `', '') FROM (SELECT 1 FROM ins LIMIT 1) AS x`

type jobBatch struct {
	branch, ticket, kind []string
	callNo, chat         []int64
	params               []string
}

func (b *jobBatch) add(branch, ticket, kind string, callNo, chat int64, m Msg) {
	raw, _ := json.Marshal(m)
	b.branch = append(b.branch, branch)
	b.ticket = append(b.ticket, ticket)
	b.kind = append(b.kind, kind)
	b.callNo = append(b.callNo, callNo)
	b.chat = append(b.chat, chat)
	b.params = append(b.params, string(raw))
}

func (b *jobBatch) insert(ctx context.Context, tx pgx.Tx) error {
	if len(b.branch) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `WITH ins AS (INSERT INTO telegram_jobs (branch, ticket, kind, call_no, chat_id, params)
		SELECT u.b, u.t, u.k, u.n, u.c, u.p::jsonb
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[]) AS u(b, t, k, n, c, p)
		ON CONFLICT DO NOTHING RETURNING 1)
		`+wakeWorkers, b.branch, b.ticket, b.kind, b.callNo, b.chat, b.params)
	return err
}
