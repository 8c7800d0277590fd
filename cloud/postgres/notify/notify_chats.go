package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// Querier is what both a pool and a transaction offer.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// TicketInfo is a linked ticket as a chat sees it (cloud.ChatTicket).
type TicketInfo = cloud.ChatTicket

// FreshFor is how long a relayed figure is told as current.
const FreshFor = cloud.FreshFor

// ticketCols read a ticket with its printed number (or, projected before it
// was relayed, the origin service and number) and the branch's last figures
// (or, before any was relayed, the quote at issue).
const ticketCols = `t.branch, t.id, t.origin_service, t.number, t.printed, t.status,
	COALESCE(t.place_position, t.position), COALESCE(t.place_typical_s, t.quoted_typical_s),
	COALESCE(t.place_upper_s, t.quoted_upper_s), COALESCE(t.place_at, t.created_at), COALESCE(t.rut_hash, ''),
	COALESCE((SELECT b.time_zone FROM branches b WHERE b.id = t.branch), 'America/Santiago'),
	EXISTS (SELECT 1 FROM tickets o WHERE o.branch = t.branch AND o.day = t.day AND o.service = t.service AND o.id <> t.id
		AND (o.created_at > COALESCE(t.place_at, t.created_at) OR o.place_at > COALESCE(t.place_at, t.created_at)))`

func scanTicket(row pgx.Row, extra ...any) (TicketInfo, error) {
	var t TicketInfo
	var origin, printed, st string
	var num int
	dest := append(extra, &t.Branch, &t.ID, &origin, &num, &printed, &st, &t.Position, &t.TypicalS, &t.UpperS,
		&t.PlaceAt, &t.RUTHash, &t.TimeZone, &t.Overtaken)
	err := row.Scan(dest...)
	t.Display, t.Status = event.TicketRef{Number: num, Printed: printed}.PrintedOr(origin), queue.Status(st)
	return t, err
}

// ErrNoTicket is returned when a chat has no linked ticket.
var ErrNoTicket = cloud.ErrNoTicket

// ChatTicket returns the chat's current ticket: its newest open linked ticket,
// or else its newest linked one. Errors: not_found telegram.no_ticket.
func (s *Store) ChatTicket(ctx context.Context, q Querier, chatID int64) (TicketInfo, error) {
	t, err := scanTicket(q.QueryRow(ctx, `SELECT `+ticketCols+` FROM telegram_ticket_chats c
		JOIN tickets t ON t.branch = c.branch AND t.id = c.ticket
		WHERE c.chat_id = $1
		ORDER BY (t.status IN ('waiting', 'called', 'serving', 'parked')) DESC, t.created_at DESC LIMIT 1`, chatID))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNoTicket
	}
	if err != nil {
		return t, fmt.Errorf("notify: chat ticket: %w", err)
	}
	return t, nil
}

