package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// EventStore ingests branch events and keeps their sync state.
type EventStore struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	// Now is the cloud's clock (injected for tests).
	Now func() time.Time
	// jobs writes the notification jobs of the events each ingest applies,
	// in the ingest's own transaction (nil: none). See WithJobs.
	jobs JobWriter
	// changes announces the committed branches on cloud.ChangesChannel, one
	// NOTIFY per interval (see WithChangeFlush).
	changes *ChangeFlusher

	// marks remembers, per branch, the sync state this store last committed or
	// read under the lock. It is only a prediction that lets the common batch
	// (the next seqs, nothing stored ahead) lock the sync row in the same
	// pipeline as its writes; the row read under the lock decides, and a
	// prediction proven stale (another replica ingested the branch) rolls the
	// transaction back and takes the locked path.
	marksMu sync.Mutex
	marks   map[string]syncMark
}

type syncMark struct{ applied, max int64 }

var (
	_ cloud.Ingester            = (*EventStore)(nil)
	_ cloud.Quarantiner         = (*EventStore)(nil)
	_ cloud.GroupIngester       = (*EventStore)(nil)
	_ cloud.RejectRecorder      = (*EventStore)(nil)
	_ cloud.StatusRecorder      = (*EventStore)(nil)
	_ cloud.StatusBatchRecorder = (*EventStore)(nil)
	_ cloud.SyncReader          = (*EventStore)(nil)
)

// JobWriter writes the notification jobs caused by the events an ingest
// applies, inside the ingest's transaction: a job exists if and only if its
// event is stored, and is written once. Its statements ride in the ingest's
// own pipeline, so a batch that causes no job costs no extra round trip.
// notify.Store implements it.
type JobWriter interface {
	// QueueJobs queues on pb (the ingest's pipeline, after the projection of
	// events) what the jobs of the runs' events need; each run is one
	// branch's events in seq order (a branch once), each event handed over
	// exactly once, its payload decoded. It returns nil when it queued
	// nothing.
	QueueJobs(pb *pgx.Batch, runs []BranchRun) JobsPlan
}

// BranchRun is one branch's events applied by an ingest, in seq order.
type BranchRun struct {
	Branch string
	Events []event.Event
	// NewTickets says every ticket issued in Events was inserted by this
	// transaction (none of them existed: the pipelined path inserts tickets
	// without ON CONFLICT), so no other transaction can have linked it to a
	// chat or a number: only what this transaction writes can.
	NewTickets bool
}

// JobsPlan finishes the jobs QueueJobs prepared.
type JobsPlan interface {
	// Read reads the results of the statements QueueJobs queued, in their
	// order, from the ingest's pipeline.
	Read(br pgx.BatchResults) error
	// Write writes the jobs in tx, after the pipeline is closed. An error
	// rolls the ingest's transaction back.
	Write(ctx context.Context, tx pgx.Tx) error
}

// Option configures an EventStore.
type Option func(*EventStore)

// WithJobs makes the ingest write notification jobs through w.
func WithJobs(w JobWriter) Option { return func(s *EventStore) { s.jobs = w } }

// WithChangeFlush sets how long the store gathers changed branches before it
// announces them in one NOTIFY (<= 0: DefaultChangeFlush).
func WithChangeFlush(every time.Duration) Option {
	return func(s *EventStore) {
		if every > 0 {
			s.changes.every = every
		}
	}
}

