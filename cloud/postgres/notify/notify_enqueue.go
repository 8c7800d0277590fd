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

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/shared/event"
)

// QueueJobs prepares, in the ingest's pipeline pb (its transaction, after
// the projection of events), the notification jobs caused by the events of
// runs (one per branch), so a job exists if and only if its event is stored.
// Every insert is ON CONFLICT DO NOTHING on (branch, ticket, kind, call_no,
// chat): re-projection never sends twice.
//
// The cloud keeps no ordering logic: the people ahead and the estimates it
// tells are the branch's own figures, relayed in the events (issued,
// transferred, ticket.near), and the number is the printed one.
//
// The lookups ride in the ingest's pipeline (no round trip of their own),
// two statements for all the runs' branches together; the new links and the
// jobs are written (Write) only when a chat or a number follows one of the
// tickets.
func (s *Store) QueueJobs(pb *pgx.Batch, runs []postgres.BranchRun) postgres.JobsPlan {
	p := &jobsPlan{store: s}
	// The tickets whose recipients are read, each once (their chats; their
	// SMS numbers only where an event may go by SMS); and the new tickets to
	// link (by a token scanned before, by a consented RUT).
	// Each event adds at most one key to each array: sized once (the
	// hook runs for every batch; growing them cost more than their keys).
	total := 0
	for _, run := range runs {
		total += len(run.Events)
	}
	k := recipientKeys{chatBranches: make([]string, 0, total), chatTickets: make([]string, 0, total),
		smsBranches: make([]string, 0, total), smsTickets: make([]string, 0, total)}
	nl := newLinks{size: total}
	for _, run := range runs {
		if bp := s.branchJobs(run, &k, &nl); bp != nil {
			p.branches = append(p.branches, bp)
		}
	}
	if len(p.branches) == 0 {
		return nil
	}
	// Mark commands applied; find the chats new tickets are to be linked to
	// and read the chats and numbers of every ticket of the runs that may
	// be told something.
	// The statements below run once per ingest with new arrays each time: a
	// custom plan per execution costs more than running them (their generic
	// plans probe the same indexes). The setting (SET LOCAL) lasts to the
	// ingest's commit, and only these statements and Write's follow it. The
	// tokens' locks, taken by the same statement, serialize this with a
	// concurrent /start of the same token (LinkToken): one of the two always
	// sees the other's link (the recipients' read below is a later
	// statement, so its snapshot is taken after the locks). The ingest takes
	// them shared, LinkToken exclusive: an ingest waits only for a /start of
	// one of its tokens (and a /start for the ingests of its token), never
	// for another ingest, so they need no order (no cycle can form) and cost
	// no sort.
	if len(nl.tokens) > 0 {
		pb.Queue(`SELECT set_config('plan_cache_mode', 'force_generic_plan', true),
			(SELECT count(pg_advisory_xact_lock_shared($1, hashtext(t))) FROM unnest($2::text[]) AS t)`,
			tokenLockClass, nl.tokens)
	} else {
		pb.Queue(`SET LOCAL plan_cache_mode = force_generic_plan`)
	}
	for _, bp := range p.branches {
		if len(bp.requests) > 0 {
			pb.Queue(`UPDATE branch_commands SET status = 'applied', applied_at = $3
				WHERE id = ANY($1) AND branch = $2 AND status = 'pending'`, bp.requests, bp.branch, s.Now())
		}
		if len(bp.phones) > 0 {
			bp.phoneStmts = s.queuePhones(pb, bp.branch, bp.phoneSeqs, bp.phones)
		}
	}
	pb.Queue(recipientsRead, nl.tokens, nl.ruts, k.chatBranches, k.chatTickets, k.smsBranches, k.smsTickets)
	p.links = nl
	return p
}

// recipientKeys are the tickets whose recipients the read looks up: every
// one's Telegram chats, and the SMS number of those with an event that may
// go by SMS.
type recipientKeys struct {
	chatBranches, chatTickets []string
	smsBranches, smsTickets   []string
}