// UpsertChat stores a chat (sealed ID, keyed hash) and returns its row ID.
func (s *Store) UpsertChat(ctx context.Context, tx pgx.Tx, hash string, sealed []byte, kind, lang string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO telegram_chats (chat_hash, chat_enc, kind, lang) VALUES ($1, $2, $3, $4)
		ON CONFLICT (chat_hash) DO UPDATE SET lang = EXCLUDED.lang RETURNING id`, hash, sealed, kind, lang).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("notify: upsert chat: %w", err)
	}
	return id, nil
}

// LinkToken links chat to the ticket carrying token. If the ticket is already
// known, the chat is linked to it, a confirmation job is written and the ticket
// returned; otherwise the link stays pending (ErrNoTicket) and the ingest
// resolves it when the ticket.issued event arrives.
//
// The token's advisory lock (taken exclusive here, shared by QueueJobs for
// the tokens it ingests) closes the race where this and the ticket's ingest
// commit at once and neither sees the other: one waits, then sees the
// other's row.
//
// When the branch's last figure for a waiting ticket is not Current (older
// than FreshFor, or other tickets issued or placed since), the confirmation tells it with its time and a ticket.locate command (ID
// newID) is recorded and returned, for the caller to publish: the branch's
// ticket.placed answer then tells the place now.
func (s *Store) LinkToken(ctx context.Context, tx pgx.Tx, chatID int64, token, newID string) (TicketInfo, *event.Command, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, tokenLockClass, token); err != nil {
		return TicketInfo{}, nil, fmt.Errorf("notify: link token: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO telegram_token_links (token, chat_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
		token, chatID); err != nil {
		return TicketInfo{}, nil, fmt.Errorf("notify: link token: %w", err)
	}
	t, err := scanTicket(tx.QueryRow(ctx, `SELECT `+ticketCols+` FROM tickets t WHERE t.token = $1`, token))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, nil, ErrNoTicket
	}
	if err != nil {
		return t, nil, fmt.Errorf("notify: link token: %w", err)
	}
	linked, err := s.linkTicket(ctx, tx, chatID, t)
	if err != nil || !linked || t.Status != queue.StatusWaiting || t.Current(s.Now()) || newID == "" {
		return t, nil, err
	}
	cmd, err := s.requestCommand(ctx, tx, t, event.CommandLocateTicket, newID)
	return t, &cmd, err
}

// linkTicket links a chat to a ticket and, while it waits, writes its
// confirmation with the branch's last figure. It reports whether the link is new.
func (s *Store) linkTicket(ctx context.Context, tx pgx.Tx, chatID int64, t TicketInfo) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO telegram_ticket_chats (branch, ticket, chat_id) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, t.Branch, t.ID, chatID)
	if err != nil {
		return false, fmt.Errorf("notify: link ticket: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	var jb jobBatch
	switch t.Status {
	case queue.StatusWaiting:
		jb.add(t.Branch, t.ID, KindConfirm, ChannelTelegram, 0, chatID, t.PlaceMsg(s.Now(), "telegram.confirm", "telegram.confirm_at"))
	case queue.StatusCalled:
		// Linked after the call (a slow scan, a loaded long poll): the call's
		// event found no chat, so "your turn" is told now, once.
		var counter int
		var name string
		if err := tx.QueryRow(ctx, `SELECT coalesce(t.counter, 0), coalesce(es.name, '') FROM tickets t
			LEFT JOIN executive_sessions es ON es.branch = t.branch AND es.executive = t.executive
			WHERE t.branch = $1 AND t.id = $2`, t.Branch, t.ID).Scan(&counter, &name); err != nil {
			return false, fmt.Errorf("notify: link ticket: called at: %w", err)
		}
		jb.add(t.Branch, t.ID, KindCalled, ChannelTelegram, 0, chatID, CalledMsg(t.Display, counter, name))
	default:
		return true, nil
	}
	return true, jb.insert(ctx, tx)
}

// pendingSince is a link's creation time while it is pending (resolved_at
// NULL, migration 00034), NULL once resolved: the expression of the index
// telegram_token_links_pending, whose statistics (ANALYZE keeps them for
// an expression index) tell the planner how few links of the window are
// pending, so it reads them through the index and probes each one's ticket
// and chat, whatever the number of resolved links.
const pendingSince = `(CASE WHEN l.resolved_at IS NULL THEN l.created_at END)`

// pendingLinks are the pending links of the last $1 whose ticket has
// arrived but whose chat is not linked to it, with the ticket. Each link's
// ticket and chat are probed by their keys (the LATERAL subquery with
// OFFSET 0 is planned apart, once per link: never a read of every ticket
// to join, whatever the planner believes of the links' number). The
// condition that t.token is not empty lets the tickets' token index
// (partial: only tokens not empty) serve.
const pendingLinks = `SELECT l.chat_id, ` + ticketCols + ` FROM telegram_token_links l
	CROSS JOIN LATERAL (SELECT * FROM tickets t WHERE t.token = l.token AND t.token <> ''
		AND NOT EXISTS (SELECT 1 FROM telegram_ticket_chats c
			WHERE c.branch = t.branch AND c.ticket = t.id AND c.chat_id = l.chat_id)
		OFFSET 0) t
	WHERE ` + pendingSince + ` >= $1
	LIMIT 500`

// settleLinks marks resolved ($2) the pending links of the last $1 whose
// chat is linked to their ticket, by this pass or before it (the ticket's
// ingest, the /start itself): later passes no longer read them. OFFSET 0
// keeps the EXISTS a probe per link, as in pendingLinks.
const settleLinks = `UPDATE telegram_token_links l SET resolved_at = $2
	WHERE ` + pendingSince + ` >= $1 AND EXISTS (SELECT 1 FROM tickets t
		JOIN telegram_ticket_chats c ON c.branch = t.branch AND c.ticket = t.id
		WHERE t.token = l.token AND t.token <> '' AND c.chat_id = l.chat_id OFFSET 0)`

// ResolvePending links chats whose /start came before their ticket's event but
// whose ingest transaction ran concurrently with it (neither saw the other).
// The unique keys make it idempotent; it returns how many links it made.
// It reads only the pending links (not yet seen linked) and marks those now
// linked, so its cost follows the links still waiting for their ticket and
// those made since the last pass, not every link of the window. Both
// statements go unnamed (pgx.QueryExecModeExec), planned at each pass for its
// window and the tables' current statistics: a plan cached on a pooled
// connection while the links were few (PostgreSQL's generic plan, after five
// runs) was still running after five minutes once 250,000 links were pending
// (`make bench`'s BenchmarkLinksTick, whose 4,592 short runs came first); planned
// afresh, the same benchmark's first pass over them and all its cases took 24 s.
func (s *Store) ResolvePending(ctx context.Context, since time.Duration) (int, error) {
	n := 0
	now := s.Now()
	from := now.Add(-since)
	err := s.inTx(ctx, "resolve links", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, pendingLinks, pgx.QueryExecModeExec, from)
		if err != nil {
			return fmt.Errorf("notify: resolve links: %w", err)
		}
		type pair struct {
			chat int64
			t    TicketInfo
		}
		var todo []pair
		for rows.Next() {
			var p pair
			var err error
			if p.t, err = scanTicket(rows, &p.chat); err != nil {
				rows.Close()
				return fmt.Errorf("notify: resolve links: %w", err)
			}
			todo = append(todo, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("notify: resolve links: %w", err)
		}
		for _, p := range todo {
			if _, err := s.linkTicket(ctx, tx, p.chat, p.t); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, settleLinks, pgx.QueryExecModeExec, from, now); err != nil {
			return fmt.Errorf("notify: resolve links: settle: %w", err)
		}
		n = len(todo)
		return nil
	})
	return n, err
}

// Remember links the chat to the RUT of its current ticket (the customer's
// consent): his later tickets with the same rut_hash notify this chat. It
// returns false when the ticket carries no RUT.
func (s *Store) Remember(ctx context.Context, tx pgx.Tx, chatID int64) (bool, error) {
	t, err := s.ChatTicket(ctx, tx, chatID)
	if err != nil {
		return false, err
	}
	if t.RUTHash == "" {
		return false, nil
	}
	lookup := s.hash.Lookup("rut", t.RUTHash)
	if _, err := tx.Exec(ctx, `UPDATE telegram_chats SET rut_lookup = NULL WHERE rut_lookup = $1 AND id <> $2`,
		lookup, chatID); err != nil {
		return false, fmt.Errorf("notify: remember: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE telegram_chats SET rut_lookup = $1 WHERE id = $2`, lookup, chatID); err != nil {
		return false, fmt.Errorf("notify: remember: %w", err)
	}
	return true, nil
}