// NewEventStore wraps pool. Close announces the changes still pending.
func NewEventStore(pool *pgxpool.Pool, log *slog.Logger, opts ...Option) *EventStore {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &EventStore{pool: pool, log: log.With("component", "ingest"), Now: time.Now, marks: map[string]syncMark{},
		changes: NewChangeFlusher(pool, cloud.ChangesChannel, DefaultChangeFlush, log)}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Close announces the changes not yet flushed; changes recorded later are
// announced at once. Call it before closing the pool.
func (s *EventStore) Close() error { return s.changes.Close() }

func (s *EventStore) mark(branch string) (syncMark, bool) {
	s.marksMu.Lock()
	defer s.marksMu.Unlock()
	m, ok := s.marks[branch]
	return m, ok
}

func (s *EventStore) setMark(branch string, m syncMark, ok bool) {
	s.marksMu.Lock()
	defer s.marksMu.Unlock()
	if s.marks == nil {
		s.marks = map[string]syncMark{}
	}
	if ok {
		s.marks[branch] = m
	} else {
		delete(s.marks, branch)
	}
}

// projectChunk bounds how many stored-ahead events are read back at once when a
// gap fills.
const projectChunk = 2000

// Ingest stores b in one transaction: new events ON CONFLICT (branch, seq) DO
// NOTHING, then projects, in seq order, every stored event that extends the
// contiguous high-water mark (events beyond a gap wait in the events table until
// it fills) and updates branch_sync; after the commit the branch is announced
// on ticketero_changes with the other changes of the flush interval. Two
// replicas never project the same branch at once: the branch_sync row is locked
// for the transaction. The result's Applied is safe to ack once this returns.
// An event whose data the database refuses (SQLSTATE class 22) is
// quarantined on its own and the rest is stored: see IngestRefused.
func (s *EventStore) Ingest(ctx context.Context, b event.Batch) (cloud.IngestResult, error) {
	return s.IngestRefused(ctx, b, nil)
}

// ingest is Ingest without the quarantine of data errors.
func (s *EventStore) ingest(ctx context.Context, b event.Batch) (cloud.IngestResult, error) {
	if m, ok := s.mark(b.Branch); ok && m.max <= m.applied {
		fresh := b.Events
		for len(fresh) > 0 && fresh[0].Seq <= uint64(m.applied) {
			fresh = fresh[1:]
		}
		// A batch with duplicates takes the locked path, which checks them.
		if len(fresh) == len(b.Events) && contiguousFrom(fresh, uint64(m.applied)+1) {
			res, done, err := s.ingestNext(ctx, []nextPart{{branch: b.Branch, fresh: fresh, m: m}})
			if err != nil {
				return cloud.IngestResult{Branch: b.Branch}, err
			}
			if done {
				return res[0], nil
			}
		}
	}
	res, err := s.ingestLocked(ctx, b, false)
	if errors.Is(err, errContradicts) {
		// A row the batch should be the first to write exists: store it again
		// with the inserts that skip such rows.
		return s.ingestLocked(ctx, b, true)
	}
	return res, err
}

// errContradicts says an ingest that inserted without ON CONFLICT met a
// row it should have been the first to write (a unique violation: a stream
// that contradicts itself, a row written by hand); nothing was kept.
var errContradicts = errors.New("a row the batch should be the first to write exists")

// IngestGroup stores the branches' batches of bs (one Handle call's) at
// once: those that continue their branch right after its predicted sync
// state, with nothing refused, nothing stored ahead and no duplicate, go in
// one transaction with one statement per table for all of them
// (ingestNext); the others, and all of them when that transaction cannot be
// kept (another replica moved a branch, a row the prediction said could not
// exist, a data error, a deadlock, ...), go through IngestRefused one branch
// at a time, as they would alone. Each branch's result is what IngestRefused
// would give it.
func (s *EventStore) IngestGroup(ctx context.Context, bs []cloud.BranchBatch) ([]cloud.IngestResult, []error) {
	res, errs := make([]cloud.IngestResult, len(bs)), make([]error, len(bs))
	times := map[string]int{}
	for _, bb := range bs {
		times[bb.Batch.Branch]++
	}
	var parts []nextPart
	var at []int
	alone := make([]bool, len(bs))
	for i, bb := range bs {
		alone[i] = true
		if len(bb.Refused) > 0 || times[bb.Batch.Branch] > 1 {
			continue
		}
		m, ok := s.mark(bb.Batch.Branch)
		if !ok || m.max > m.applied || !contiguousFrom(bb.Batch.Events, uint64(m.applied)+1) {
			continue
		}
		fresh := slices.Clone(bb.Batch.Events) // the caller's events stay as they are
		for j := range fresh {
			_, _ = fresh[j].Decode() // once, as IngestRefused does
		}
		parts, at, alone[i] = append(parts, nextPart{branch: bb.Batch.Branch, fresh: fresh, m: m}), append(at, i), false
	}
	if len(parts) > 0 {
		got, done, err := s.ingestNext(ctx, parts)
		if done && err == nil {
			for k, i := range at {
				res[i] = got[k]
			}
		} else {
			if err != nil {
				s.log.Warn("branches' batches not stored together; storing them one by one", "branches", len(parts), "err", err)
			}
			for _, i := range at {
				alone[i] = true
			}
		}
	}
	for i, bb := range bs {
		if alone[i] {
			res[i], errs[i] = s.IngestRefused(ctx, bb.Batch, bb.Refused)
		}
	}
	return res, errs
}

// contiguousFrom says evs is non-empty and exactly the seqs first, first+1, ...
func contiguousFrom(evs []event.Event, first uint64) bool {
	for i, e := range evs {
		if e.Seq != first+uint64(i) {
			return false
		}
	}
	return len(evs) > 0
}

// lockSyncRows locks the sync rows of branches known to exist, in the byte
// order of their names (the column's collation is "C"): every transaction
// that locks several takes them in that one order, so two such transactions
// (other workers, other replicas) never wait for each other in a cycle.
const lockSyncRows = `SELECT branch, applied_seq, max_seq FROM branch_sync WHERE branch = ANY($1::text[])
	ORDER BY branch FOR UPDATE`

// advanceSync moves branches' sync state after their batches. The change is
// announced after the commit (ChangeFlusher), never by a NOTIFY in the
// transaction: a NOTIFY serialises commits cluster-wide.
const advanceSync = `UPDATE branch_sync s SET applied_seq = u.applied, max_seq = u.max, last_event_at = u.at,
		last_ingest_at = $5
	FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::timestamptz[]) AS u(branch, applied, max, at)
	WHERE s.branch = u.branch`

// insertEvents stores events (of one or more branches); a seq already stored
// is skipped. Where none can be, copyEvents inserts them.
const insertEvents = `INSERT INTO events (branch, seq, id, type, at, data)
	SELECT u.branch, u.seq, u.id, u.type, u.at, u.data::jsonb
	FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::text[])
		AS u(branch, seq, id, type, at, data)
	ON CONFLICT (branch, seq) DO NOTHING`

// uniqueViolation reports a unique violation (SQLSTATE 23505).
func uniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// eventCols are the columns of events to insert, of one or more branches.
// datas are the events' own bytes (the COPY sends them as they are; no
// copy as a string).
type eventCols struct {
	branches, ids, types []string
	datas                [][]byte
	seqs                 []int64
	ats                  []time.Time
}

func (c *eventCols) add(branch string, evs []event.Event) {
	n := len(evs)
	c.branches, c.ids, c.types = slices.Grow(c.branches, n), slices.Grow(c.ids, n), slices.Grow(c.types, n)
	c.datas, c.seqs, c.ats = slices.Grow(c.datas, n), slices.Grow(c.seqs, n), slices.Grow(c.ats, n)
	for _, e := range evs {
		c.branches, c.seqs, c.ids = append(c.branches, branch), append(c.seqs, int64(e.Seq)), append(c.ids, e.ID)
		c.types, c.ats, c.datas = append(c.types, string(e.Type)), append(c.ats, e.At), append(c.datas, []byte(e.Data))
	}
}

// args are insertEvents' arguments.
func (c *eventCols) args() []any {
	datas := make([]string, len(c.datas))
	for i, d := range c.datas {
		datas[i] = string(d)
	}
	return []any{c.branches, c.seqs, c.ids, c.types, c.ats, datas}
}

// copyEvents inserts the events of c with COPY, where no seq of theirs can
// be stored yet (under the sync rows' lock, nothing stored beyond the
// applied seq): no arbiter checks, the rows written a page at a time and
// encoded a chunk at a time (an INSERT's arrays are encoded whole, in one
// growing buffer, then copied into the pipeline's). A stored seq is a
// unique violation; the database refuses bad data as the INSERT would
// (SQLSTATE class 22).
func copyEvents(ctx context.Context, tx pgx.Tx, c *eventCols) (int64, error) {
	row := make([]any, 6) // each row is encoded before the next is asked for
	return tx.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"branch", "seq", "id", "type", "at", "data"},
		pgx.CopyFromSlice(len(c.seqs), func(i int) ([]any, error) {
			row[0], row[1], row[2], row[3], row[4], row[5] = c.branches[i], c.seqs[i], c.ids[i], c.types[i], c.ats[i], c.datas[i]
			return row, nil
		}))
}

