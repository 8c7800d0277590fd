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
	}
	if reg != nil {
		reg.MustRegister(m.Events, m.Batches, m.Rejected, m.Latency, m.Lag, m.Acks, m.Gaps, m.Errors)
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
}

// New builds a processor; metrics register on reg (nil: unregistered).
func New(store cloud.Ingester, rejects cloud.RejectRecorder, acker cloud.Acker, reg prometheus.Registerer, log *slog.Logger) *Processor {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Processor{Store: store, Rejects: rejects, Acker: acker, Metrics: NewMetrics(reg),
		Log: log.With("component", "ingest"), Now: time.Now}
}

var _ cloud.Handler = (*Processor)(nil).Handle

// Handle processes messages: each is decoded and validated on its own (a
// refused one is logged, counted and recorded, never acked); the valid batches
// of one branch are merged and stored in one transaction, then acked once. A
// storage failure returns the error (nothing of that branch was stored).
func (p *Processor) Handle(ctx context.Context, msgs ...cloud.Message) error {
	var order []string
	byBranch := map[string][]event.Event{}
	for _, m := range msgs {
		b, ok := p.decode(ctx, m)
		if !ok {
			continue
		}
		if _, seen := byBranch[b.Branch]; !seen {
			order = append(order, b.Branch)
		}
		byBranch[b.Branch] = append(byBranch[b.Branch], b.Events...)
	}
	var errs []error
	for _, branch := range order {
		evs := byBranch[branch]
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].Seq < evs[j].Seq })
		uniq := evs[:0]
		for _, e := range evs {
			if len(uniq) == 0 || uniq[len(uniq)-1].Seq != e.Seq {
				uniq = append(uniq, e)
			}
		}
		if err := p.store(ctx, event.Batch{V: event.Version, Branch: branch, Events: uniq}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (p *Processor) decode(ctx context.Context, m cloud.Message) (event.Batch, bool) {
	b, err := event.DecodeBatch(m.Topic, m.Payload)
	if err == nil {
		return b, true
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
	return event.Batch{}, false
}

func (p *Processor) store(ctx context.Context, b event.Batch) error {
	start := p.Now()
	res, err := p.Store.Ingest(ctx, b)
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
		p.Log.Error("batch not stored", "branch", b.Branch, "seq", b.Events[0].Seq, "events", len(b.Events), "err", err)
		return err
	}
	now := p.Now()
	p.Metrics.Latency.Observe(now.Sub(start).Seconds())
	p.Metrics.Batches.Inc()
	p.Metrics.Events.Add(float64(res.Stored))
	if res.Stored > 0 {
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
