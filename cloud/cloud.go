// Package cloud is the HQ side of Ticketero: the interfaces between the event
// sources (mqtt, sqs), the system of record (postgres), the broker publisher
// (mqtt) and the HTTP server. Each subpackage adapts one dependency and talks to
// its siblings only through these types.
package cloud

import (
	"context"
	"time"

	"github.com/ticketero/ticketero/shared/event"
)

// Message is one message received from a source: the MQTT topic it was
// published on and its payload (an event batch).
type Message struct {
	Topic   string
	Payload []byte
}

// Handler processes messages. A nil error means they are settled (stored, or
// refused for good) and the source may drop them; an error means they could
// not be processed now (database down) and should be redelivered if the source
// can (SQS); MQTT relies on the agent's resend instead. A source may pass
// several messages at once (those queued for the same worker): a branch's
// batches among them are stored in one transaction.
type Handler func(ctx context.Context, msgs ...Message) error

// Source delivers event batches to a Handler until ctx ends.
type Source interface {
	Run(ctx context.Context, h Handler) error
}

// IngestResult is what storing a batch achieved.
type IngestResult struct {
	Branch string
	// Stored is how many events of the batch were new.
	Stored int
	// Applied is the contiguous high-water mark after the commit: every event up
	// to it is stored and projected. It is what the cloud acks.
	Applied uint64
	// Gap, when non-zero, is the first missing seq (events beyond it wait).
	Gap uint64
	// MaxSeq is the highest seq stored for the branch.
	MaxSeq uint64
	// Quarantined are the events this call put in quarantine (refused at
	// decoding, or refused by the database as data); their seqs count as done.
	Quarantined []event.Refused
}

// Ingester stores a decoded batch idempotently and projects it in seq order, in
// one transaction. Errors are internal (database) errors: the batch is not
// stored and must not be acked.
type Ingester interface {
	Ingest(ctx context.Context, b event.Batch) (IngestResult, error)
}

// Quarantiner is an Ingester that also keeps refused events in quarantine
// (raw, for inspection) so that one bad event never blocks a branch.
type Quarantiner interface {
	// IngestRefused is Ingest with the events of the batch refused on their
	// own at decoding: they are quarantined, and those with a seq are counted
	// as done so the ack moves past them. An event the database refuses as data
	// (SQLSTATE class 22) is quarantined too; other errors are internal.
	IngestRefused(ctx context.Context, b event.Batch, refused []event.Refused) (IngestResult, error)
	// Quarantine keeps what no seq places in the stream (a message that could
	// not be decoded): stored once per branch and content. It returns how many
	// were new (not resends).
	Quarantine(ctx context.Context, branch string, refused []event.Refused) (int, error)
}

// BranchBatch is one branch's share of the messages a Handle call stores:
// its valid events (in seq order, no seq twice) and those refused on their own
// at decoding.
type BranchBatch struct {
	Batch   event.Batch
	Refused []event.Refused
}

// GroupIngester is a Quarantiner that stores several branches' batches at
// once (those of one Handle call), in as few transactions as it can, with
// each branch's outcome exactly what IngestRefused would give it: results
// and errors are per branch, in the order of bs, and every result returned
// without error is committed. One branch's failure (a seq conflict, a data
// error) neither loses nor blocks the others.
type GroupIngester interface {
	Quarantiner
	IngestGroup(ctx context.Context, bs []BranchBatch) ([]IngestResult, []error)
}

// Reject is a message refused at ingest, kept for diagnosis.
type Reject struct {
	Branch string
	Topic  string
	Reason string // event.Reject*
	Detail string
}

// RejectRecorder records refused messages.
type RejectRecorder interface {
	RecordReject(ctx context.Context, r Reject) error
}

// StatusRecorder records a branch agent's retained status (online, backlog).
// retained says the broker delivered it as a retained message (on subscribe),
// so it may be old and must not date the branch by the cloud's clock.
type StatusRecorder interface {
	RecordStatusAt(ctx context.Context, s event.Status, retained bool) error
}

