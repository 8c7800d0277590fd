package notify

import (
	"context"
	"encoding/json"
	"fmt"
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
// With no chat linked to the batch's tickets this costs one or two queries per
// batch, so ingest throughput is unaffected when nobody uses Telegram.
func (s *Store) EnqueueEvents(ctx context.Context, tx pgx.Tx, branch string, events []event.Event) error {
	type svcDay struct{ service, day string }
	var (
		issued   []*event.Issued
		tickets  []string
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
				if _, err := tx.Exec(ctx, `UPDATE branch_commands SET status = 'applied', applied_at = $3
					WHERE id = $1 AND branch = $2 AND status = 'pending'`, d.Request, branch, s.Now()); err != nil {
					return fmt.Errorf("notify: command %s applied: %w", d.Request, err)
				}
			}
		case *event.TicketRef:
			tickets = append(tickets, d.Ticket)
			if e.Type == event.TicketNoShow || e.Type == event.TicketAbandoned {
				advanced[svcDay{d.Service, d.Day}] = true
			}
		}
	}
	if len(tickets) == 0 {
		return nil
	}
	// Link new tickets to chats: by the scanned token (a /start that came before
	// the event) and by the customer's consented RUT.
	if len(issued) > 0 {
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
		if len(ids) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO telegram_ticket_chats (branch, ticket, chat_id)
				SELECT $1, u.id, l.chat_id FROM unnest($2::text[], $3::text[]) AS u(id, token)
				JOIN telegram_token_links l ON l.token = u.token
				UNION
				SELECT $1, u.id, c.id FROM unnest($2::text[], $4::text[]) AS u(id, rut)
				JOIN telegram_chats c ON c.rut_lookup = u.rut
				ON CONFLICT DO NOTHING`, branch, ids, tokens, ruts); err != nil {
				return fmt.Errorf("notify: link tickets of %s: %w", branch, err)
			}
		}
	}
	rows, err := tx.Query(ctx, `SELECT ticket, chat_id FROM telegram_ticket_chats WHERE branch = $1 AND ticket = ANY($2)`,
		branch, tickets)
	if err != nil {
		return fmt.Errorf("notify: chats of %s: %w", branch, err)
	}
	chats := map[string][]int64{}
	for rows.Next() {
		var t string
		var c int64
		if err := rows.Scan(&t, &c); err != nil {
			rows.Close()
			return fmt.Errorf("notify: chats of %s: %w", branch, err)
		}
		chats[t] = append(chats[t], c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("notify: chats of %s: %w", branch, err)
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
	for sd := range advanced {
		if err := s.enqueuePreNotices(ctx, tx, branch, sd.service, sd.day); err != nil {
			return err
		}
	}
	return nil
}

// enqueuePreNotices writes the come-back notice for every linked waiting ticket
// of a service whose tickets ahead are now at most the threshold. Ahead counts
// waiting tickets of the service before it, preferential and premium first, then
// by arrival: an approximation of the branch's calling rule (which may
// interleave classes by ratio), good enough for "come back now".
func (s *Store) enqueuePreNotices(ctx context.Context, tx pgx.Tx, branch, service, day string) error {
	if _, err := time.Parse(time.DateOnly, day); err != nil || service == "" {
		return nil // not projected by the ingest either
	}
	_, err := tx.Exec(ctx, `WITH linked AS (
			SELECT 1 FROM telegram_ticket_chats c JOIN tickets t ON t.branch = c.branch AND t.id = c.ticket
			WHERE c.branch = $1 AND t.service = $2 AND t.status = 'waiting' LIMIT 1
		), w AS (
			SELECT t.id, t.origin_service, t.number,
				row_number() OVER (ORDER BY CASE t.priority WHEN 'normal' THEN 1 ELSE 0 END, t.queued_at, t.number) - 1 AS ahead
			FROM tickets t
			WHERE EXISTS (SELECT 1 FROM linked) AND t.branch = $1 AND t.service = $2 AND t.status = 'waiting'
				AND t.day = $3::date
		)
		, ins AS (INSERT INTO telegram_jobs (branch, ticket, kind, call_no, chat_id, params)
		SELECT $1, w.id, 'prenotice', 0, c.chat_id, jsonb_build_object('key', 'telegram.prenotice', 'args',
			jsonb_build_array(
				jsonb_build_object('s', w.origin_service || '-' ||
					CASE WHEN w.number < 1000 THEN lpad(w.number::text, 3, '0') ELSE w.number::text END),
				jsonb_build_object('s', w.ahead::text)))
		FROM w JOIN telegram_ticket_chats c ON c.branch = $1 AND c.ticket = w.id
		WHERE w.ahead <= COALESCE((SELECT pre_notice_ahead FROM telegram_service_settings
			WHERE branch = $1 AND service = $2), $4)
		ON CONFLICT DO NOTHING RETURNING 1)
		`+wakeWorkers, branch, service, day, s.PreNoticeAhead)
	if err != nil {
		return fmt.Errorf("notify: pre-notices %s/%s: %w", branch, service, err)
	}
	return nil
}

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
