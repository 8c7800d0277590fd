// Package mqtt is the cloud's broker adapter (eclipse/paho.mqtt.golang): the
// event source on the shared subscription, the ack publisher, the status
// subscriber, and the config and command publishers for HQ.
package mqtt

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/ingest"
	"github.com/ticketero/ticketero/shared/event"
)

// Config is how the cloud reaches the broker.
type Config struct {
	// URL is mqtts://host:8883 (or ssl://, tls://; port 443 uses ALPN
	// x-amzn-mqtt-ca for AWS IoT Core).
	URL string
	// CertFile, KeyFile: the cloud's client certificate; CAFile: the broker's CA.
	CertFile, KeyFile, CAFile string
	// TLS, when set, replaces the config built from the files (tests).
	TLS *tls.Config
	// ClientID defaults to ticketero-cloud-<random>; replicas must differ.
	ClientID string
	// Workers process batches concurrently, one branch always on the same
	// worker so its batches stay in order (default 8).
	Workers int
}

// TLSConfig builds the client TLS configuration for rawURL from PEM files
// (shared by every Ticketero MQTT client: event.BrokerTLS; ALPN on 443).
func TLSConfig(rawURL, certFile, keyFile, caFile string) (*tls.Config, error) {
	return event.BrokerTLS(rawURL, certFile, keyFile, caFile)
}

// Client is one connection of a cloud replica to the broker.
type Client struct {
	cfg     Config
	log     *slog.Logger
	client  paho.Client
	status  cloud.StatusRecorder
	handler atomic.Pointer[cloud.Handler]
	// dispatch hands inbound batches to Run's workers (set by Run, before
	// the events are subscribed).
	dispatch atomic.Pointer[dispatch]
	ready    atomic.Bool
	// consuming is set by Run; subscribed once the shared subscription holds.
	consuming, subscribed atomic.Bool
	// statuses gathers the statuses for a StatusBatchRecorder (nil: each
	// status is recorded as it arrives).
	statuses *statusBatcher
	// acks carries the delivered messages' PUBACKs from paho's router to
	// ackLoop (see New); stop ends it, acked says it has.
	acks        chan paho.Message
	stop, acked chan struct{}
	closeOnce   sync.Once
}

// ackQueue bounds the PUBACKs waiting for ackLoop (a full queue makes the
// router wait, as sending them itself did).
const ackQueue = 4096

// dispatch is Run's dispatcher and the context that ends it.
type dispatch struct {
	d   *ingest.Dispatcher[cloud.Message]
	ctx context.Context
}

var (
	_ cloud.Acker            = (*Client)(nil)
	_ cloud.ConfigPublisher  = (*Client)(nil)
	_ cloud.CommandPublisher = (*Client)(nil)
	_ cloud.Source           = (*Client)(nil)
)

// New prepares a client; Connect opens it.
func New(cfg Config, status cloud.StatusRecorder, log *slog.Logger) (*Client, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = ingest.DefaultWorkers
	}
	if cfg.ClientID == "" {
		cfg.ClientID = fmt.Sprintf("ticketero-cloud-%d", time.Now().UnixNano()%1e9)
	}
	if cfg.TLS == nil {
		t, err := TLSConfig(cfg.URL, cfg.CertFile, cfg.KeyFile, cfg.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.TLS = t
	}
	c := &Client{cfg: cfg, log: log.With("component", "mqtt"), status: status,
		acks: make(chan paho.Message, ackQueue), stop: make(chan struct{}), acked: make(chan struct{})}
	go c.ackLoop()
	if b, ok := status.(cloud.StatusBatchRecorder); ok {
		c.statuses = newStatusBatcher(b, c.log)
	}
	opts := paho.NewClientOptions().AddBroker(cfg.URL).SetClientID(cfg.ClientID).SetTLSConfig(cfg.TLS).
		SetCleanSession(true).SetKeepAlive(30 * time.Second).SetAutoReconnect(true).
		SetConnectRetry(true).SetConnectRetryInterval(time.Second).SetMaxReconnectInterval(10 * time.Second).
		// In order: paho calls onEvents and onStatus on its one router
		// goroutine, and onEvents blocks while the replica's dispatcher is
		// full (ingest.Dispatcher), so the inbound path holds at most
		// Workers × 256 batches and no goroutine per message
		// (SetOrderMatters(false) started one per inbound message, each
		// blocked on the queues: about 2,000 more in TestInboundFloodBounded,
		// 100,000 at a 5,000-branch storm). Blocking the router cannot
		// deadlock the ingest: Ack does not wait for the broker's PUBACK
		// (paho reads it on the blocked connection), and a publish only
		// needs paho's writer, which never waits for the router.
		//
		// The PUBACKs are not sent by the router (auto-ack off): paho's
		// router hands each ack through two unbuffered channels to the
		// connection's writer, so sending them itself put a TLS write in
		// every message's delivery, one after another, and on a busy
		// machine that serial hand-off cost the storm's tail (settled p99
		// 8.8 s; 1.24 s with the acks apart, 5,000 branches; docs/
		// performance.md). The handlers queue the ack on ackLoop, after
		// the batch is dispatched (or the status taken), as paho did.
		SetOrderMatters(true).SetAutoAckDisabled(true).SetConnectTimeout(10 * time.Second).
		SetOnConnectHandler(c.onConnect).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			c.ready.Store(false)
			c.subscribed.Store(false)
			c.log.Warn("broker connection lost", "err", err)
		})
	c.client = paho.NewClient(opts)
	return c, nil
}

