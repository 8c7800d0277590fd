// Package sqs is the fleet-scale event source (aws-sdk-go-v2 service/sqs): an
// AWS IoT rule routes every branch's events topic to an SQS standard queue and
// the cloud replicas consume it instead of subscribing on MQTT.
//
// Message body format: what the IoT rule
//
//	SELECT *, topic() AS topic FROM 'ticketero/v1/branches/+/events'
//
// produces, i.e. the batch JSON of the MQTT payload with one extra top-level
// field "topic" holding the MQTT topic it was published on:
//
//	{"v":1,"branch":"SCL-001","events":[...],"topic":"ticketero/v1/branches/SCL-001/events"}
//
// The batch decoder ignores unknown fields, so the body is itself the payload;
// the topic is checked against the batch's branch as on MQTT.
//
// The source has the MQTT source's shape (ingest.Dispatcher): Receivers
// receive loops only receive, and hand each message to the worker that owns
// its branch (the branch of the body's topic); a worker hands what is queued
// on it (up to Group messages, several branches) to the ingest in one call,
// so one branch's batches are stored one call after another, never in two
// transactions at once. After the commit the worker deletes the settled
// messages (stored, or refused for good), 10 per DeleteMessageBatch. When
// branches fail (a database error), each is handed again alone and what
// still fails is not deleted: it reappears after the visibility timeout (and
// goes to the queue's DLQ after maxReceiveCount), while the agent's resend
// covers it as well; the other branches' messages are deleted as usual.
// Worker queues are bounded (Queue): a receive loop whose message's worker is
// full waits, and so receives no more. A message received and not yet settled
// (waiting in a queue or a loop, or being stored) has its visibility extended
// while it is held, so it does not reappear to be received again meanwhile.
package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/ingest"
	"github.com/ticketero/ticketero/shared/backoff"
	"github.com/ticketero/ticketero/shared/event"
)

// API is the part of the SQS client the source uses.
type API interface {
	ReceiveMessage(ctx context.Context, in *awssqs.ReceiveMessageInput, opts ...func(*awssqs.Options)) (*awssqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *awssqs.DeleteMessageBatchInput, opts ...func(*awssqs.Options)) (*awssqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *awssqs.ChangeMessageVisibilityBatchInput, opts ...func(*awssqs.Options)) (*awssqs.ChangeMessageVisibilityBatchOutput, error)
}

// Source consumes the events queue.
type Source struct {
	API      API
	QueueURL string
	// Wait is the long-poll time (≤ 20 s; default 10 s).
	Wait time.Duration
	// Receivers is how many receive loops run at once (default
	// DefaultReceivers, at most MaxReceivers).
	Receivers int
	// Workers handle the messages, a branch always on the same worker
	// (default ingest.DefaultWorkers).
	Workers int
	// Queue is how many messages wait on one worker before the receive
	// loops wait (default DefaultQueue).
	Queue int
	// Group bounds the messages of one ingest call (default
	// ingest.DefaultGroup).
	Group int
	// Visibility is the visibility timeout the messages are received with,
	// and extended to while they are held (whole seconds, at least
	// MinVisibility; default DefaultVisibility).
	Visibility time.Duration
	// Metrics, when set, times each stage a message goes through.
	Metrics *Metrics
	Log     *slog.Logger
}

// Metrics time the stages of a message in the source, so an operator can
// tell where a batch waits between the queue and the commit: in the queue
// itself, behind a full worker queue, waiting for its worker, in the ingest
// call, or in the deletes after it.
type Metrics struct {
	// Queued: SQS's SentTimestamp to the receive (the queue's own wait).
	Queued prometheus.Histogram
	// Dispatch: how long a receive loop waited to queue a message on its
	// worker (a full worker queue is the backpressure).
	Dispatch prometheus.Histogram
	// Held: the receive to the start of the ingest call that stores it.
	Held prometheus.Histogram
	// Handle: one ingest call (a worker's group).
	Handle prometheus.Histogram
	// Delete: a group's deletes, after its commit.
	Delete prometheus.Histogram
}