// Kinds of the recipients' read's rows.
const (
	recipientNewLink = "link" // a chat to link the new tickets of a token to
	recipientRUT     = "rut"  // a chat to link the new tickets of a RUT's lookup to
	recipientChat    = "chat" // a chat linked to the ticket
	recipientSMS     = "sms"  // the ticket's SMS recipient
)

// recipientsRead is the one statement that reads the recipients of the
// tickets: the chats new tickets are to be linked to (by the token scanned
// before, by a consented RUT), the Telegram chats linked to the others and
// the SMS numbers given at the kiosk, for the tickets with an event that may
// go by SMS. It only reads: the new links are inserted by Write, which runs
// a statement only when there is something to write (each new link has its
// confirmation too). One text whatever the keys (an empty array costs a
// part next to nothing): each text is prepared and planned once per
// connection, which for a few variants cost more than the parts they left
// out (BenchmarkIngestHookCost, whose connections are new).
//
// The tokens and the RUTs are looked up by one index scan each over the
// array (= ANY), which returns the key found (Read gives each new ticket
// with that key the chat): a join of the unnested arrays (ticket, key) to
// the table costs about twice as much, a nested loop restarted per key,
// and the per-ticket arrays it needs are not sent. The chats and numbers
// of the older tickets are keyed by (branch, ticket), which an array scan
// cannot probe pairwise.
const recipientsRead = `SELECT '` + recipientNewLink + `'::text, ''::text, l.token, l.chat_id
		FROM telegram_token_links l WHERE l.token = ANY($1::text[])
	UNION ALL
	SELECT '` + recipientRUT + `'::text, '', c.rut_lookup, c.id
		FROM telegram_chats c WHERE c.rut_lookup = ANY($2::text[])
	UNION ALL
	SELECT '` + recipientChat + `'::text, l.branch, l.ticket, l.chat_id
		FROM unnest($3::text[], $4::text[]) AS k(branch, ticket)
		JOIN telegram_ticket_chats l ON l.branch = k.branch AND l.ticket = k.ticket
	UNION ALL
	SELECT '` + recipientSMS + `'::text, p.branch, p.ticket, p.chat_id
		FROM unnest($5::text[], $6::text[]) AS k(branch, ticket)
		JOIN sms_ticket_phones p ON p.branch = k.branch AND p.ticket = k.ticket
		JOIN telegram_chats c ON c.id = p.chat_id WHERE c.opted_out_at IS NULL`

// newLinks are the new tickets to link: by the token scanned before
// (tokens, with their branches and IDs) and by a consented RUT (ruts, the
// keyed lookups).
type newLinks struct {
	tBranches, tIDs, tokens []string
	rBranches, rIDs, ruts   []string
	size                    int // the arrays' capacity, set at their first key
}

// token adds new ticket id of branch, to link by token.
func (nl *newLinks) token(branch, id, token string) {
	if nl.tokens == nil {
		nl.tBranches, nl.tIDs, nl.tokens = make([]string, 0, nl.size), make([]string, 0, nl.size), make([]string, 0, nl.size)
	}
	nl.tBranches, nl.tIDs, nl.tokens = append(nl.tBranches, branch), append(nl.tIDs, id), append(nl.tokens, token)
}

// rut adds new ticket id of branch, to link by a RUT's lookup.
func (nl *newLinks) rut(branch, id, lookup string) {
	if nl.ruts == nil {
		nl.rBranches, nl.rIDs, nl.ruts = make([]string, 0, nl.size), make([]string, 0, nl.size), make([]string, 0, nl.size)
	}
	nl.rBranches, nl.rIDs, nl.ruts = append(nl.rBranches, branch), append(nl.rIDs, id), append(nl.ruts, lookup)
}

var _ postgres.JobWriter = (*Store)(nil)

