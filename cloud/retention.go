package cloud

import (
	"context"
	"fmt"
	"time"
)

// AuditEntry is one audit record (the hq_audit table the HQ web shows): who, what, when and from where.
type AuditEntry struct {
	ID     int64
	At     time.Time
	Actor  string
	Action string
	Target string
	Detail string
	IP     string
	// Count is how many occurrences an aggregated entry stands for (1 for
	// ordinary entries).
	Count int
}

// Auditor records audit entries.
type Auditor interface {
	// Audit records e (at the auditor's clock when e.At is zero).
	Audit(ctx context.Context, e AuditEntry) error
}

// AnonymiseResult counts the rows an anonymisation run changed.
type AnonymiseResult struct {
	Tickets     int64 // tickets whose rut_hash was cleared
	Events      int64 // events whose data lost rut_hash
	TicketChats int64 // chat-to-ticket links of closed days deleted
	TokenLinks  int64 // scanned-token links of closed days deleted
	Consents    int64 // RUT consents (rut_lookup) unused within the retention, cleared
	// Quarantined: quarantined events (raw, possibly with personal data)
	// older than the retention, deleted.
	Quarantined int64
	// Appointments: bookings and remote joins of days past the retention
	// whose RUT pseudonyms, notes and chat links were cleared, and their
	// spent codes, slot locks and token links deleted.
	Appointments int64
	// Skipped is true when another replica held the run.
	Skipped bool
}

// Total is the number of rows changed.
func (r AnonymiseResult) Total() int64 {
	return r.Tickets + r.Events + r.TicketChats + r.TokenLinks + r.Consents + r.Quarantined + r.Appointments
}

func (r AnonymiseResult) String() string {
	return fmt.Sprintf("tickets=%d events=%d ticket_chats=%d token_links=%d consents=%d quarantined=%d appointments=%d",
		r.Tickets, r.Events, r.TicketChats, r.TokenLinks, r.Consents, r.Quarantined, r.Appointments)
}

// Anonymiser clears personal data older than a retention.
type Anonymiser interface {
	// Anonymise clears, batch rows per statement, the personal data older
	// than days before now: RUT hashes of tickets and events, Telegram links
	// of closed days, unused RUT consents and old quarantined events. Only
	// one caller runs at a time: the others get Skipped. On error the result
	// counts what was changed before it.
	Anonymise(ctx context.Context, now time.Time, days, batch int) (AnonymiseResult, error)
}