// NewMetrics registers the source's series on reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	h := func(name, help string) prometheus.Histogram {
		return prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ticketero_cloud_sqs_" + name + "_seconds",
			Help: help, Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)})
	}
	m := &Metrics{
		Queued:   h("queued", "SQS source: time a message spent in the queue (SentTimestamp to its receive)."),
		Dispatch: h("dispatch", "SQS source: time a receive loop waited to queue a message on its worker (full worker queue)."),
		Held:     h("held", "SQS source: time from a message's receive to the start of the ingest call that stores it."),
		Handle:   h("handle", "SQS source: duration of one ingest call (a worker's group of messages)."),
		Delete:   h("delete", "SQS source: duration of a group's deletes after its commit."),
	}
	if reg != nil {
		reg.MustRegister(m.Queued, m.Dispatch, m.Held, m.Handle, m.Delete)
	}
	return m
}

var _ cloud.Source = (*Source)(nil)

// body is the rule's message: only the topic matters here.
type body struct {
	Topic string `json:"topic"`
}

// Topic extracts the MQTT topic from a message body ("" when absent or the
// body is not JSON; the batch is then refused as on a foreign topic).
func Topic(b []byte) string {
	var x body
	if json.Unmarshal(b, &x) != nil {
		return ""
	}
	return x.Topic
}

// DefaultReceivers is how many receive loops a replica runs when Receivers is
// unset: each holds a long poll open, and they only receive and dispatch.
const DefaultReceivers = 8

// MaxReceivers bounds Receivers (each loop holds one long poll open).
const MaxReceivers = 64

// DefaultQueue is Queue's default: a worker holds at most one group waiting.
// Messages a replica holds are out of the other replicas' reach, so the
// queues are shorter than MQTT's.
const DefaultQueue = ingest.DefaultGroup

// DefaultVisibility and MinVisibility bound Visibility: SQS's own default,
// and what leaves the extension (at half the timeout, checked every quarter)
// a second of margin.
const (
	DefaultVisibility = 30 * time.Second
	MinVisibility     = 2 * time.Second
	// MaxVisibility is SQS's limit (12 hours).
	MaxVisibility = 12 * time.Hour
)

// item is a received message on its way to a worker.
type item struct {
	m        types.Message
	msg      cloud.Message
	branch   string
	received time.Time
}

// Run receives, handles and deletes messages until ctx ends, with Receivers
// loops dispatching to Workers workers (see the package comment).
func (s *Source) Run(ctx context.Context, h cloud.Handler) error {
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "sqs")
	n := s.Receivers
	if n <= 0 {
		n = DefaultReceivers
	}
	n = min(n, MaxReceivers)
	vis := s.Visibility
	if vis <= 0 {
		vis = DefaultVisibility
	}
	vis = min(max(vis.Truncate(time.Second), MinVisibility), MaxVisibility)
	queue := s.Queue
	if queue <= 0 {
		queue = DefaultQueue
	}
	d := ingest.NewDispatcher[item](s.Workers, queue, s.Group)
	held := &leases{held: map[string]time.Time{}}
	met := s.Metrics
	if met == nil {
		met = NewMetrics(nil) // timed, not exported
	}
	w := &worker{s: s, h: h, log: log, held: held, met: met, bo: map[int]*backoff.Backoff{}}
	var wg sync.WaitGroup
	wg.Go(func() { s.extend(ctx, held, vis, log) })
	wg.Go(func() { d.Run(ctx, w.work) })
	for range n {
		wg.Go(func() { s.receive(ctx, d, held, vis, met, log) })
	}
	wg.Wait()
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil
	}
	return ctx.Err()
}

