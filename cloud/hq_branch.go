package cloud

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ticketero/ticketero/shared/queue"
)

// BranchInfo is a branch's identity.
type BranchInfo struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Region   string `json:"region"`
	TimeZone string `json:"time_zone"`
}

// QueueRow is a service queue at a branch today.
type QueueRow struct {
	Service      string `json:"service"`
	Name         string `json:"name"`
	Waiting      int    `json:"waiting"`
	LongestWaitS int    `json:"longest_wait_s"`
	TargetWaitS  int    `json:"target_wait_s"`
}

// ExecutiveRow is an executive's live state with his current ticket.
type ExecutiveRow struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Counter int       `json:"counter"`
	State   string    `json:"state"`
	Reason  string    `json:"reason"`
	Since   time.Time `json:"since"`
	Ticket  string    `json:"ticket"` // display number of the ticket he has called or serves
	Status  string    `json:"status"`
}

// TimelineItem is one event in a ticket's life.
type TimelineItem struct {
	Seq  int64     `json:"seq"`
	Type string    `json:"type"`
	At   time.Time `json:"at"`
	// Service is the queue the event names (a transfer's destination), with
	// the name HQ configured for it; Counter and Executive those of a call.
	Service     string `json:"service,omitempty"`
	ServiceName string `json:"service_name,omitempty"`
	Counter     int    `json:"counter,omitempty"`
	Executive   string `json:"executive,omitempty"`
	// ExecutiveName is the executive's name, when known.
	ExecutiveName string `json:"executive_name,omitempty"`
}

// TicketRow is one of the day's tickets with its timeline.
type TicketRow struct {
	ID      string `json:"id"`
	Display string `json:"display"`
	Service string `json:"service"`
	// ServiceName is the service's name as HQ configured it ("" if not).
	ServiceName string `json:"service_name"`
	Priority    string `json:"priority"`
	Status      string `json:"status"`
	Counter     *int   `json:"counter"`
	Executive   string `json:"executive"`
	// ExecutiveName is the executive's name, when known.
	ExecutiveName string     `json:"executive_name"`
	Channel       string     `json:"channel"`
	QueuedAt      time.Time  `json:"queued_at"`
	CalledAt      *time.Time `json:"called_at"`
	StartedAt     *time.Time `json:"started_at"`
	EndedAt       *time.Time `json:"ended_at"`
	// WaitS runs from arrival in the queue to the call (to now while it
	// waits); ServiceS from the start of service to its end (to now while
	// served). Nil when it does not apply (not started, left uncalled).
	WaitS    *int           `json:"wait_s"`
	ServiceS *int           `json:"service_s"`
	Timeline []TimelineItem `json:"timeline"`
}

// BranchDetail is the branch view.
type BranchDetail struct {
	BranchInfo
	Day        string         `json:"day"`
	Queues     []QueueRow     `json:"queues"`
	Executives []ExecutiveRow `json:"executives"`
	Tickets    []TicketRow    `json:"tickets"`
	// Filter is the tickets' query as applied (defaults filled in); Total is
	// how many tickets of the day match it, Pages how many pages they fill.
	Filter TicketFilter `json:"filter"`
	Total  int          `json:"total"`
	Pages  int          `json:"pages"`
	// Quarantined are the branch's latest quarantined events (QuarantinedEvent).
	Quarantined []QuarantinedEvent `json:"quarantined"`
}

// Ticket pages of the branch view: a busy branch issues 600+ tickets a day.
const (
	DefaultPerPage = 50
	MaxPerPage     = 500
	// MaxPage bounds a page number long before its offset could overflow.
	MaxPage = 100000
)

// TicketStatuses are the statuses the branch view can be filtered by, in
// the order of a ticket's life.
var TicketStatuses = []string{
	string(queue.StatusWaiting), string(queue.StatusCalled), string(queue.StatusServing), string(queue.StatusDone),
	string(queue.StatusNoShow), string(queue.StatusCancelled), string(queue.StatusAbandoned),
}

// TicketFilter selects a page of a branch's tickets of a day. Zero fields
// match everything; Page 0 is the first, PerPage 0 is DefaultPerPage.
type TicketFilter struct {
	Day       string `json:"day"`
	Search    string `json:"search,omitempty"` // a ticket number: "C-012", "c12", "12"
	Status    string `json:"status,omitempty"`
	Service   string `json:"service,omitempty"`
	Executive string `json:"executive,omitempty"`
	Page      int    `json:"page"`
	PerPage   int    `json:"per_page"`
}

var ticketSearch = regexp.MustCompile(`^([A-Za-z])?\s*-?\s*0*([0-9]{1,6})$`)

// Normalize fills in defaults and checks the filter. Errors (invalid):
// hq.ticket.search (not a ticket number), hq.ticket.status, hq.page.invalid,
// hq.page.size.
func (f *TicketFilter) Normalize() error {
	f.Search = strings.TrimSpace(f.Search)
	if f.Search != "" {
		if ticketSearch.FindStringSubmatch(f.Search) == nil {
			return queue.Errorf(queue.CodeInvalid, "hq.ticket.search", f.Search)
		}
	}
	if f.Status != "" && !slices.Contains(TicketStatuses, f.Status) {
		return queue.Errorf(queue.CodeInvalid, "hq.ticket.status", f.Status)
	}
	if f.Page == 0 {
		f.Page = 1
	}
	if f.Page < 1 || f.Page > MaxPage {
		return queue.Errorf(queue.CodeInvalid, "hq.page.invalid", strconv.Itoa(f.Page))
	}
	if f.PerPage == 0 {
		f.PerPage = DefaultPerPage
	}
	if f.PerPage < 1 || f.PerPage > MaxPerPage {
		return queue.Errorf(queue.CodeInvalid, "hq.page.size", f.PerPage, MaxPerPage)
	}
	return nil
}

// SearchNumber is the ticket number Search names: its letter (upper case,
// "" when none) and number (0 when Search is empty or not a number).
func (f TicketFilter) SearchNumber() (letter string, number int) {
	m := ticketSearch.FindStringSubmatch(strings.TrimSpace(f.Search))
	if m == nil {
		return "", 0
	}
	number, _ = strconv.Atoi(m[2])
	return strings.ToUpper(m[1]), number
}

// QuarantinedEvent is an event (or an undecodable message) of a branch that
// the ingest refused on its own and kept raw in ingest_quarantine, going on
// past it. Seq is empty when no seq identified it (it may exceed 2^63−1).
type QuarantinedEvent struct {
	ID         int64     `json:"id"`
	Seq        string    `json:"seq"`
	EventID    string    `json:"event_id"`
	Type       string    `json:"type"`
	Reason     string    `json:"reason"`
	Detail     string    `json:"detail"`
	Bytes      int       `json:"bytes"`
	Preview    string    `json:"preview"`
	ReceivedAt time.Time `json:"received_at"`
}

// Choice is an option of a filter: the value a query takes and its label.
type Choice struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// FilterChoices are the services and executives a report or branch view can
// be filtered by.
type FilterChoices struct {
	Services   []Choice `json:"services"`
	Executives []Choice `json:"executives"`
}
