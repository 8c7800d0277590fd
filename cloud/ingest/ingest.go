// Package ingest is the cloud's message pipeline, shared by both sources (MQTT
// shared subscription and SQS): decode and validate a batch, refuse what is
// wrong (logged, counted, recorded, never acked), store it through a
// cloud.Ingester, and ack the contiguous high-water mark only after the commit.
package ingest

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
)

// Metrics are the ingest's Prometheus series, registered on one registry per
// process.
type Metrics struct {
	Events   prometheus.Counter
	Batches  prometheus.Counter
	Rejected *prometheus.CounterVec
	Latency  prometheus.Histogram
	Lag      prometheus.Histogram
	Acks     prometheus.Counter
	Gaps     prometheus.Counter
	Errors   prometheus.Counter
	// Quarantined counts events (and undecodable messages) kept in
	// quarantine, by reason; the branch's stream goes on past them.
	Quarantined *prometheus.CounterVec
}

// NewMetrics registers the ingest series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Events: prometheus.NewCounter(prometheus.CounterOpts{Name: "ticketero_cloud_events_ingested_total",
			Help: "Events newly stored by the ingest."}),
		Batches: prometheus.NewCounter(prometheus.CounterOpts{Name: "ticketero_cloud_batches_ingested_total",
			Help: "Batches committed by the ingest (duplicates included)."}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ticketero_cloud_batches_rejected_total",
			Help: "Messages refused at ingest, by reason."}, []string{"reason"}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ticketero_cloud_ingest_seconds",
			Help: "Time to store one batch.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		Lag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ticketero_cloud_event_lag_seconds",
			Help:    "Branch event time to cloud commit, for the newest event of each batch.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 20)}),
		Acks: prometheus.NewCounter(prometheus.CounterOpts{Name: "ticketero_cloud_acks_sent_total",
			Help: "Acks published to branches."}),
		Gaps: prometheus.NewCounter(prometheus.CounterOpts{Name: "ticketero_cloud_gaps_total",
			Help: "Batches committed while a gap held the branch's ack."}),
		Errors: prometheus.NewCounter(prometheus.CounterOpts{Name: "ticketero_cloud_ingest_errors_total",
			Help: "Batches not stored because of a database error (left for redelivery)."}),
		Quarantined: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ticketero_cloud_events_quarantined_total",
			Help: "Events refused on their own and kept in quarantine (the stream goes on past them), by reason."},
			[]string{"reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.Events, m.Batches, m.Rejected, m.Latency, m.Lag, m.Acks, m.Gaps, m.Errors, m.Quarantined)
	}
	return m
}

// Processor handles messages from any source.
type Processor struct {
	Store   cloud.Ingester
	Rejects cloud.RejectRecorder // optional
	Acker   cloud.Acker          // optional: without it nothing is acked
	Metrics *Metrics
	Log     *slog.Logger
	Now     func() time.Time
	// RUT turns sealed RUTs into the cloud's keyed hash before storing
	// (rut.go); New sets it without keys (SetKeys).
	RUT *RUTPseudonyms
}

// New builds a processor; metrics register on reg (nil: unregistered).
func New(store cloud.Ingester, rejects cloud.RejectRecorder, acker cloud.Acker, reg prometheus.Registerer, log *slog.Logger) *Processor {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Processor{Store: store, Rejects: rejects, Acker: acker, Metrics: NewMetrics(reg),
		Log: log.With("component", "ingest"), Now: time.Now, RUT: NewRUTPseudonyms(nil, reg, log)}
}

var _ cloud.Handler = (*Processor)(nil).Handle