// StatusUpdate is a status as the broker delivered it: Retained as for
// RecordStatusAt, Received the cloud's time it arrived.
type StatusUpdate struct {
	Status   event.Status
	Retained bool
	Received time.Time
}

// StatusBatchRecorder is a StatusRecorder that records several statuses in
// one transaction. Every replica receives every branch's status (about one a
// branch every 30 s), so one commit each would cost as much as the ingest at
// thousands of branches; a broker client gathers them for this instead.
type StatusBatchRecorder interface {
	RecordStatuses(ctx context.Context, sts []StatusUpdate) error
}

// Acker sends the cloud's ack to a branch over the broker.
type Acker interface {
	Ack(ctx context.Context, a event.Ack) error
}

// ConfigPublisher publishes a branch's config snapshot (retained, QoS 1). The
// dashboard's HQ configuration uses it.
type ConfigPublisher interface {
	PublishConfig(ctx context.Context, c event.Config) error
}

// CommandPublisher sends a command to a branch (QoS 1). Telegram's cancel uses it.
type CommandPublisher interface {
	PublishCommand(ctx context.Context, c event.Command) error
}

// BranchSync is the sync state of one branch as the cloud sees it.
type BranchSync struct {
	Branch string `json:"branch"`
	// LastSeq is the contiguous high-water mark stored (and acked).
	LastSeq uint64 `json:"last_seq"`
	// MaxSeq is the highest seq stored; beyond LastSeq means a gap.
	MaxSeq uint64 `json:"max_seq"`
	// Gaps lists the missing seq ranges between LastSeq and MaxSeq.
	Gaps []SeqRange `json:"gaps"`
	// Quarantined counts the branch's events (and undecodable messages) kept
	// in quarantine: refused on their own, the stream went on past them.
	Quarantined int64 `json:"quarantined"`
	// LastEventAt is the branch clock of the newest applied event.
	LastEventAt *time.Time `json:"last_event_at"`
	// LastIngestAt is when the cloud last committed events of the branch.
	LastIngestAt *time.Time `json:"last_ingest_at"`
	// LagSeconds is LastIngestAt - LastEventAt of the newest applied event
	// (how far behind the cloud's copy is), or 0.
	LagSeconds float64 `json:"lag_s"`
	// Online and the rest come from the agent's retained status.
	Online        bool       `json:"online"`
	Backlog       int64      `json:"backlog"`
	ConfigVersion int64      `json:"config_version"`
	AgentVersion  string     `json:"agent_version"`
	StatusAt      *time.Time `json:"status_at"`
}

// SeqRange is an inclusive range of seqs.
type SeqRange struct {
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
}

// SyncReader reads a branch's sync state. Errors: not_found for a branch never
// seen.
type SyncReader interface {
	BranchSync(ctx context.Context, branch string) (BranchSync, error)
}

// ChangesChannel is the PostgreSQL NOTIFY channel on which each replica
// announces, once per flush interval, the branches whose committed batches or
// statuses changed: a payload is one or more branch IDs (or a marker such as
// the alerts' change) joined by ChangesSeparator.
const ChangesChannel = "ticketero_changes"

// ChangesSeparator joins the entries of one ChangesChannel payload (a branch
// ID never contains it).
const ChangesSeparator = ","

// ChangeListener delivers the notifications of ChangesChannel (a branch ID, or
// a marker such as the alerts' change) to one process, one entry of a
// multi-branch payload per notify call.
type ChangeListener interface {
	// Listen calls connected(true) after each (re)connection, notify for
	// each notification and connected(false) when the connection is lost, and
	// reconnects until ctx ends. Notifications sent while disconnected are
	// lost: a caller re-reads everything on connected(true).
	Listen(ctx context.Context, connected func(up bool), notify func(payload string))
}
