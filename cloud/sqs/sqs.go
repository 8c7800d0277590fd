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
// maxReceiveCount), while the agent's resend covers it as well.
package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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
	Log  *slog.Logger
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

// Run receives, handles and deletes messages until ctx ends.
func (s *Source) Run(ctx context.Context, h cloud.Handler) error {
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "sqs")
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
				break
			}
			wait := bo.Next()
			log.Warn("receive failed", "err", err, "retry_in", wait)
			_ = backoff.Sleep(ctx, wait) // a cancelled ctx ends the loop
			continue
		}
		bo.Reset()
		var done []types.DeleteMessageBatchRequestEntry
		for i, m := range out.Messages {
			payload := []byte(aws.ToString(m.Body))
			if err := h(ctx, cloud.Message{Topic: Topic(payload), Payload: payload}); err != nil {
				continue // left for redelivery
			}
			done = append(done, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
		}
		if len(done) > 0 {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			res, err := s.API.DeleteMessageBatch(dctx, &awssqs.DeleteMessageBatchInput{QueueUrl: aws.String(s.QueueURL), Entries: done})
			cancel()
			if err != nil {
				log.Warn("delete failed; messages will be redelivered and deduplicated", "err", err)
			} else if len(res.Failed) > 0 {
				log.Warn("some deletes failed; messages will be redelivered and deduplicated", "failed", len(res.Failed))
			}
		}
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil
	}
	return ctx.Err()
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