// Handle processes messages: each is decoded and validated on its own (a
// refused one is logged, counted and recorded, never acked); the valid batches
// of one branch are merged into one, and the branches' merged batches are
// stored together when the store can (cloud.GroupIngester: one transaction
// for all in the common case), else one transaction per branch; each branch
// is acked once, after the commit, with the ack it would get alone. An
// event refused on its own (bad text, seq, shape) is quarantined when the
// store can (cloud.Quarantiner) and its seq counted as done, so one event
// never blocks a branch. A storage failure returns the error, a *BranchError
// per failed branch (nothing of that branch was stored; FailedBranches names
// them).
func (p *Processor) Handle(ctx context.Context, msgs ...cloud.Message) error {
	var order []string
	byBranch := map[string][]event.Event{}
	refusedBy := map[string][]event.Refused{}
	for _, m := range msgs {
		b, refused, ok := p.decode(ctx, m)
		if !ok {
			continue
		}
		if _, seen := byBranch[b.Branch]; !seen {
			order = append(order, b.Branch)
		}
		byBranch[b.Branch] = append(byBranch[b.Branch], b.Events...)
		refusedBy[b.Branch] = append(refusedBy[b.Branch], refused...)
	}
	bs := make([]cloud.BranchBatch, 0, len(order))
	for _, branch := range order {
		evs := byBranch[branch]
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].Seq < evs[j].Seq })
		uniq := evs[:0]
		seen := map[uint64]bool{}
		for _, e := range evs {
			if len(uniq) == 0 || uniq[len(uniq)-1].Seq != e.Seq {
				uniq = append(uniq, e)
				seen[e.Seq] = true
			}
		}
		// A seq sent valid in one message wins over a refused copy in another.
		var refused []event.Refused
		for _, r := range refusedBy[branch] {
			if r.Seq == 0 || !seen[r.Seq] {
				refused = append(refused, r)
				seen[r.Seq] = r.Seq != 0
			}
		}
		uniq = p.RUT.Apply(branch, uniq)
		bs = append(bs, cloud.BranchBatch{Batch: event.Batch{V: event.Version, Branch: branch, Events: uniq}, Refused: refused})
	}
	var errs []error
	if g, ok := p.Store.(cloud.GroupIngester); ok && len(bs) > 1 {
		// Several branches: stored together (fewer statements and commits),
		// each branch's outcome handled as if it were stored alone.
		start := p.Now()
		results, gerrs := g.IngestGroup(ctx, bs)
		for i, bb := range bs {
			if err := p.settle(ctx, bb.Batch, bb.Refused, start, results[i], gerrs[i]); err != nil {
				errs = append(errs, &BranchError{Branch: bb.Batch.Branch, Err: err})
			}
		}
		return errors.Join(errs...)
	}
	for _, bb := range bs {
		if err := p.store(ctx, bb.Batch, bb.Refused); err != nil {
			errs = append(errs, &BranchError{Branch: bb.Batch.Branch, Err: err})
		}
	}
	return errors.Join(errs...)
}

func (p *Processor) decode(ctx context.Context, m cloud.Message) (event.Batch, []event.Refused, bool) {
	b, refused, err := event.DecodeBatchEvents(m.Topic, m.Payload)
	if err == nil {
		return b, refused, true
	}
	var de *event.DecodeError
	if !errors.As(err, &de) {
		de = &event.DecodeError{Reason: event.RejectMalformed, Detail: err.Error()}
	}
	branch, _, _ := event.ParseTopic(m.Topic)
	p.Metrics.Rejected.WithLabelValues(de.Reason).Inc()
	p.Log.Warn("batch rejected", "branch", branch, "topic", m.Topic, "reason", de.Reason, "detail", de.Detail,
		"bytes", len(m.Payload))
	if p.Rejects != nil {
		if err := p.Rejects.RecordReject(ctx, cloud.Reject{Branch: branch, Topic: m.Topic, Reason: de.Reason, Detail: de.Detail}); err != nil {
			p.Log.Error("record reject", "err", err)
		}
	}
	// Keep what can be identified of it (the branch, the bytes) in
	// quarantine; a message from no branch's events topic is nobody's.
	if q, ok := p.Store.(cloud.Quarantiner); ok && branch != "" && de.Reason != event.RejectTopic {
		r := event.Refused{Raw: m.Payload, Reason: de.Reason, Detail: de.Detail}
		n, err := q.Quarantine(ctx, branch, []event.Refused{r})
		if err != nil {
			p.Log.Error("quarantine message", "branch", branch, "err", err)
		}
		p.Metrics.Quarantined.WithLabelValues(de.Reason).Add(float64(n))
	}
	return event.Batch{}, nil, false
}