// branchJobs gathers what the jobs of one branch's run need; the tickets
// whose recipients are read are added to k, the new tickets to link to nl.
// It is nil when no event of the run may cause a job.
func (s *Store) branchJobs(run postgres.BranchRun, k *recipientKeys, nl *newLinks) *branchJobs {
	bp := &branchJobs{branch: run.Branch, events: run.Events}
	// What is known of each ticket of the run (one map for the three
	// flags: the hook runs for every batch, most of whose tickets no chat
	// follows).
	const (
		seen     = 1 << iota // its chats are read, or it is unlinked
		unlinked             // see below
		bySMS                // its SMS number is read
	)
	flags := make(map[string]uint8, len(run.Events))
	// A ticket this transaction inserts (run.NewTickets) has no link but
	// those this ingest makes (its token's or RUT's, found by the
	// recipients' read itself) and no number but one given at its issue:
	// the read does not look its chats and numbers up.
	linkable, read := false, 0 // read: the tickets whose chats are read
	// note adds t's keys to the read, once each (one map lookup): its
	// chats, and its SMS number when sms (only a kind that goes by SMS,
	// smsKinds, is sent to a number: the numbers of the other tickets are
	// not read).
	note := func(t string, sms bool) {
		f := flags[t]
		g := f | seen
		if f&(seen|unlinked) == 0 {
			k.chatBranches, k.chatTickets = append(k.chatBranches, run.Branch), append(k.chatTickets, t)
			read++
		}
		if sms && f&(bySMS|unlinked) == 0 {
			g |= bySMS
			k.smsBranches, k.smsTickets = append(k.smsBranches, run.Branch), append(k.smsTickets, t)
		}
		if g != f {
			flags[t] = g
		}
	}
	for _, e := range run.Events {
		if e.Type == event.FeedbackGiven {
			// An answer on the counter tablet: stored with the visit (Write).
			if pl, err := e.Payload(); err == nil {
				if d, ok := pl.(*event.Feedback); ok && d.Ticket != "" {
					bp.tablet = append(bp.tablet, d)
					note(d.Ticket, false)
				}
			}
			continue
		}
		if e.Type == event.TicketCompleted {
			// No notice, but the survey after service (Write).
			if pl, err := e.Payload(); err == nil {
				if r := event.TicketOf(pl); r != nil {
					bp.completed = append(bp.completed, r.Ticket)
					note(r.Ticket, false)
				}
			}
			continue
		}
		n := e.Type.Notice()
		if n == event.NoticeNone {
			continue
		}
		pl, err := e.Payload()
		r := event.TicketOf(pl)
		if err != nil || r == nil {
			continue // malformed: the ingest already logged it
		}
		if d, ok := pl.(*event.Issued); ok && run.NewTickets && d.PhoneSealed == "" && flags[d.Ticket]&seen == 0 {
			flags[d.Ticket] |= unlinked
		}
		note(r.Ticket, smsKinds[string(n)])
		var request string
		switch d := pl.(type) {
		case *event.Issued:
			if d.PhoneSealed != "" {
				bp.phoneSeqs = append(bp.phoneSeqs, int64(e.Seq))
				bp.phones = append(bp.phones, phoneIn{ticket: d.Ticket, sealed: d.PhoneSealed})
			}
			if d.Token != "" {
				nl.token(run.Branch, d.Ticket, d.Token)
				linkable = true
			}
			if d.RUTHash != "" {
				nl.rut(run.Branch, d.Ticket, s.hash.Lookup("rut", d.RUTHash))
				linkable = true
			}
		case *event.Cancelled:
			request = d.Request
		case *event.Placed:
			request = d.Request
		}
		if request != "" {
			bp.requests = append(bp.requests, request)
		}
	}
	if read == 0 && !linkable {
		return nil
	}
	return bp
}

// jobsPlan is what QueueJobs queued for one ingest.
type jobsPlan struct {
	store    *Store
	branches []*branchJobs
	links    newLinks // the new tickets to link, by token and by RUT
	// linkBranches, linkTickets and linkChats (parallel) are the links the
	// read found for the new tickets; Write inserts them.
	linkBranches, linkTickets []string
	linkChats                 []int64
}

// branchJobs is one branch's share of a jobsPlan.
type branchJobs struct {
	branch     string
	events     []event.Event
	requests   []string
	phoneSeqs  []int64
	phones     []phoneIn
	phoneStmts int // statements queued by queuePhones
	completed  []string
	tablet     []*event.Feedback
	chats      map[string][]int64
	sms        map[string]int64
}

