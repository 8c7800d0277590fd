package postgres

import (
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// Executive activity states as executive_activity stores them: HQ's reports
// sum the time in each per executive and day (idle = signed in, not serving,
// not paused).
const (
	ActivityIdle    = "idle"
	ActivityServing = "serving"
	ActivityPaused  = "paused"
	ActivityOffline = "offline"
)

// activity is one change of an executive's state, from the event at seq.
type activity struct {
	executive, state, reason string
	seq                      int64
	at                       time.Time
}

// activityOf is the change of state an event tells about its executive:
// sessions (signed in, paused with its reason code, resumed, signed out),
// a call, a call back or a start (serving), and the end of his visit
// (completed, no-show, requeued, transferred or parked: idle again).
// Cancellations and day-close abandons are not his visit ending: a cancel
// comes from a waiting or a parked ticket, and the day's close signs him out.
func activityOf(t event.Type, pl any) (activity, bool) {
	var a activity
	switch d := pl.(type) {
	case *event.Session:
		a.executive = d.Executive
		switch t {
		case event.ExecutiveLoggedIn, event.ExecutiveResumed:
			a.state = ActivityIdle
		case event.ExecutivePaused:
			a.state, a.reason = ActivityPaused, d.Code
			if !queue.ValidPauseReason(a.reason) {
				a.reason = queue.PauseOther // free text from older terminals
			}
		case event.ExecutiveLoggedOut:
			a.state = ActivityOffline
		default:
			return a, false
		}
	case *event.Called:
		a.executive, a.state = d.Executive, ActivityServing
	case *event.TicketRef:
		a.executive = d.Executive
		switch t {
		case event.TicketStarted:
			a.state = ActivityServing
		case event.TicketNoShow, event.TicketRequeued:
			a.state = ActivityIdle
		default:
			return a, false
		}
	case *event.Completed:
		a.executive, a.state = d.Executive, ActivityIdle
	case *event.Transferred:
		a.executive, a.state = d.Executive, ActivityIdle
	case *event.Parked:
		a.executive, a.state = d.Executive, ActivityIdle
	default:
		return a, false
	}
	return a, a.executive != ""
}

// insertActivity inserts runs' executive activity rows.
const insertActivity = `INSERT INTO executive_activity (branch, executive, seq, at, state, reason)
		SELECT u.branch, u.executive, u.seq, u.at, u.state, u.reason
		FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::text[], $6::text[])
			AS u(branch, executive, seq, at, state, reason)`

// activityRows are runs' executive activity rows.
type activityRows struct {
	branches, execs, states, reasons []string
	seqs                             []int64
	ats                              []time.Time
}

func (r *activityRows) add(branch string, acts []activity) {
	for _, a := range acts {
		r.branches, r.execs, r.states, r.reasons = append(r.branches, branch), append(r.execs, a.executive), append(r.states, a.state), append(r.reasons, a.reason)
		r.seqs, r.ats = append(r.seqs, a.seq), append(r.ats, a.at)
	}
}

// queue inserts the rows (a replayed event is a no-op by its seq). fresh
// says no row can exist yet (the pipelined path, see project): the insert
// then skips ON CONFLICT's speculative insertion, and a unique violation
// sends the batch to the locked path.
func (r *activityRows) queue(pb *pgx.Batch, fresh bool) {
	if len(r.execs) == 0 {
		return
	}
	q := insertActivity
	if !fresh {
		q += ` ON CONFLICT DO NOTHING`
	}
	pb.Queue(q, r.branches, r.execs, r.seqs, r.ats, r.states, r.reasons)
}

// outcomeOf is a completed visit's outcome codes as tickets.outcome keeps
// them (comma-joined; codes have no comma).
func outcomeOf(d *event.Completed) string { return strings.Join(d.Codes(), ",") }