// Connect starts connecting (and reconnecting) in the background; it returns
// once the first attempt is under way. Ready reports the connection.
func (c *Client) Connect() {
	c.client.Connect()
}

// Ready reports whether the broker connection is up.
// A consuming client is ready once its shared subscription is in place.
func (c *Client) Ready() bool {
	return c.ready.Load() && c.client.IsConnectionOpen() && (!c.consuming.Load() || c.subscribed.Load())
}

func (c *Client) subscribeEvents(cl paho.Client) {
	tok := cl.Subscribe(event.SharedEventsFilter, 1, c.onEvents)
	if !tok.WaitTimeout(10 * time.Second) {
		c.log.Error("subscribe events: timeout")
		return
	}
	if err := tok.Error(); err != nil {
		c.log.Error("subscribe events", "err", err)
		return
	}
	c.subscribed.Store(true)
}

// Close disconnects, then records the statuses still gathered.
func (c *Client) Close() {
	c.client.Disconnect(250)
	c.closeOnce.Do(func() { close(c.stop) })
	<-c.acked
	if c.statuses != nil {
		c.statuses.close()
	}
}

// ack queues msg's PUBACK for ackLoop (dropped once the client is closed:
// the broker delivers an unacked message again).
func (c *Client) ack(msg paho.Message) {
	select {
	case c.acks <- msg:
	case <-c.stop:
	}
}

// ackLoop sends the queued PUBACKs, in delivery order, until Close.
func (c *Client) ackLoop() {
	defer close(c.acked)
	for {
		select {
		case m := <-c.acks:
			m.Ack()
		case <-c.stop:
			return
		}
	}
}

func (c *Client) onConnect(cl paho.Client) {
	c.log.Info("broker connected", "client", c.cfg.ClientID)
	if c.handler.Load() != nil {
		c.subscribeEvents(cl)
	}
	if c.status != nil {
		tok := cl.Subscribe(event.StatusFilter, 1, c.onStatus)
		if tok.WaitTimeout(10*time.Second) && tok.Error() != nil {
			c.log.Error("subscribe status", "err", tok.Error())
		}
	}
	c.ready.Store(true)
}

// Run consumes event batches from the shared subscription until ctx ends. A
// branch's batches are handled in arrival order on one worker; branches spread
// over Workers. Errors from h are logged: the agent resends what was not acked.
func (c *Client) Run(ctx context.Context, h cloud.Handler) error {
	// A branch's batches that piled up on its worker (up to the group size)
	// are stored in one transaction.
	d := ingest.NewDispatcher[cloud.Message](c.cfg.Workers, 256, 64)
	c.dispatch.Store(&dispatch{d: d, ctx: ctx})
	var wg sync.WaitGroup
	wg.Go(func() {
		d.Run(ctx, func(ctx context.Context, _ int, msgs []cloud.Message) {
			if err := h(ctx, msgs...); err != nil && ctx.Err() == nil {
				c.log.Debug("messages left for resend", "messages", len(msgs), "err", err)
			}
		})
	})
	c.consuming.Store(true)
	c.handler.Store(&h)
	if c.client.IsConnectionOpen() {
		// Connected before Run: subscribe now (onConnect may have seen no handler).
		c.subscribeEvents(c.client)
	}
	<-ctx.Done()
	c.client.Unsubscribe(event.SharedEventsFilter).WaitTimeout(time.Second)
	wg.Wait()
	return nil
}

func (c *Client) onEvents(_ paho.Client, msg paho.Message) {
	defer c.ack(msg)
	branch, _, _ := event.ParseTopic(msg.Topic())
	d := c.dispatch.Load()
	if d == nil {
		return // not consuming (subscribed only by Run)
	}
	// Blocking here (paho's router goroutine: SetOrderMatters(true)) applies
	// back-pressure to the broker connection, which is what we want when
	// PostgreSQL is slower than the fleet: the broker holds the flood. A
	// full dispatcher (the replica's bound, not one worker's) holds every
	// branch's delivery (and the statuses') until a worker takes a batch; a router blocked past the keepalive and its ping
	// timeout (40 s: no worker moving at all) drops the connection, and the
	// agents resend what was not acked.
	d.d.Dispatch(d.ctx, branch, cloud.Message{Topic: msg.Topic(), Payload: msg.Payload()})
}