// Read reads the token locks, the command updates and the chats of the
// tickets from the ingest's pipeline.
func (p *jobsPlan) Read(br pgx.BatchResults) error {
	if _, err := br.Exec(); err != nil {
		return fmt.Errorf("notify: plan mode and token locks: %w", err)
	}
	by := make(map[string]*branchJobs, len(p.branches))
	for _, bp := range p.branches {
		by[bp.branch] = bp
		if len(bp.requests) > 0 {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("notify: commands applied at %s: %w", bp.branch, err)
			}
		}
		for range bp.phoneStmts {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("notify: phones at %s: %w", bp.branch, err)
			}
		}
	}
	rows, err := br.Query()
	if err != nil {
		return fmt.Errorf("notify: recipients: %w", err)
	}
	defer rows.Close()
	// The new tickets of each token and RUT the read found, looked up only
	// when it found one.
	var byToken, byRUT map[string][]int
	for rows.Next() {
		var kind, b, t string
		var c int64
		if err := rows.Scan(&kind, &b, &t, &c); err != nil {
			return fmt.Errorf("notify: recipients: %w", err)
		}
		switch kind {
		case recipientNewLink:
			if byToken == nil {
				byToken = keyIndex(p.links.tokens)
			}
			for _, i := range byToken[t] {
				p.newLink(by[p.links.tBranches[i]], p.links.tIDs[i], c)
			}
		case recipientRUT:
			if byRUT == nil {
				byRUT = keyIndex(p.links.ruts)
			}
			for _, i := range byRUT[t] {
				p.newLink(by[p.links.rBranches[i]], p.links.rIDs[i], c)
			}
		case recipientSMS:
			if bp := by[b]; bp != nil {
				if bp.sms == nil {
					bp.sms = map[string]int64{}
				}
				bp.sms[t] = c
			}
		default:
			if bp := by[b]; bp != nil {
				bp.addChat(t, c)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("notify: recipients: %w", err)
	}
	return nil
}

// keyIndex maps each key of keys to its indexes.
func keyIndex(keys []string) map[string][]int {
	m := make(map[string][]int, len(keys))
	for i, k := range keys {
		m[k] = append(m[k], i)
	}
	return m
}

// newLink links new ticket t of bp's branch to chat c (Write inserts the
// link). A token and a RUT may name the same chat, and a ticket stored
// before (the locked path) may be linked already: the insert is ON CONFLICT
// DO NOTHING and the chat counted once.
func (p *jobsPlan) newLink(bp *branchJobs, t string, c int64) {
	if bp != nil && bp.addChat(t, c) {
		p.linkBranches, p.linkTickets, p.linkChats = append(p.linkBranches, bp.branch), append(p.linkTickets, t), append(p.linkChats, c)
	}
}

// addChat adds chat c to ticket t's chats unless it is there; it reports
// whether it was added.
func (bp *branchJobs) addChat(t string, c int64) bool {
	if slices.Contains(bp.chats[t], c) {
		return false
	}
	if bp.chats == nil {
		bp.chats = map[string][]int64{}
	}
	bp.chats[t] = append(bp.chats[t], c)
	return true
}

// Write links the new tickets to their chats, then inserts, in one
// statement, the jobs of the events whose ticket a chat follows (by
// Telegram) or, with no chat, whose ticket has a number (by SMS, for the
// kinds that go by SMS), and the surveys of completed linked tickets.
func (p *jobsPlan) Write(ctx context.Context, tx pgx.Tx) error {
	if err := p.link(ctx, tx); err != nil {
		return err
	}
	var jb jobBatch
	for _, bp := range p.branches {
		if err := bp.write(ctx, tx, p.store, &jb); err != nil {
			return err
		}
	}
	if err := jb.insert(ctx, tx); err != nil {
		return fmt.Errorf("notify: jobs: %w", err)
	}
	return nil
}

// link inserts the new links the read found, before anything that reads
// them (the surveys of tickets completed in the same batch).
func (p *jobsPlan) link(ctx context.Context, tx pgx.Tx) error {
	if len(p.linkTickets) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO telegram_ticket_chats (branch, ticket, chat_id)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT DO NOTHING`,
		p.linkBranches, p.linkTickets, p.linkChats); err != nil {
		return fmt.Errorf("notify: link tickets: %w", err)
	}
	return nil
}

// write records the branch's tablet answers and adds its jobs to jb.
func (bp *branchJobs) write(ctx context.Context, tx pgx.Tx, s *Store, jb *jobBatch) error {
	if len(bp.tablet) > 0 {
		if err := s.recordTablet(ctx, tx, bp.branch, bp.tablet); err != nil {
			return err
		}
	}
	if len(bp.chats) == 0 && len(bp.sms) == 0 {
		return nil
	}
	jb.chats, jb.sms = bp.chats, bp.sms
	for _, e := range bp.events {
		pl, err := e.Payload()
		r := event.TicketOf(pl)
		if err != nil || r == nil {
			continue
		}
		if _, ok := bp.sms[r.Ticket]; !ok && len(bp.chats[r.Ticket]) == 0 {
			continue
		}
		m, callNo, ok := noticeMsg(e, pl)
		if !ok {
			continue
		}
		jb.to(bp.branch, r.Ticket, string(e.Type.Notice()), callNo, m)
	}
	if len(bp.completed) > 0 && len(bp.chats) > 0 {
		if err := s.askSurveys(ctx, tx, bp.branch, bp.completed, jb); err != nil {
			return err
		}
	}
	return nil
}

// noticeMsg is what event e (with its decoded payload pl) tells the customer,
// and the call number that tells a notice of the same kind from another;
// false when it tells nothing.
func noticeMsg(e event.Event, pl any) (Msg, int64, bool) {
	switch d := pl.(type) {
	case *event.Issued:
		return ConfirmMsg(d.PrintedOr(d.Service), d.Position-1, d.QuotedTypical, d.QuotedUpper), 0, true
	case *event.Called:
		if e.Type == event.TicketRecalled {
			return Msg{Key: "telegram.recalled", Args: []Arg{S(printed(d.TicketRef)), S(strconv.Itoa(d.Counter))}},
				int64(d.Recall), true
		}
		return CalledMsg(printed(d.TicketRef), d.Counter, d.ExecutiveName), int64(d.Recall), true
	case *event.Transferred:
		to := d.ToName // the branch's name of the service; older agents send only its code
		if to == "" {
			to = d.To
		}
		if d.Place != nil {
			return Msg{Key: "telegram.transferred_place", Args: []Arg{S(printed(d.TicketRef)), S(to),
				S(strconv.Itoa(d.Place.Ahead())), WaitArg(d.Place.TypicalS, d.Place.UpperS)}}, int64(e.Seq), true
		}
		return Msg{Key: "telegram.transferred", Args: []Arg{S(printed(d.TicketRef)), S(to)}}, int64(e.Seq), true
	case *event.Near:
		if d.Place == nil {
			return Msg{}, 0, false
		}
		return Msg{Key: "telegram.prenotice", Args: []Arg{S(printed(d.TicketRef)), S(strconv.Itoa(d.Place.Ahead()))}}, 0, true
	case *event.Placed:
		if d.Place == nil {
			return Msg{}, 0, false
		}
		return Msg{Key: "telegram.placed", Args: []Arg{S(printed(d.TicketRef)), S(strconv.Itoa(d.Place.Ahead())),
			WaitArg(d.Place.TypicalS, d.Place.UpperS)}}, int64(e.Seq), true
	case *event.Cancelled:
		return Msg{Key: "telegram.cancelled", Args: []Arg{S(printed(d.TicketRef))}}, 0, true
	case *event.CheckedIn: // a remote ticket's customer is at the branch
		if d.Place == nil {
			return Msg{Key: "telegram.checked_in", Args: []Arg{S(printed(d.TicketRef))}}, 0, true
		}
		return Msg{Key: "telegram.checked_in_place", Args: []Arg{S(printed(d.TicketRef)), S(strconv.Itoa(d.Place.Ahead())),
			WaitArg(d.Place.TypicalS, d.Place.UpperS)}}, 0, true
	case *event.Slid: // unchecked at the front: moved back, holds until HoldUntil
		mins := max(1, int((d.HoldUntil.Sub(e.At)+time.Minute-1)/time.Minute))
		ahead := 0
		if d.Place != nil {
			ahead = d.Place.Ahead()
		}
		return Msg{Key: "telegram.slid", Args: []Arg{S(printed(d.TicketRef)), S(strconv.Itoa(ahead)), S(strconv.Itoa(mins))}},
			int64(d.Slides), true
	case *event.TicketRef:
		switch e.Type.Notice() {
		case event.NoticeNoShow:
			return Msg{Key: "telegram.no_show", Args: []Arg{S(printed(*d))}}, 0, true
		case event.NoticeDayClosed:
			return Msg{Key: "telegram.day_closed", Args: []Arg{S(printed(*d))}}, 0, true
		case event.NoticeExpired:
			return Msg{Key: "telegram.expired", Args: []Arg{S(printed(*d))}}, 0, true
		}
	}
	return Msg{}, 0, false
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
func WaitArg(typicalS, upperS int) Arg { return cloud.WaitArg(typicalS, upperS) }

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
	// chats and sms are the recipients of the batch's tickets: its Telegram
	// chats, and the SMS recipient of a number given at the kiosk.
	chats map[string][]int64
	sms   map[string]int64

	branch, ticket, kind, channel []string
	callNo, chat                  []int64
	params                        []string
}

// to writes a ticket's message to its Telegram chats or, with none, to its
// SMS recipient for the kinds that go by SMS.
func (b *jobBatch) to(branch, ticket, kind string, callNo int64, m Msg) {
	if cs := b.chats[ticket]; len(cs) > 0 {
		for _, c := range cs {
			b.add(branch, ticket, kind, ChannelTelegram, callNo, c, m)
		}
		return
	}
	if c, ok := b.sms[ticket]; ok && smsKinds[kind] {
		b.add(branch, ticket, kind, ChannelSMS, callNo, c, SMSMsg(m))
	}
}

func (b *jobBatch) add(branch, ticket, kind, channel string, callNo, chat int64, m Msg) {
	raw, _ := json.Marshal(m)
	b.branch = append(b.branch, branch)
	b.ticket = append(b.ticket, ticket)
	b.kind = append(b.kind, kind)
	b.channel = append(b.channel, channel)
	b.callNo = append(b.callNo, callNo)
	b.chat = append(b.chat, chat)
	b.params = append(b.params, string(raw))
}

func (b *jobBatch) insert(ctx context.Context, tx pgx.Tx) error {
	if len(b.branch) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `WITH ins AS (INSERT INTO telegram_jobs (branch, ticket, kind, call_no, chat_id, params, channel)
		SELECT u.b, u.t, u.k, u.n, u.c, u.p::jsonb, u.ch
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[]) AS u(b, t, k, n, c, p, ch)
		ON CONFLICT DO NOTHING RETURNING 1)
		`+wakeWorkers, b.branch, b.ticket, b.kind, b.callNo, b.chat, b.params, b.channel)
	return err
}

// EnqueueEvents writes the notification jobs of events in tx on their own,
// outside an ingest's pipeline (what QueueJobs does in it): two round trips, three when it links a ticket.
func (s *Store) EnqueueEvents(ctx context.Context, tx pgx.Tx, branch string, events []event.Event) error {
	pb := &pgx.Batch{}
	plan := s.QueueJobs(pb, []postgres.BranchRun{{Branch: branch, Events: events}})
	if plan == nil {
		return nil
	}
	br := tx.SendBatch(ctx, pb)
	if err := plan.Read(br); err != nil {
		_ = br.Close()
		return err
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("notify: enqueue at %s: %w", branch, err)
	}
	return plan.Write(ctx, tx)
}
