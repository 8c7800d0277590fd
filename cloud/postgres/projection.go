package postgres

import (
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// ticketPatch is the net effect of a run of events on one ticket, folded in seq
// order in memory so a batch costs a few set-based statements instead of one
// statement per event (the projection is what limits ingest throughput).
type ticketPatch struct {
	issued   *event.Issued
	issuedAt time.Time
	status   string
	service  *string
	// counterSet/executiveSet say the run assigned them (possibly to NULL).
	counterSet, executiveSet bool
	counter                  *int32
	executive                *string
	calledAt, startedAt      *time.Time
	endedAt, queuedAt        *time.Time
	outcome                  *string
	// Recalls end as GREATEST(recalls + recallAdd, recallFloor): the
	// composition of each ticket.recalled's GREATEST(recalls + 1, recall).
	recallAdd, recallFloor int32
	lastSeq                int64
	// place is the last position and estimate the agent relayed in the run
	// (transferred, requeued, near), at placeAt (the event's branch time).
	place   *event.Place
	placeAt time.Time
}

type sessionPatch struct {
	name    string
	counter int32
	state   string
	reason  string
	since   time.Time
}

func ptr[T any](v T) *T { return &v }

// relaysPlace lists the types whose Place the projection keeps.
var relaysPlace = map[event.Type]bool{event.TicketTransferred: true, event.TicketRequeued: true,
	event.TicketNear: true, event.TicketPlaced: true, event.TicketCheckedIn: true, event.TicketSlid: true}

// project queues the projection of a contiguous run of events (in seq order,
// each applied exactly once because only events extending the high-water mark
// reach here). Unknown types are stored and skipped; a payload that does not
// fit the projection (a day that is not a date) is logged and skipped, so one
// bad event never blocks a branch's stream.
//
// fresh says nothing the run inserts can exist yet (the pipelined path,
// under the verified lock of a branch with nothing stored ahead): the ticket
// and executive activity inserts then skip ON CONFLICT's arbiter checks, and
// a unique violation (a stream that contradicts itself) makes the caller take
// the locked path, whose inserts skip such rows as before.
func (s *EventStore) project(pb *pgx.Batch, branch string, run []event.Event, fresh bool) {
	rows := &projRows{fresh: fresh}
	s.fold(pb, rows, branch, run)
	rows.queue(pb)
}

// projRows are the set-based rows of one or more branches' runs, written by
// queue with one statement per table (tickets inserted, tickets updated,
// executive activity, executive sessions) for all of them.
type projRows struct {
	fresh    bool
	tickets  ticketRows
	acts     activityRows
	sessions sessionRows
}

// queue queues the statements of the rows gathered.
func (r *projRows) queue(pb *pgx.Batch) {
	r.tickets.queue(pb, r.fresh)
	r.acts.queue(pb, r.fresh)
	r.sessions.queue(pb)
}

// fold folds a branch's run (see project) into rows; the statements of rare
// facts (the book's answers, audits, a configuration report or version) are
// queued on pb at once, one per fact.
func (s *EventStore) fold(pb *pgx.Batch, rows *projRows, branch string, run []event.Event) {
	tickets := map[string]*ticketPatch{}
	var order []string
	sessions := map[string]*sessionPatch{}
	var sessionOrder []string
	var configVersion int64
	var report *event.ConfigReport
	var reportSeq uint64
	var reportAt time.Time
	var acts []activity
	get := func(id string) *ticketPatch {
		p, ok := tickets[id]
		if !ok {
			p = &ticketPatch{}
			tickets[id] = p
			order = append(order, id)
		}
		return p
	}
	setCounter := func(p *ticketPatch, c int, exec string, force bool) {
		if c != 0 || force {
			p.counterSet, p.counter = true, nil
			if c != 0 {
				p.counter = ptr(int32(c))
			}
		}
		if exec != "" || force {
			p.executiveSet, p.executive = true, nil
			if exec != "" {
				p.executive = ptr(exec)
			}
		}
	}
	for _, e := range run {
		pl, err := e.Payload()
		if err != nil || pl == nil {
			if err != nil {
				s.log.Warn("event payload not projected", "branch", branch, "seq", e.Seq, "type", e.Type, "err", err)
			}
			continue
		}
		at := e.At
		queueAppointment(pb, branch, e, pl) // the book's answers (projection_appointment.go)
		if a, ok := activityOf(e.Type, pl); ok {
			a.seq, a.at = int64(e.Seq), at
			acts = append(acts, a)
		}
		if d, ok := pl.(*event.Called); ok && d.Chosen {
			queueBranchAudit(pb, branch, e.Type, at, pl)
		}
		if r := event.TicketOf(pl); r != nil {
			if d, ok := pl.(*event.Issued); ok {
				if _, err := time.Parse(time.DateOnly, d.Day); err != nil || d.Ticket == "" {
					s.log.Warn("ticket.issued without a valid day or id; not projected", "branch", branch, "seq", e.Seq)
					continue
				}
			}
			p := get(r.Ticket)
			p.lastSeq = int64(e.Seq)
			if st := e.Type.Status(); st != "" && e.Type != event.TicketIssued {
				p.status = string(st)
			}
			switch d := pl.(type) {
			case *event.Issued:
				if p.issued == nil && p.status == "" {
					p.issued, p.issuedAt, p.status = d, at, string(e.Type.Status())
				}
			case *event.Called:
				if e.Type == event.TicketRecalled {
					setCounter(p, d.Counter, d.Executive, false)
					p.recallAdd++
					p.recallFloor = max(p.recallFloor+1, int32(d.Recall))
				} else {
					// called_at is the call, as at the agent (a recall calls the
					// same person again: his wait ended at the call).
					p.calledAt = ptr(at)
					setCounter(p, d.Counter, d.Executive, true)
				}
			case *event.Completed:
				p.outcome, p.endedAt = ptr(outcomeOf(d)), ptr(at)
			case *event.Transferred:
				p.service = ptr(d.To)
				if !d.QueuedAt.IsZero() {
					p.queuedAt = ptr(d.QueuedAt)
				}
				setCounter(p, 0, "", true)
			case *event.Cancelled:
				p.endedAt = ptr(at)
			case *event.TicketRef:
				switch e.Type {
				case event.TicketStarted:
					p.startedAt = ptr(at)
					setCounter(p, d.Counter, d.Executive, false)
				case event.TicketNoShow, event.TicketAbandoned:
					p.endedAt = ptr(at)
				case event.TicketRequeued:
					setCounter(p, 0, "", true)
				}
			}
			// The place the branch relays (an issue carries its own in its
			// fields).
			if r.Place != nil && relaysPlace[e.Type] {
				p.place, p.placeAt = r.Place, at
			}
			continue
		}
		switch d := pl.(type) {
		case *event.Session:
			if e.Type == event.ExecutiveLoggedOut {
				queueBranchAudit(pb, branch, e.Type, at, pl) // audited only when the manager signed him out
			}
			sp, ok := sessions[d.Executive]
			if !ok {
				sp = &sessionPatch{}
				sessions[d.Executive] = sp
				sessionOrder = append(sessionOrder, d.Executive)
			}
			state, reason := "available", ""
			switch e.Type {
			case event.ExecutivePaused:
				state, reason = "paused", d.Reason
			case event.ExecutiveLoggedOut:
				state = "logged_out"
			}
			if d.Name != "" {
				sp.name = d.Name
			}
			sp.counter, sp.state, sp.reason, sp.since = int32(d.Counter), state, reason, at
		case *event.ConfigRef:
			configVersion = max(configVersion, d.Version)
		case *event.SignIn, *event.Admin, *event.Manager:
			queueBranchAudit(pb, branch, e.Type, at, pl)
		case *event.ConfigReport:
			report, reportSeq, reportAt = d, e.Seq, at // the last of the run is what the branch runs
		}
	}

	rows.tickets.add(branch, tickets, order)
	rows.acts.add(branch, acts)
	for _, id := range sessionOrder {
		rows.sessions.add(branch, id, sessions[id])
	}
	if report != nil {
		s.queueConfigReport(pb, branch, reportSeq, reportAt, report)
	}
	if configVersion > 0 {
		pb.Queue(`UPDATE branch_sync SET config_version = GREATEST(config_version, $2) WHERE branch = $1`,
			branch, configVersion)
	}
}

// sessionRows are executive sessions' new states, one per branch and executive.
type sessionRows struct {
	branches, execs, names, states, reasons []string
	counters                                []int32
	since                                   []time.Time
}

func (r *sessionRows) add(branch, exec string, sp *sessionPatch) {
	r.branches, r.execs, r.names = append(r.branches, branch), append(r.execs, exec), append(r.names, sp.name)
	r.counters, r.states, r.reasons = append(r.counters, sp.counter), append(r.states, sp.state), append(r.reasons, sp.reason)
	r.since = append(r.since, sp.since)
}

func (r *sessionRows) queue(pb *pgx.Batch) {
	if len(r.execs) == 0 {
		return
	}
	pb.Queue(`INSERT INTO executive_sessions (branch, executive, name, counter, state, reason, since)
		SELECT u.branch, u.executive, u.name, u.counter, u.state, u.reason, u.since
		FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::timestamptz[])
			AS u(branch, executive, name, counter, state, reason, since)
		ON CONFLICT (branch, executive) DO UPDATE SET
			name = COALESCE(NULLIF(EXCLUDED.name, ''), executive_sessions.name),
			counter = EXCLUDED.counter, state = EXCLUDED.state, reason = EXCLUDED.reason, since = EXCLUDED.since`,
		r.branches, r.execs, r.names, r.counters, r.states, r.reasons, r.since)
}

// insertTickets inserts the tickets issued in runs with their folded state.
const insertTickets = `INSERT INTO tickets (branch, id, day, origin_service, number, service, priority, status,
			token, rut_hash, channel, position, quoted_typical_s, quoted_upper_s, queued_at, created_at,
			counter, executive, recalls, outcome, called_at, started_at, ended_at, last_seq,
			printed, place_position, place_typical_s, place_upper_s, place_at)
		SELECT u.branch, u.id, u.day::date, u.origin, u.number, u.service, u.priority, u.status,
			NULLIF(u.token, ''), NULLIF(u.rut, ''), u.channel, u.position, u.qt, u.qu, u.queued, u.created,
			u.counter, u.exec, u.recalls, u.outcome, u.called, u.started, u.ended, u.seq,
			u.printed, u.pp, u.pt, u.pu, u.pat
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[],
			$9::text[], $10::text[], $11::text[], $12::int[], $13::int[], $14::int[], $15::timestamptz[],
			$16::timestamptz[], $17::int[], $18::text[], $19::int[], $20::text[], $21::timestamptz[],
			$22::timestamptz[], $23::timestamptz[], $24::bigint[], $25::text[], $26::int[], $27::int[],
			$28::int[], $29::timestamptz[])
			AS u(branch, id, day, origin, number, service, priority, status, token, rut, channel, position, qt, qu,
				queued, created, counter, exec, recalls, outcome, called, started, ended, seq,
				printed, pp, pt, pu, pat)`

// ticketRows are the tickets issued in runs (inserted with their folded
// state) and the other tickets the runs moved (updated), one statement each.
type ticketRows struct {
	nBranch, nIDs, nDays, nOrigin, nService, nPriority, nStatus, nToken, nRUT, nChannel []string
	nPrinted                                                                            []string
	nNumber, nPosition, nQT, nQU, nRecalls, nPP, nPT, nPU                               []int32
	nPAt                                                                                []time.Time
	nCounter                                                                            []*int32
	nExec, nOutcome                                                                     []*string
	nQueued, nCreated                                                                   []time.Time
	nCalled, nStarted, nEnded                                                           []*time.Time
	nSeq                                                                                []int64

	uBranch, uIDs                   []string
	uStatus, uService, uExec        []*string
	uOutcome                        []*string
	uPP, uPT, uPU                   []*int32
	uPAt                            []*time.Time
	uCounterSet, uExecSet           []bool
	uCounter                        []*int32
	uCalled, uStarted, uEnded, uQAt []*time.Time
	uAdd, uFloor                    []int32
	uSeq                            []int64
}

// add adds a branch's folded tickets, in order.
func (r *ticketRows) add(branch string, tickets map[string]*ticketPatch, order []string) {
	for _, id := range order {
		p := tickets[id]
		if p.status == "" && p.place == nil {
			continue
		}
		if d := p.issued; d != nil {
			queued := d.QueuedAt
			if queued.IsZero() {
				queued = p.issuedAt
			}
			if p.queuedAt != nil {
				queued = *p.queuedAt
			}
			service := d.Service
			if p.service != nil {
				service = *p.service
			}
			priority := d.Priority
			if priority == "" {
				priority = string(queue.Normal)
			}
			outcome := p.outcome
			if outcome == nil {
				outcome = ptr("")
			}
			r.nBranch = append(r.nBranch, branch)
			r.nIDs, r.nDays, r.nOrigin, r.nService = append(r.nIDs, id), append(r.nDays, d.Day), append(r.nOrigin, d.Service), append(r.nService, service)
			r.nPriority, r.nStatus, r.nToken = append(r.nPriority, priority), append(r.nStatus, p.status), append(r.nToken, d.Token)
			r.nRUT, r.nChannel = append(r.nRUT, d.RUTHash), append(r.nChannel, d.Channel)
			r.nNumber, r.nPosition = append(r.nNumber, int32(d.Number)), append(r.nPosition, int32(d.Position))
			r.nQT, r.nQU = append(r.nQT, int32(d.QuotedTypical)), append(r.nQU, int32(d.QuotedUpper))
			r.nRecalls = append(r.nRecalls, max(p.recallAdd, p.recallFloor))
			r.nCounter, r.nExec, r.nOutcome = append(r.nCounter, p.counter), append(r.nExec, p.executive), append(r.nOutcome, outcome)
			r.nQueued, r.nCreated = append(r.nQueued, queued), append(r.nCreated, p.issuedAt)
			r.nCalled, r.nStarted, r.nEnded = append(r.nCalled, p.calledAt), append(r.nStarted, p.startedAt), append(r.nEnded, p.endedAt)
			r.nSeq = append(r.nSeq, p.lastSeq)
			// The printed number as the agent sent it; an old agent's event
			// lacks it, and at issue the service is the origin.
			r.nPrinted = append(r.nPrinted, d.PrintedOr(d.Service))
			place, placeAt := event.Place{Position: d.Position, TypicalS: d.QuotedTypical, UpperS: d.QuotedUpper}, p.issuedAt
			if p.place != nil {
				place, placeAt = *p.place, p.placeAt
			}
			r.nPP, r.nPT, r.nPU = append(r.nPP, int32(place.Position)), append(r.nPT, int32(place.TypicalS)), append(r.nPU, int32(place.UpperS))
			r.nPAt = append(r.nPAt, placeAt)
			continue
		}
		var status *string
		if p.status != "" {
			status = ptr(p.status)
		}
		r.uBranch = append(r.uBranch, branch)
		r.uIDs, r.uStatus, r.uService = append(r.uIDs, id), append(r.uStatus, status), append(r.uService, p.service)
		if p.place != nil {
			r.uPP, r.uPT, r.uPU = append(r.uPP, ptr(int32(p.place.Position))), append(r.uPT, ptr(int32(p.place.TypicalS))), append(r.uPU, ptr(int32(p.place.UpperS)))
			r.uPAt = append(r.uPAt, ptr(p.placeAt))
		} else {
			r.uPP, r.uPT, r.uPU, r.uPAt = append(r.uPP, nil), append(r.uPT, nil), append(r.uPU, nil), append(r.uPAt, nil)
		}
		r.uCounterSet, r.uCounter = append(r.uCounterSet, p.counterSet), append(r.uCounter, p.counter)
		r.uExecSet, r.uExec = append(r.uExecSet, p.executiveSet), append(r.uExec, p.executive)
		r.uCalled, r.uStarted, r.uEnded, r.uQAt = append(r.uCalled, p.calledAt), append(r.uStarted, p.startedAt), append(r.uEnded, p.endedAt), append(r.uQAt, p.queuedAt)
		r.uOutcome, r.uAdd, r.uFloor, r.uSeq = append(r.uOutcome, p.outcome), append(r.uAdd, p.recallAdd), append(r.uFloor, p.recallFloor), append(r.uSeq, p.lastSeq)
	}
}

// queue inserts the new tickets and updates the others, one statement each.
// fresh: see project.
func (r *ticketRows) queue(pb *pgx.Batch, fresh bool) {
	if len(r.nIDs) > 0 {
		q := insertTickets
		if !fresh {
			q += ` ON CONFLICT DO NOTHING`
		}
		pb.Queue(q,
			r.nBranch, r.nIDs, r.nDays, r.nOrigin, r.nNumber, r.nService, r.nPriority, r.nStatus, r.nToken, r.nRUT, r.nChannel,
			r.nPosition, r.nQT, r.nQU, r.nQueued, r.nCreated, r.nCounter, r.nExec, r.nRecalls, r.nOutcome, r.nCalled,
			r.nStarted, r.nEnded, r.nSeq, r.nPrinted, r.nPP, r.nPT, r.nPU, r.nPAt)
	}
	if len(r.uIDs) > 0 {
		// The update joins its few rows to tickets by the primary key: one
		// index probe each. Without statistics (a new table; or small, where
		// the planner counts its pages as read from disk) the planner hashes
		// the rows and scans the whole table instead, once per statement, so
		// the update costs the table's size; joins other than nested loops are
		// off for this statement only (the settings are put back after it).
		pb.Queue(noHashJoins)
		pb.Queue(updateTickets,
			r.uBranch, r.uIDs, r.uStatus, r.uService, r.uCounterSet, r.uCounter, r.uExecSet, r.uExec, r.uCalled, r.uStarted,
			r.uEnded, r.uQAt, r.uOutcome, r.uAdd, r.uFloor, r.uSeq, r.uPP, r.uPT, r.uPU, r.uPAt)
		pb.Queue(joinsBack)
	}
}

// updateTickets updates the tickets the runs moved with their folded
// changes.
const updateTickets = `UPDATE tickets t SET status = COALESCE(u.status, t.status),
			service = COALESCE(u.service, t.service),
			counter = CASE WHEN u.counter_set THEN u.counter ELSE t.counter END,
			executive = CASE WHEN u.exec_set THEN u.exec ELSE t.executive END,
			called_at = COALESCE(u.called, t.called_at),
			started_at = COALESCE(u.started, t.started_at),
			ended_at = COALESCE(u.ended, t.ended_at),
			queued_at = COALESCE(u.queued, t.queued_at),
			outcome = COALESCE(u.outcome, t.outcome),
			recalls = GREATEST(t.recalls + u.add, u.floor),
			last_seq = u.seq,
			place_position = COALESCE(u.pp, t.place_position),
			place_typical_s = COALESCE(u.pt, t.place_typical_s),
			place_upper_s = COALESCE(u.pu, t.place_upper_s),
			place_at = COALESCE(u.pat, t.place_at)
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bool[], $6::int[], $7::bool[], $8::text[],
			$9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::timestamptz[], $13::text[],
			$14::int[], $15::int[], $16::bigint[], $17::int[], $18::int[], $19::int[], $20::timestamptz[])
			AS u(branch, id, status, service, counter_set, counter, exec_set, exec, called, started, ended, queued,
				outcome, add, floor, seq, pp, pt, pu, pat)
		WHERE t.branch = u.branch AND t.id = u.id`

// noHashJoins makes the planner plan the next statement for its own
// arguments and the table as it is now (a generic plan made while tickets was
// small, kept as it grows, would scan it whole for every row) and leaves it
// only nested loops; it keeps the settings it had, which joinsBack puts back.
const (
	noHashJoins = `SELECT set_config('ticketero.enable_hashjoin', current_setting('enable_hashjoin'), true),
		set_config('ticketero.enable_mergejoin', current_setting('enable_mergejoin'), true),
		set_config('ticketero.plan_cache_mode', current_setting('plan_cache_mode'), true),
		set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true),
		set_config('plan_cache_mode', 'force_custom_plan', true)`
	joinsBack = `SELECT set_config('enable_hashjoin', current_setting('ticketero.enable_hashjoin'), true),
		set_config('enable_mergejoin', current_setting('ticketero.enable_mergejoin'), true),
		set_config('plan_cache_mode', current_setting('ticketero.plan_cache_mode'), true)`
)