// receive is one receive loop: it receives and dispatches, nothing else.
func (s *Source) receive(ctx context.Context, d *ingest.Dispatcher[item], held *leases, vis time.Duration, met *Metrics, log *slog.Logger) {
	wait := s.Wait
	if wait <= 0 || wait > 20*time.Second {
		wait = 10 * time.Second
	}
	bo := backoff.New(time.Second, 30*time.Second)
	for ctx.Err() == nil {
		out, err := s.API.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{
			QueueUrl: aws.String(s.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: int32(wait / time.Second),
			VisibilityTimeout:           int32(vis / time.Second),
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameSentTimestamp},
		})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			wait := bo.Next()
			log.Warn("receive failed", "err", err, "retry_in", wait)
			_ = backoff.Sleep(ctx, wait) // a cancelled ctx ends the loop
			continue
		}
		bo.Reset()
		now := time.Now()
		held.hold(out.Messages, now.Add(vis))
		for _, m := range out.Messages {
			if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
				met.Queued.Observe(now.Sub(time.UnixMilli(ms)).Seconds())
			}
			payload := []byte(aws.ToString(m.Body))
			topic := Topic(payload)
			branch, _, _ := event.ParseTopic(topic)
			// Blocks while the worker's queue is full: the backpressure.
			t := time.Now()
			if !d.Dispatch(ctx, branch, item{m: m, msg: cloud.Message{Topic: topic, Payload: payload}, branch: branch, received: now}) {
				return // ending: what was not handled reappears
			}
			met.Dispatch.Observe(time.Since(t).Seconds())
		}
	}
}

// worker is what the dispatcher's workers share.
type worker struct {
	s    *Source
	h    cloud.Handler
	log  *slog.Logger
	held *leases
	met  *Metrics
	mu   sync.Mutex
	bo   map[int]*backoff.Backoff // per worker
}

// work handles a worker's items: stores them, deletes the settled ones,
// and lets the others go back to the queue.
func (w *worker) work(ctx context.Context, i int, items []item) {
	start := time.Now()
	for _, it := range items {
		w.met.Held.Observe(start.Sub(it.received).Seconds())
	}
	settled, failed := settle(ctx, w.h, items)
	w.held.release(failed)
	t := time.Now()
	w.met.Handle.Observe(t.Sub(start).Seconds())
	w.s.delete(ctx, w.log, settled)
	w.met.Delete.Observe(time.Since(t).Seconds())
	w.held.release(settled)
	w.mu.Lock()
	bo := w.bo[i]
	if bo == nil {
		bo = backoff.New(time.Second, 30*time.Second)
		w.bo[i] = bo
	}
	w.mu.Unlock()
	if len(settled) > 0 || ctx.Err() != nil {
		bo.Reset()
		return
	}
	// Nothing could be stored (database down): wait before taking more,
	// rather than running the queue's messages through their
	// maxReceiveCount in a tight loop; the receive loops wait meanwhile.
	wait := bo.Next()
	w.log.Warn("no message of the group was settled; they will be redelivered", "messages", len(items), "retry_in", wait)
	_ = backoff.Sleep(ctx, wait)
}

// settle hands items to h in one call and returns those that are settled
// (stored, or refused for good) and may be deleted, and those that failed.
//
// When the call fails, the branches that failed (ingest.FailedBranches; each
// branch when the error does not say) are handed again one at a time, and
// only those that then succeed count as settled; what the first call had
// stored is deduplicated, the ingest being idempotent. A branch whose
// batches cannot be stored thus holds back neither the other branches'
// messages nor, after maxReceiveCount, sends them to the dead-letter queue
// with its own.
func settle(ctx context.Context, h cloud.Handler, items []item) (settled, failed []types.Message) {
	msgs := make([]cloud.Message, len(items))
	for i, it := range items {
		msgs[i] = it.msg
	}
	err := h(ctx, msgs...)
	if err == nil {
		return messages(items), nil
	}
	var order []string
	byBranch := map[string][]item{}
	for _, it := range items {
		if _, ok := byBranch[it.branch]; !ok {
			order = append(order, it.branch)
		}
		byBranch[it.branch] = append(byBranch[it.branch], it)
	}
	retry := order
	if names, ok := ingest.FailedBranches(err); ok {
		retry = nil
		for _, b := range names {
			if _, ours := byBranch[b]; !ours {
				retry = order // a branch this call did not hand: trust no name
				break
			}
			if !slices.Contains(retry, b) {
				retry = append(retry, b)
			}
		}
	}
	for _, b := range order {
		if !slices.Contains(retry, b) {
			settled = append(settled, messages(byBranch[b])...)
		}
	}
	for _, b := range retry {
		group := byBranch[b]
		// Alone already, the same call again would tell nothing new.
		if len(order) > 1 && ctx.Err() == nil && h(ctx, messagesOf(group)...) == nil {
			settled = append(settled, messages(group)...)
		} else {
			failed = append(failed, messages(group)...)
		}
	}
	return settled, failed
}

