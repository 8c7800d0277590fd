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
// "<branch>/<executive>", ip the LAN address of a sign-in attempt.
func queueBranchAudit(pb *pgx.Batch, branch string, typ event.Type, at time.Time, pl any) {
	var actor *event.Actor
	var target, detail, ip string
	switch d := pl.(type) {
	case *event.SignIn:
		actor, target, ip = d.Actor, branch+"/"+d.Executive, d.Address
		detail = fmt.Sprintf("counter=%d failures=%d", d.Counter, d.Failures)
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
	default:
		return
	}
	who := branch
	if a := actor.String(); a != "" {
		who += ": " + a
	}
	pb.Queue(`INSERT INTO hq_audit (at, actor, action, target, detail, ip) VALUES ($1, $2, $3, $4, $5, $6)`,
		at, who, string(typ), target, detail, ip)
}
