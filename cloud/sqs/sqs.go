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
// the topic is checked against the batch's branch as on MQTT. A message is
// deleted once settled (stored, or refused for good); on a database error it is
// left to reappear after the visibility timeout (and to the queue's DLQ after
// maxReceiveCount), while the agent's resend covers it as well. A replica runs
// several receive loops (Receivers), each handing a receive's messages to the
// ingest in one call.
package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/backoff"
)

// API is the part of the SQS client the source uses.
type API interface {
	ReceiveMessage(ctx context.Context, in *awssqs.ReceiveMessageInput, opts ...func(*awssqs.Options)) (*awssqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *awssqs.DeleteMessageBatchInput, opts ...func(*awssqs.Options)) (*awssqs.DeleteMessageBatchOutput, error)
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
	Log       *slog.Logger
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
// unset: as many as the MQTT source's workers, so either source keeps the
// ingest's connections busy while some loops wait on the queue.
const DefaultReceivers = 8

// MaxReceivers bounds Receivers (each loop holds one long poll open).
const MaxReceivers = 64

// Run receives, handles and deletes messages until ctx ends, with Receivers
// loops at once. Each loop hands the (up to 10) messages of a receive to h in
// one call, so the ingest stores a branch's batches among them together.
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
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { s.receive(ctx, h, log) })
	}
	wg.Wait()
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil
	}
	return ctx.Err()
}

// receive is one receive loop.
func (s *Source) receive(ctx context.Context, h cloud.Handler, log *slog.Logger) {
	wait := s.Wait
	if wait <= 0 || wait > 20*time.Second {
		wait = 10 * time.Second
	}
	bo := backoff.New(time.Second, 30*time.Second)
	for ctx.Err() == nil {
		out, err := s.API.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{
			QueueUrl: aws.String(s.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: int32(wait / time.Second),
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
		if len(out.Messages) == 0 {
			bo.Reset()
			continue
		}
		settled := settle(ctx, h, out.Messages)
		s.delete(ctx, log, settled)
		if len(settled) == 0 && ctx.Err() == nil {
			// Nothing could be stored (database down): wait before taking
			// more, rather than running the queue's messages through their
			// maxReceiveCount in a tight loop.
			wait := bo.Next()
			log.Warn("no message of the receive was settled; they will be redelivered", "messages", len(out.Messages), "retry_in", wait)
			_ = backoff.Sleep(ctx, wait)
			continue
		}
		bo.Reset()
	}
}

// settle hands ms to h and returns those that are settled (stored, or refused
// for good) and may be deleted.
//
// The handler's error does not say which messages failed: the ingest stores
// each branch's batches apart (or several branches together) and joins the
// errors. So when the call fails, the messages are handed again one topic (one
// branch) at a time, and only the groups that then succeed count as settled;
// what the first call had already stored is deduplicated, the ingest being
// idempotent. This way a branch whose batches cannot be stored holds back
// neither the other branches' messages received with it nor, after
// maxReceiveCount, sends them to the dead-letter queue with its own. What
// fails again stays in the queue and reappears after the visibility timeout.
func settle(ctx context.Context, h cloud.Handler, ms []types.Message) []types.Message {
	msgs := make([]cloud.Message, len(ms))
	for i, m := range ms {
		payload := []byte(aws.ToString(m.Body))
		msgs[i] = cloud.Message{Topic: Topic(payload), Payload: payload}
	}
	if h(ctx, msgs...) == nil {
		return ms
	}
	var order []string
	byTopic := map[string][]int{}
	for i, m := range msgs {
		if _, ok := byTopic[m.Topic]; !ok {
			order = append(order, m.Topic)
		}
		byTopic[m.Topic] = append(byTopic[m.Topic], i)
	}
	if len(order) == 1 {
		return nil // the same call again would tell nothing new
	}
	var settled []types.Message
	for _, topic := range order {
		if ctx.Err() != nil {
			break
		}
		idx := byTopic[topic]
		group := make([]cloud.Message, len(idx))
		for j, i := range idx {
			group[j] = msgs[i]
		}
		if h(ctx, group...) == nil {
			for _, i := range idx {
				settled = append(settled, ms[i])
			}
		}
	}
	return settled
}

// delete removes settled messages from the queue. A failed delete only means
// the messages come back and are deduplicated.
func (s *Source) delete(ctx context.Context, log *slog.Logger, settled []types.Message) {
	if len(settled) == 0 {
		return
	}
	entries := make([]types.DeleteMessageBatchRequestEntry, len(settled))
	for i, m := range settled {
		entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle}
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	res, err := s.API.DeleteMessageBatch(dctx, &awssqs.DeleteMessageBatchInput{QueueUrl: aws.String(s.QueueURL), Entries: entries})
	cancel()
	if err != nil {
		log.Warn("delete failed; messages will be redelivered and deduplicated", "err", err)
	} else if len(res.Failed) > 0 {
		log.Warn("some deletes failed; messages will be redelivered and deduplicated", "failed", len(res.Failed))
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