func messages(items []item) []types.Message {
	out := make([]types.Message, len(items))
	for i, it := range items {
		out[i] = it.m
	}
	return out
}

func messagesOf(items []item) []cloud.Message {
	out := make([]cloud.Message, len(items))
	for i, it := range items {
		out[i] = it.msg
	}
	return out
}

// delete removes settled messages from the queue, 10 per call, the calls of
// a group at once (a group of 64 is 7 calls: one round trip, not 7, before
// the worker takes its next group). A failed delete only means the messages
// come back and are deduplicated.
func (s *Source) delete(ctx context.Context, log *slog.Logger, settled []types.Message) {
	var wg sync.WaitGroup
	for part := range slices.Chunk(settled, 10) {
		wg.Go(func() {
			entries := make([]types.DeleteMessageBatchRequestEntry, len(part))
			for i, m := range part {
				entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle}
			}
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			res, err := s.API.DeleteMessageBatch(dctx, &awssqs.DeleteMessageBatchInput{QueueUrl: aws.String(s.QueueURL), Entries: entries})
			if err != nil {
				log.Warn("delete failed; messages will be redelivered and deduplicated", "err", err)
			} else if len(res.Failed) > 0 {
				log.Warn("some deletes failed; messages will be redelivered and deduplicated", "failed", len(res.Failed))
			}
		})
	}
	wg.Wait()
}

// leases are the messages the source holds (received, not yet settled),
// each with the time it becomes visible again.
type leases struct {
	mu   sync.Mutex
	held map[string]time.Time // receipt handle → visible again at
}

func (l *leases) hold(ms []types.Message, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range ms {
		l.held[aws.ToString(m.ReceiptHandle)] = until
	}
}

func (l *leases) release(ms []types.Message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range ms {
		delete(l.held, aws.ToString(m.ReceiptHandle))
	}
}

// due lists the held messages that become visible before t.
func (l *leases) due(t time.Time) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for h, until := range l.held {
		if until.Before(t) {
			out = append(out, h)
		}
	}
	return out
}

// extended records that handles are invisible until then (those still held).
func (l *leases) extended(handles []string, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, h := range handles {
		if _, ok := l.held[h]; ok {
			l.held[h] = until
		}
	}
}

// extend keeps the held messages invisible: every quarter of the visibility
// timeout, each that would reappear within half of it is made invisible for
// a whole timeout again (ChangeMessageVisibilityBatch, 10 per call). A
// message whose extension fails may reappear and be received twice: the
// ingest deduplicates it.
func (s *Source) extend(ctx context.Context, held *leases, vis time.Duration, log *slog.Logger) {
	t := time.NewTicker(vis / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		for part := range slices.Chunk(held.due(now.Add(vis/2)), 10) {
			entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, len(part))
			for i, h := range part {
				entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)),
					ReceiptHandle: aws.String(h), VisibilityTimeout: int32(vis / time.Second)}
			}
			res, err := s.API.ChangeMessageVisibilityBatch(ctx, &awssqs.ChangeMessageVisibilityBatchInput{
				QueueUrl: aws.String(s.QueueURL), Entries: entries})
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("visibility not extended; held messages may be received again and deduplicated", "messages", len(part), "err", err)
				}
				continue
			}
			ok := make([]string, 0, len(res.Successful))
			for _, e := range res.Successful {
				if i, err := strconv.Atoi(aws.ToString(e.Id)); err == nil && i >= 0 && i < len(part) {
					ok = append(ok, part[i])
				}
			}
			held.extended(ok, now.Add(vis))
			if len(res.Failed) > 0 {
				// Settled meanwhile (deleted), or already reappeared.
				log.Debug("some visibility extensions failed", "failed", len(res.Failed))
			}
		}
	}
}

// NewClient builds an SQS client; endpoint overrides the service URL (a local
// SQS-compatible server in tests), with anonymous credentials when it is set.
func NewClient(cfg aws.Config, endpoint string) *awssqs.Client {
	return awssqs.NewFromConfig(cfg, func(o *awssqs.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
}