// onStatus runs on paho's router goroutine too: it must not block (the
// statusBatcher only appends; without one, the recorder's write holds the
// delivery, which only tests do).
func (c *Client) onStatus(_ paho.Client, msg paho.Message) {
	defer c.ack(msg)
	if len(msg.Payload()) == 0 {
		return // a cleared retained message
	}
	var st event.Status
	if err := event.DecodeMessage(msg.Topic(), msg.Payload(), &st); err != nil {
		c.log.Warn("status rejected", "topic", msg.Topic(), "err", err)
		return
	}
	if c.statuses != nil {
		c.statuses.add(cloud.StatusUpdate{Status: st, Retained: msg.Retained(), Received: time.Now()})
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.status.RecordStatusAt(ctx, st, msg.Retained()); err != nil {
		c.log.Warn("status not recorded", "branch", st.Branch, "err", err)
	}
}

// publish sends v as JSON; nil sends an empty payload (a retained one clears
// the topic's retained message).
func (c *Client) publish(ctx context.Context, topic string, retained bool, v any) error {
	var b []byte
	if v != nil {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return fmt.Errorf("mqtt: encode: %w", err)
		}
	}
	tok := c.client.Publish(topic, 1, retained, b)
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("mqtt: publish %s: %w", topic, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("mqtt: publish %s: %w", topic, ctx.Err())
	case <-time.After(10 * time.Second):
		return fmt.Errorf("mqtt: publish %s: %w", topic, errors.New("timeout"))
	}
}

// Ack publishes the cloud's ack to a branch (QoS 1) without waiting for the
// broker's PUBACK: it reports only a publish refused at once (not
// connected). The ingest acks each branch after its commit, one after
// another; waiting for the PUBACK put the broker's round trip in that path,
// and when the events arrive faster than they are stored (a connect storm)
// the PUBACK queues behind them on the same connection: at 5,000 branches
// each ack then took seconds, the workers stored a few batches a second and
// the backlog fed itself (docs/performance.md, "Fleet"). An ack that is lost
// costs nothing but time: the agent resends from its last ack after its ack
// timeout and the duplicate is acked then.
func (c *Client) Ack(_ context.Context, a event.Ack) error {
	b, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("mqtt: encode: %w", err)
	}
	tok := c.client.Publish(event.AckTopic(a.Branch), 1, false, b)
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("mqtt: publish ack %s: %w", a.Branch, err)
		}
	default:
	}
	return nil
}

// PublishConfig publishes a branch's config snapshot, retained so the agent
// gets it when it next connects (QoS 1).
func (c *Client) PublishConfig(ctx context.Context, cfg event.Config) error {
	cfg.V = event.Version
	if err := cfg.Validate(); err != nil {
		return err
	}
	if strings.TrimSpace(cfg.Branch) == "" {
		return fmt.Errorf("mqtt: config without branch")
	}
	return c.publish(ctx, event.ConfigTopic(cfg.Branch), true, cfg)
}

// PublishCommand sends a command to a branch (QoS 1, not retained).
func (c *Client) PublishCommand(ctx context.Context, cmd event.Command) error {
	cmd.V = event.Version
	if cmd.Branch == "" || cmd.ID == "" || cmd.Type == "" {
		return fmt.Errorf("mqtt: command needs branch, id and type")
	}
	return c.publish(ctx, event.CommandsTopic(cmd.Branch), false, cmd)
}

// PublishRelease offers a branch an agent release, retained so a box that is
// offline gets it when it reconnects (QoS 1).
func (c *Client) PublishRelease(ctx context.Context, r event.Release) error {
	r.V = event.Version
	if r.Branch == "" || r.Version == "" || len(r.Artifacts) == 0 {
		return fmt.Errorf("mqtt: release offer needs branch, version and artifacts")
	}
	return c.publish(ctx, event.ReleaseTopic(r.Branch), true, r)
}

// WithdrawRelease takes a branch's release offer back: an empty retained
// message clears it on the broker (a box connecting later gets none) and
// tells a connected box to drop the offer it holds (QoS 1).
func (c *Client) WithdrawRelease(ctx context.Context, branch string) error {
	if branch == "" {
		return fmt.Errorf("mqtt: release withdrawal needs a branch")
	}
	return c.publish(ctx, event.ReleaseTopic(branch), true, nil)
}