// syncCols are branches' new sync states (advanceSync).
type syncCols struct {
	branches        []string
	applied, maxSeq []int64
	lastAt          []time.Time
}

func (c *syncCols) add(branch string, applied, maxSeq int64, lastAt time.Time) {
	c.branches, c.applied, c.maxSeq, c.lastAt = append(c.branches, branch), append(c.applied, applied), append(c.maxSeq, maxSeq), append(c.lastAt, lastAt)
}

// nextPart is one branch of a pipelined ingest on its predicted sync state
// m: fresh continues the branch right after m.applied (non-empty,
// contiguous, payloads decoded) and nothing is stored ahead.
type nextPart struct {
	branch string
	fresh  []event.Event
	m      syncMark
}

// ingestNext is Ingest's common case, for one branch or several (a Handle
// call's): the sync rows are locked, the events copied (copyEvents), then
// the projections, the sync updates and the job writer's statements go in
// one pipeline, one statement per table for all the branches (BEGIN, lock,
// COPY, pipeline, COMMIT: six round trips, the COPY's two). The rows read
// under the lock must equal the predictions, or nothing is written
// (rollback) and done is false: the caller stores the branches one by one.
// res is in the order of parts.
func (s *EventStore) ingestNext(ctx context.Context, parts []nextPart) (res []cloud.IngestResult, done bool, err error) {
	// The pipeline is built (projections folded, columns encoded) before the
	// transaction begins: no connection is held during that work.
	parts = slices.Clone(parts)
	order := make([]int, len(parts))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(parts[a].branch, parts[b].branch) })
	names := make([]string, len(parts))
	var evs eventCols
	var adv syncCols
	rows := &projRows{fresh: true}
	runs := make([]BranchRun, len(parts))
	pb := &pgx.Batch{}
	for k, i := range order {
		p := parts[i]
		names[k] = p.branch
		evs.add(p.branch, p.fresh)
		last := p.fresh[len(p.fresh)-1]
		adv.add(p.branch, int64(last.Seq), max(p.m.max, int64(last.Seq)), last.At)
		runs[k] = BranchRun{Branch: p.branch, Events: p.fresh, NewTickets: true}
	}
	for k, i := range order {
		s.fold(pb, rows, names[k], parts[i].fresh)
	}
	rows.queue(pb)
	pb.Queue(advanceSync, adv.branches, adv.applied, adv.maxSeq, adv.lastAt, s.Now())
	ours := pb.Len()
	plan := s.queueJobs(pb, runs)

	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return nil, false, fmt.Errorf("postgres: ingest %s: begin: %w", strings.Join(names, ","), err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// The sync rows first: nothing is written on a stale prediction.
	stale, err := s.checkMarks(ctx, tx, names, parts)
	if err != nil {
		return nil, false, fmt.Errorf("postgres: ingest %s: lock: %w", strings.Join(names, ","), err)
	}
	if stale {
		return nil, false, nil
	}
	if _, err = copyEvents(ctx, tx, &evs); err == nil {
		err = finishPipeline(ctx, tx, tx.SendBatch(ctx, pb), ours, plan)
	}
	if uniqueViolation(err) {
		// A row the prediction said could not exist does (a stream that
		// contradicts itself): the locked path's inserts skip such rows.
		for _, p := range parts {
			s.setMark(p.branch, syncMark{}, false)
		}
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("postgres: ingest %s: %w", strings.Join(names, ","), err)
	}
	if err := tx.Commit(ctx); err != nil {
		for _, p := range parts {
			s.setMark(p.branch, syncMark{}, false)
		}
		return nil, false, fmt.Errorf("postgres: ingest %s: commit: %w", strings.Join(names, ","), err)
	}
	res = make([]cloud.IngestResult, len(parts))
	for k, i := range order {
		applied, maxSeq := adv.applied[k], adv.maxSeq[k]
		s.setMark(names[k], syncMark{applied: applied, max: maxSeq}, true)
		s.changes.Changed(names[k])
		res[i] = cloud.IngestResult{Branch: names[k], Stored: len(parts[i].fresh), Applied: uint64(applied), MaxSeq: uint64(maxSeq)}
	}
	return res, true, nil
}