// Unlink forgets every link of the chat (/stop) and drops its pending jobs.
func (s *Store) Unlink(ctx context.Context, tx pgx.Tx, chatID int64) error {
	for _, q := range []string{
		`DELETE FROM telegram_token_links WHERE chat_id = $1`,
		`DELETE FROM telegram_ticket_chats WHERE chat_id = $1`,
		`UPDATE telegram_chats SET rut_lookup = NULL WHERE id = $1`,
		`UPDATE telegram_jobs SET status = 'dropped' WHERE chat_id = $1 AND status = 'pending'`,
	} {
		if _, err := tx.Exec(ctx, q, chatID); err != nil {
			return fmt.Errorf("notify: unlink: %w", err)
		}
	}
	return nil
}

// Reply writes a job answering a command. Its key is the update ID, so a
// redelivered update never answers twice.
func (s *Store) Reply(ctx context.Context, tx pgx.Tx, chatID, updateID int64, m Msg) error {
	raw, _ := json.Marshal(m)
	_, err := tx.Exec(ctx, `WITH ins AS (INSERT INTO telegram_jobs (branch, ticket, kind, call_no, chat_id, params)
		VALUES ('', '', 'reply', $1, $2, $3::jsonb) ON CONFLICT DO NOTHING RETURNING 1)
		`+wakeWorkers, updateID, chatID, string(raw))
	if err != nil {
		return fmt.Errorf("notify: reply: %w", err)
	}
	return nil
}

// HandleUpdate runs fn in a transaction unless update_id was handled before
// (webhook and getUpdates may redeliver). It reports whether fn ran.
func (s *Store) HandleUpdate(ctx context.Context, updateID int64, fn func(u cloud.ChatUpdate) error) (bool, error) {
	ran := false
	err := s.inTx(ctx, "update", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO telegram_updates (update_id) VALUES ($1) ON CONFLICT DO NOTHING`, updateID)
		if err != nil {
			return fmt.Errorf("notify: update %d: %w", updateID, err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		ran = true
		return fn(chatUpdate{s: s, tx: tx})
	})
	return ran, err
}

// MaxUpdateID is the highest update handled (getUpdates resumes after it).
func (s *Store) MaxUpdateID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(max(update_id), 0) FROM telegram_updates`).Scan(&id); err != nil {
		return 0, fmt.Errorf("notify: max update: %w", err)
	}
	return id, nil
}

// LocateIfOld records a ticket.locate command (ID newID) for a waiting ticket
// whose branch figure is not Current, for the caller to publish: /estado
// answers with the last figure and its time, and the branch's ticket.placed
// then tells every linked chat the place now. It returns nil when the figure
// is current or the ticket no longer waits.
func (s *Store) LocateIfOld(ctx context.Context, tx pgx.Tx, t TicketInfo, newID string) (*event.Command, error) {
	if t.Status != queue.StatusWaiting || t.Current(s.Now()) || newID == "" {
		return nil, nil
	}
	cmd, err := s.requestCommand(ctx, tx, t, event.CommandLocateTicket, newID)
	return &cmd, err
}
