package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/shared/event"
)

// EnqueueEvents writes the notification jobs caused by events of branch, inside
// tx: the ingest's transaction, after it projected them, so a job exists if and
// only if its event is stored. Every insert is ON CONFLICT DO NOTHING on
// (branch, ticket, kind, call_no, chat): re-projection never sends twice.
//
// The cloud keeps no ordering logic: the people ahead and the estimates it
// tells are the branch's own figures, relayed in the events (issued,
// transferred, ticket.near), and the number is the printed one.
//
// The lookups and links go in one round trip (pgx batch); a second one
// inserts the jobs, only when there are any.
func (s *Store) EnqueueEvents(ctx context.Context, tx pgx.Tx, branch string, events []event.Event) error {
	var (
		issued   []*event.Issued
		tickets  []string
		requests []string
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
		case *event.Transferred:
			tickets = append(tickets, d.Ticket)
		case *event.Cancelled:
			tickets = append(tickets, d.Ticket)
			if d.Request != "" {
				requests = append(requests, d.Request)
			}
		case *event.Near:
			tickets = append(tickets, d.Ticket)
		case *event.Placed:
			tickets = append(tickets, d.Ticket)
			if d.Request != "" {
				requests = append(requests, d.Request)
			}
		case *event.TicketRef:
			tickets = append(tickets, d.Ticket)
		}
	}
	if len(tickets) == 0 && len(requests) == 0 {
		return nil
	}
	// One round trip: mark commands applied; link new tickets to chats (by the
	// scanned token of a /start that came first, and by a consented RUT) and
	// read the chats of every ticket of the batch.
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
	if err := br.Close(); err != nil {
		return fmt.Errorf("notify: enqueue at %s: %w", branch, err)
	}

	var jb jobBatch
	for i, e := range events {
		p := payloads[i]
		switch d := p.(type) {
		case *event.Issued:
			for _, c := range chats[d.Ticket] {
				jb.add(branch, d.Ticket, KindConfirm, 0, c, ConfirmMsg(d.PrintedOr(d.Service),
					d.Position-1, d.QuotedTypical, d.QuotedUpper))
			}
		case *event.Called:
			kind, callNo := KindCalled, int64(d.Recall)
			m := CalledMsg(printed(d.TicketRef), d.Counter, d.ExecutiveName)
			if e.Type == event.TicketRecalled {
				kind = KindRecalled
				m = Msg{Key: "telegram.recalled", Args: []Arg{S(printed(d.TicketRef)), S(strconv.Itoa(d.Counter))}}
			}
			for _, c := range chats[d.Ticket] {
				jb.add(branch, d.Ticket, kind, callNo, c, m)
			}
		case *event.Transferred:
			to := d.ToName // the branch's name of the service; older agents send only its code
			if to == "" {
				to = d.To
			}
			m := Msg{Key: "telegram.transferred", Args: []Arg{S(printed(d.TicketRef)), S(to)}}
			if d.Place != nil {
				m = Msg{Key: "telegram.transferred_place", Args: []Arg{S(printed(d.TicketRef)), S(to),
					S(strconv.Itoa(d.Place.Ahead())), WaitArg(d.Place.TypicalS, d.Place.UpperS)}}
			}
			for _, c := range chats[d.Ticket] {
				jb.add(branch, d.Ticket, KindTransferred, int64(e.Seq), c, m)
			}
		case *event.Near:
			if d.Place == nil {
				continue
			}
			for _, c := range chats[d.Ticket] {
				jb.add(branch, d.Ticket, KindPreNotice, 0, c, Msg{Key: "telegram.prenotice",
					Args: []Arg{S(printed(d.TicketRef)), S(strconv.Itoa(d.Place.Ahead()))}})
			}
		case *event.Placed:
			if d.Place == nil {
				continue
			}
			for _, c := range chats[d.Ticket] {
				jb.add(branch, d.Ticket, KindPlaced, int64(e.Seq), c, Msg{Key: "telegram.placed",
					Args: []Arg{S(printed(d.TicketRef)), S(strconv.Itoa(d.Place.Ahead())), WaitArg(d.Place.TypicalS, d.Place.UpperS)}})
			}
		case *event.Cancelled:
			for _, c := range chats[d.Ticket] {
				jb.add(branch, d.Ticket, KindCancelled, 0, c, Msg{Key: "telegram.cancelled",
					Args: []Arg{S(printed(d.TicketRef))}})
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
				jb.add(branch, d.Ticket, kind, 0, c, Msg{Key: key, Args: []Arg{S(printed(*d))}})
			}
		}
	}
	if err := jb.insert(ctx, tx); err != nil {
		return fmt.Errorf("notify: jobs of %s: %w", branch, err)
	}
	return nil
}

// printed is the ticket's printed number; an old agent's event lacks it and
// names only the current service, the best there is then.
func printed(r event.TicketRef) string { return r.PrintedOr(r.Service) }

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