func (p *Processor) store(ctx context.Context, b event.Batch, refused []event.Refused) error {
	start := p.Now()
	var res cloud.IngestResult
	var err error
	if q, ok := p.Store.(cloud.Quarantiner); ok {
		res, err = q.IngestRefused(ctx, b, refused)
	} else {
		for _, r := range refused {
			// Without a quarantine the refused events are only reported.
			p.Metrics.Rejected.WithLabelValues(r.Reason).Inc()
			p.Log.Warn("event rejected", "branch", b.Branch, "seq", r.Seq, "reason", r.Reason, "detail", r.Detail)
		}
		if len(b.Events) == 0 {
			return nil
		}
		res, err = p.Store.Ingest(ctx, b)
	}
	return p.settle(ctx, b, refused, start, res, err)
}

// settle counts, logs and acks what storing b with refused (begun at start)
// gave: res, or err. A refusal by the store is settled (nil); another error
// is returned.
func (p *Processor) settle(ctx context.Context, b event.Batch, refused []event.Refused, start time.Time, res cloud.IngestResult, err error) error {
	for _, r := range res.Quarantined {
		// The detail names the fault, never the payload (personal data).
		p.Metrics.Quarantined.WithLabelValues(r.Reason).Inc()
		p.Log.Warn("event quarantined", "branch", b.Branch, "seq", r.Seq, "type", r.Type, "reason", r.Reason)
	}
	var de *event.DecodeError
	if errors.As(err, &de) {
		// Refused by the store (a seq conflict): counted, recorded, never acked,
		// never retried here (the agent's resend brings it back).
		p.Metrics.Rejected.WithLabelValues(de.Reason).Inc()
		p.Log.Error("batch refused", "branch", b.Branch, "reason", de.Reason, "detail", de.Detail)
		if p.Rejects != nil {
			if rerr := p.Rejects.RecordReject(ctx, cloud.Reject{Branch: b.Branch, Topic: event.EventsTopic(b.Branch),
				Reason: de.Reason, Detail: de.Detail}); rerr != nil {
				p.Log.Error("record reject", "err", rerr)
			}
		}
		return nil
	}
	if err != nil {
		p.Metrics.Errors.Inc()
		p.Log.Error("batch not stored", "branch", b.Branch, "events", len(b.Events), "refused", len(refused), "err", err)
		return err
	}
	now := p.Now()
	p.Metrics.Latency.Observe(now.Sub(start).Seconds())
	p.Metrics.Batches.Inc()
	p.Metrics.Events.Add(float64(res.Stored))
	if res.Stored > 0 && len(b.Events) > 0 {
		p.Metrics.Lag.Observe(max(0, now.Sub(b.Events[len(b.Events)-1].At).Seconds()))
	}
	if res.Gap != 0 {
		p.Metrics.Gaps.Inc()
		p.Log.Warn("gap holds the ack", "branch", b.Branch, "seq", res.Applied, "gap", res.Gap, "max_seq", res.MaxSeq)
	}
	if p.Acker == nil {
		return nil
	}
	ack := event.Ack{V: event.Version, Branch: b.Branch, Seq: res.Applied, Gap: res.Gap}
	if err := p.Acker.Ack(ctx, ack); err != nil {
		// Stored but not acked: the agent resends and the duplicate is acked then.
		p.Log.Warn("ack not sent", "branch", b.Branch, "seq", res.Applied, "err", err)
		return nil
	}
	p.Metrics.Acks.Inc()
	return nil
}