// checkMarks locks the sync rows of names (lockSyncRows) and compares them
// with the parts' predictions; a branch whose row is missing or differs
// loses its prediction, and stale is true.
func (s *EventStore) checkMarks(ctx context.Context, tx pgx.Tx, names []string, parts []nextPart) (stale bool, err error) {
	rows, err := tx.Query(ctx, lockSyncRows, names)
	if err != nil {
		return false, err
	}
	got := make(map[string]syncMark, len(parts))
	for rows.Next() {
		var b string
		var m syncMark
		if err := rows.Scan(&b, &m.applied, &m.max); err != nil {
			rows.Close()
			return false, err
		}
		got[b] = m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	for _, p := range parts {
		if m, ok := got[p.branch]; !ok || m != p.m {
			s.setMark(p.branch, syncMark{}, false)
			stale = true
		}
	}
	return stale, nil
}

// ingestLocked is Ingest in the general case: the sync row is created or
// locked first, then what to write is decided from it. When the batch
// continues the branch right after its applied seq and nothing is stored
// beyond it (a branch's first contact, or the next batch of one this
// replica did not predict), no row the batch inserts can exist yet (the
// sync row's lock keeps other replicas out until the commit): events,
// tickets and executive activity are then inserted without ON CONFLICT's
// arbiter probes, unless checked; a unique violation there returns
// errContradicts, and the caller stores the batch again checked.
func (s *EventStore) ingestLocked(ctx context.Context, b event.Batch, checked bool) (cloud.IngestResult, error) {
	res := cloud.IngestResult{Branch: b.Branch}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return res, fmt.Errorf("postgres: ingest %s: begin: %w", b.Branch, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	// One round trip: create the branch's sync row on first sight (and its
	// branches row), and lock it for the transaction either way.
	var applied, maxSeq int64
	if err := tx.QueryRow(ctx, `WITH s AS (
			INSERT INTO branch_sync (branch) VALUES ($1)
			ON CONFLICT (branch) DO UPDATE SET branch = EXCLUDED.branch
			RETURNING applied_seq, max_seq, (xmax = 0) AS created),
		b AS (INSERT INTO branches (id) SELECT $1 FROM s WHERE s.created ON CONFLICT DO NOTHING)
		SELECT applied_seq, max_seq FROM s`, b.Branch).Scan(&applied, &maxSeq); err != nil {
		return res, fmt.Errorf("postgres: ingest %s: lock: %w", b.Branch, err)
	}

	// Events at or below the high-water mark are duplicates: skip them here,
	// once sure they are the same events (same IDs). Another ID at a stored seq
	// is a box that restarted its sequence: refuse the batch, never drop it.
	fresh := b.Events
	for len(fresh) > 0 && fresh[0].Seq <= uint64(applied) {
		fresh = fresh[1:]
	}
	if dups := b.Events[:len(b.Events)-len(fresh)]; len(dups) > 0 {
		var dc eventCols
		dc.add(b.Branch, dups)
		dseqs, dids := dc.seqs, dc.ids
		var first int64
		err := tx.QueryRow(ctx, `SELECT coalesce(min(e.seq), 0) FROM events e
			JOIN unnest($2::bigint[], $3::text[]) AS u(seq, id) ON e.branch = $1 AND e.seq = u.seq
			WHERE e.id <> u.id`, b.Branch, dseqs, dids).Scan(&first)
		if err != nil {
			return res, fmt.Errorf("postgres: ingest %s: check duplicates: %w", b.Branch, err)
		}
		if first != 0 {
			return res, &event.DecodeError{Reason: event.RejectSeqConflict, Detail: fmt.Sprintf(
				"seq %d is stored with another event ID: the box restarted its sequence (replaced or wiped "+
					"without `ticketero-agent restore --resume`); cloud applied_seq %d", first, applied)}
		}
	}
	s.setMark(b.Branch, syncMark{applied: applied, max: maxSeq}, true)
	if len(fresh) == 0 {
		res.Applied, res.MaxSeq = uint64(applied), uint64(maxSeq)
		if maxSeq > applied {
			res.Gap = uint64(applied) + 1
		}
		return res, nil // nothing to write; commit not needed
	}

	n := len(fresh)
	var cols eventCols
	cols.add(b.Branch, fresh)
	newMax := max(maxSeq, cols.seqs[n-1])
	pb := &pgx.Batch{}
	// Common case (nothing stored ahead, the batch starts right after the
	// mark): the insert rides in the same pipeline as the projections.
	common := maxSeq <= applied && fresh[0].Seq == uint64(applied)+1
	bare := common && !checked // no seq beyond applied is stored: see above
	switch {
	case bare:
		n, err := copyEvents(ctx, tx, &cols)
		if err != nil {
			if uniqueViolation(err) {
				return res, fmt.Errorf("postgres: ingest %s: insert events: %w: %w", b.Branch, errContradicts, err)
			}
			return res, fmt.Errorf("postgres: ingest %s: insert events: %w", b.Branch, err)
		}
		res.Stored = int(n)
	case common:
		pb.Queue(insertEvents, cols.args()...)
	default:
		tag, err := tx.Exec(ctx, insertEvents, cols.args()...)
		if err != nil {
			return res, fmt.Errorf("postgres: ingest %s: insert events: %w", b.Branch, err)
		}
		res.Stored = int(tag.RowsAffected())
	}

	// Project in seq order from applied+1. In the common case (no stored-ahead
	// events, batch starts right after the mark) the batch itself is the input;
	// otherwise read the stored events back.
	next := uint64(applied) + 1
	var lastAt time.Time
	var run []event.Event
	if common {
		for _, e := range fresh {
			if e.Seq != next {
				break
			}
			run = append(run, e)
			lastAt = e.At
			next++
		}
	} else {
		for {
			rows, err := tx.Query(ctx, `SELECT seq, id, type, at, data::text FROM events
				WHERE branch = $1 AND seq >= $2 ORDER BY seq LIMIT $3`, b.Branch, int64(next), projectChunk)
			if err != nil {
				return res, fmt.Errorf("postgres: ingest %s: read ahead: %w", b.Branch, err)
			}
			got, contiguous := 0, true
			for rows.Next() {
				var e event.Event
				var seq int64
				var typ, data string
				if err := rows.Scan(&seq, &e.ID, &typ, &e.At, &data); err != nil {
					rows.Close()
					return res, fmt.Errorf("postgres: ingest %s: scan: %w", b.Branch, err)
				}
				e.Seq, e.Type, e.Data = uint64(seq), event.Type(typ), json.RawMessage(data)
				if e.Seq != next {
					contiguous = false
					break
				}
				run = append(run, e)
				lastAt = e.At
				next++
				got++
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return res, fmt.Errorf("postgres: ingest %s: read ahead: %w", b.Branch, err)
			}
			if !contiguous || got < projectChunk {
				break
			}
		}
	}
	s.project(pb, b.Branch, run, bare)
	newApplied := int64(next - 1)
	if newApplied > applied {
		pb.Queue(advanceSync, []string{b.Branch}, []int64{newApplied}, []int64{newMax}, []time.Time{lastAt}, s.Now())
	} else {
		pb.Queue(`UPDATE branch_sync SET max_seq = $2, last_ingest_at = $3 WHERE branch = $1`, b.Branch, newMax, s.Now())
	}
	ours := pb.Len()
	var plan JobsPlan
	if len(run) > 0 {
		plan = s.queueJobs(pb, []BranchRun{{Branch: b.Branch, Events: run, NewTickets: bare}})
	}
	br := tx.SendBatch(ctx, pb)
	if common && !bare {
		tag, err := br.Exec()
		if err != nil {
			_ = br.Close()
			return res, fmt.Errorf("postgres: ingest %s: insert events: %w", b.Branch, err)
		}
		res.Stored = int(tag.RowsAffected())
		ours--
	}
	if err := finishPipeline(ctx, tx, br, ours, plan); err != nil {
		if bare && uniqueViolation(err) {
			return res, fmt.Errorf("postgres: ingest %s: %w: %w", b.Branch, errContradicts, err)
		}
		return res, fmt.Errorf("postgres: ingest %s: %w", b.Branch, err)
	}
	if err := tx.Commit(ctx); err != nil {
		s.setMark(b.Branch, syncMark{}, false)
		return res, fmt.Errorf("postgres: ingest %s: commit: %w", b.Branch, err)
	}
	s.setMark(b.Branch, syncMark{applied: newApplied, max: newMax}, true)
	s.changes.Changed(b.Branch)
	res.Applied, res.MaxSeq = uint64(newApplied), uint64(newMax)
	if newMax > newApplied {
		res.Gap = uint64(newApplied) + 1
	}
	return res, nil
}

// queueJobs hands the applied events to the job writer, if any.
func (s *EventStore) queueJobs(pb *pgx.Batch, runs []BranchRun) JobsPlan {
	if s.jobs == nil {
		return nil
	}
	return s.jobs.QueueJobs(pb, runs)
}

// finishPipeline reads the rest of an ingest pipeline: n statements of the
// ingest's own (projections, sync state), then the job writer's, whose
// jobs it then writes in tx.
func finishPipeline(ctx context.Context, tx pgx.Tx, br pgx.BatchResults, n int, plan JobsPlan) error {
	for range n {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return fmt.Errorf("project: %w", err)
		}
	}
	if plan != nil {
		if err := plan.Read(br); err != nil {
			_ = br.Close()
			return fmt.Errorf("notification jobs: %w", err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("project: %w", err)
	}
	if plan != nil {
		if err := plan.Write(ctx, tx); err != nil {
			return fmt.Errorf("notification jobs: %w", err)
		}
	}
	return nil
}

// Projections are in projection.go.

// RecordReject stores a refused message for diagnosis.
func (s *EventStore) RecordReject(ctx context.Context, r cloud.Reject) error {
	// What a box sent may not be storable text (NUL, bytes that are not UTF-8).
	_, err := s.pool.Exec(ctx, `INSERT INTO ingest_rejects (branch, topic, reason, detail) VALUES ($1, $2, $3, $4)`,
		cleanText(r.Branch, 200), cleanText(r.Topic, 500), cleanText(r.Reason, 64), cleanText(r.Detail, 500))
	if err != nil {
		return fmt.Errorf("postgres: record reject: %w", err)
	}
	return nil
}

// RecordStatus stores an agent's status received live (see RecordStatusAt).
func (s *EventStore) RecordStatus(ctx context.Context, st event.Status) error {
	return s.RecordStatusAt(ctx, st, false)
}

// RecordStatusAt stores an agent's status unless a newer one is already
// stored. retained says the broker delivered it as a retained message (on the
// cloud's subscribe), so it may be old: it then dates nothing by the cloud's
// clock. A live status dates the branch: an online one is its last sign of
// life and measures its clock skew; an offline one (the last will, whose own
// time is the session's start) is when it went offline.
func (s *EventStore) RecordStatusAt(ctx context.Context, st event.Status, retained bool) error {
	return s.RecordStatuses(ctx, []cloud.StatusUpdate{{Status: st, Retained: retained}})
}

// RecordStatuses records sts as RecordStatusAt does, in one transaction (one
// commit for all): the statuses in branch order, so that two replicas
// recording the same statuses lock the sync rows in the same order, then the
// branches rows.
func (s *EventStore) RecordStatuses(ctx context.Context, sts []cloud.StatusUpdate) error {
	if len(sts) == 0 {
		return nil
	}
	sorted := slices.Clone(sts)
	slices.SortStableFunc(sorted, func(a, b cloud.StatusUpdate) int { return strings.Compare(a.Status.Branch, b.Status.Branch) })
	now := s.Now().UTC()
	pb := &pgx.Batch{}
	var branches []string
	for _, u := range sorted {
		recv := u.Received.UTC()
		if u.Received.IsZero() {
			recv = now
		}
		pb.Queue(recordStatus, statusArgs(u.Status, u.Retained, recv)...)
		if len(branches) == 0 || branches[len(branches)-1] != u.Status.Branch {
			branches = append(branches, u.Status.Branch)
		}
	}
	pb.Queue(`INSERT INTO branches (id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, branches)
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return tx.SendBatch(ctx, pb).Close() }); err != nil {
		return fmt.Errorf("postgres: record %d statuses: %w", len(sts), err)
	}
	for _, b := range branches {
		s.changes.Changed(b)
	}
	return nil
}

// recordStatus stores a status unless a newer one is stored (statusArgs).
const recordStatus = `INSERT INTO branch_sync (branch, online, backlog, config_version, agent_version,
			status_at, status_since, agent_last_seq, agent_last_ack, status_received_at, offline_at, clock_skew_ms, service_targets)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $2 THEN $10::timestamptz END,
			CASE WHEN NOT $2 THEN coalesce($10, $11) END, $12, $13)
		ON CONFLICT (branch) DO UPDATE SET online = EXCLUDED.online, backlog = EXCLUDED.backlog,
			config_version = GREATEST(branch_sync.config_version, EXCLUDED.config_version),
			agent_version = EXCLUDED.agent_version, status_at = EXCLUDED.status_at, status_since = EXCLUDED.status_since,
			agent_last_seq = EXCLUDED.agent_last_seq, agent_last_ack = EXCLUDED.agent_last_ack,
			-- A retained online status (the cloud just subscribed) was sent at
			-- its time on the branch's clock: corrected by the known skew, that
			-- is when the branch last gave a sign of life (never after now).
			status_received_at = CASE WHEN NOT EXCLUDED.online THEN branch_sync.status_received_at
				ELSE coalesce($10, LEAST($11, GREATEST(branch_sync.status_received_at,
					EXCLUDED.status_at - coalesce(branch_sync.clock_skew_ms, 0) * interval '1 millisecond'))) END,
			-- Offline since: kept while the branch stays offline (a retained will
			-- delivered again says nothing new); else the live message's arrival,
			-- or the last sign of life the cloud had.
			offline_at = CASE WHEN EXCLUDED.online THEN NULL
				WHEN NOT branch_sync.online AND branch_sync.offline_at IS NOT NULL THEN branch_sync.offline_at
				ELSE coalesce($10, GREATEST(branch_sync.status_received_at, branch_sync.last_ingest_at), $11) END,
			clock_skew_ms = coalesce(EXCLUDED.clock_skew_ms, branch_sync.clock_skew_ms),
			service_targets = CASE WHEN EXCLUDED.service_targets = '{}'::jsonb THEN branch_sync.service_targets
				ELSE EXCLUDED.service_targets END
		WHERE branch_sync.status_at IS NULL
			OR (EXCLUDED.status_since, NOT EXCLUDED.online, EXCLUDED.status_at)
				>= (COALESCE(branch_sync.status_since, branch_sync.status_at), NOT branch_sync.online, branch_sync.status_at)`

// statusArgs are recordStatus's arguments for st arriving at recv.
func statusArgs(st event.Status, retained bool, recv time.Time) []any {
	// Order: a later session wins; within a session the offline status (the
	// last will, whose time is fixed when the session began) comes after every
	// online one; then the status time. Replicas may write out of order.
	since := st.Since
	if since.IsZero() {
		since = st.At
	}
	var received *time.Time
	var skew *int64
	if !retained {
		received = &recv
		if st.Online && !st.At.IsZero() {
			ms := st.At.Sub(recv).Milliseconds()
			skew = &ms
		}
	}
	targets := st.Targets
	if targets == nil {
		targets = map[string]int{}
	}
	return []any{st.Branch, st.Online, st.Backlog, st.ConfigVersion, cleanText(st.AgentVersion, 64), st.At, since,
		int64(st.LastSeq), int64(st.LastAck), received, recv, skew, targets}
}

// BranchSync reads a branch's sync state with its gaps (up to 100 ranges).
// Errors: not_found sync.branch_unknown.
func (s *EventStore) BranchSync(ctx context.Context, branch string) (cloud.BranchSync, error) {
	out := cloud.BranchSync{Branch: branch, Gaps: []cloud.SeqRange{}}
	var applied, maxSeq int64
	err := s.pool.QueryRow(ctx, `SELECT applied_seq, max_seq, last_event_at, last_ingest_at, online, backlog,
		config_version, agent_version, status_at FROM branch_sync WHERE branch = $1`, branch).Scan(
		&applied, &maxSeq, &out.LastEventAt, &out.LastIngestAt, &out.Online, &out.Backlog,
		&out.ConfigVersion, &out.AgentVersion, &out.StatusAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, queue.Errorf(queue.CodeNotFound, "sync.branch_unknown", branch)
	}
	if err != nil {
		return out, fmt.Errorf("postgres: branch sync %s: %w", branch, err)
	}
	out.LastSeq, out.MaxSeq = uint64(applied), uint64(maxSeq)
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM ingest_quarantine WHERE branch = $1`, branch).Scan(&out.Quarantined); err != nil {
		return out, fmt.Errorf("postgres: branch sync %s quarantine: %w", branch, err)
	}
	if out.LastEventAt != nil && out.LastIngestAt != nil {
		out.LagSeconds = max(0, out.LastIngestAt.Sub(*out.LastEventAt).Seconds())
	}
	if maxSeq > applied {
		rows, err := s.pool.Query(ctx, `SELECT seq FROM events WHERE branch = $1 AND seq > $2 ORDER BY seq LIMIT 10000`,
			branch, applied)
		if err != nil {
			return out, fmt.Errorf("postgres: branch sync %s gaps: %w", branch, err)
		}
		seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return out, fmt.Errorf("postgres: branch sync %s gaps: %w", branch, err)
		}
		prev := applied
		for _, q := range seqs {
			if q > prev+1 && len(out.Gaps) < 100 {
				out.Gaps = append(out.Gaps, cloud.SeqRange{From: uint64(prev + 1), To: uint64(q - 1)})
			}
			prev = q
		}
	}
	return out, nil
}
