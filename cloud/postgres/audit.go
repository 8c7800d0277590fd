package postgres

import (
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ticketero/ticketero/shared/event"
)

// queueBranchAudit writes a branch's security event (a failed sign-in, a
// sign-in wait, a branch-local admin change) to HQ's audit, in the ingest's
// transaction: actor "<branch>: <actor>", action the event type, target
// "<branch>/<executive>", ip the LAN address of a sign-in attempt. The branch
// manager's actions (event.Manager, and an executive.logged_out he made) are
// audited the same way, with the manager as actor.
func queueBranchAudit(pb *pgx.Batch, branch string, typ event.Type, at time.Time, pl any) {
	var actor *event.Actor
	var target, detail, ip string
	switch d := pl.(type) {
	case *event.SignIn:
		actor, target, ip = d.Actor, branch+"/"+d.Executive, d.Address
		detail = fmt.Sprintf("failures=%d", d.Failures)
		if d.Counter != 0 { // a counter sign-in (a manager's is on the branch page)
			detail = fmt.Sprintf("counter=%d %s", d.Counter, detail)
		}
		if d.RetryS > 0 {
			detail += fmt.Sprintf(" retry_s=%d", d.RetryS)
		}
	case *event.Admin:
		actor, target = d.Actor, branch+"/"+d.Executive
		detail = d.Action
		if d.Name != "" {
			detail += " name=" + d.Name
		}
		if len(d.Services) > 0 {
			detail += " services=" + strings.Join(d.Services, ",")
		}
	case *event.Called:
		// An executive called a ticket out of the calling rule's order, with
		// his reason (only those are audited; other calls are the rule's).
		if !d.Chosen {
			return
		}
		actor, target = d.Actor, branch+"/"+d.PrintedOr(d.Service)
		detail = fmt.Sprintf("counter=%d reason=%s", d.Counter, d.Reason)
	case *event.Manager:
		// The branch manager's actions (branch page): the service, the
		// executive and his services for today, or the TV's message.
		actor, target = d.Actor, branch
		var parts []string
		if d.Service != "" {
			parts = append(parts, "service="+d.Service)
		}
		if d.Executive != "" {
			target = branch + "/" + d.Executive
		}
		if len(d.Services) > 0 {
			parts = append(parts, "services="+strings.Join(d.Services, ","))
		}
		if d.Text != "" {
			parts = append(parts, fmt.Sprintf("message_text=%q", d.Text))
		}
		if d.Until != nil {
			parts = append(parts, "shown_until="+d.Until.UTC().Format(time.RFC3339))
		}
		detail = strings.Join(parts, " ")
	case *event.Session:
		// Only a manager signing an executive out is an audited action; the
		// executives' own sign-ins and sign-outs are sessions, not audit.
		if d.Actor == nil || d.Actor.Kind != event.ActorManager {
			return
		}
		actor, target, detail = d.Actor, branch+"/"+d.Executive, fmt.Sprintf("counter=%d", d.Counter)
	default:
		return
	}
	who := branch
	if a := actor.String(); a != "" {
		who += ": " + a
	}
	if actor != nil && actor.Kind == event.ActorManager && ip == "" {
		ip = actor.Address
	}
	pb.Queue(`INSERT INTO hq_audit (at, actor, action, target, detail, ip) VALUES ($1, $2, $3, $4, $5, $6)`,
		at, who, string(typ), target, detail, ip)
}
