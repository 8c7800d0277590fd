// Package mqtt is the branch agent's link to the cloud (eclipse/paho.mqtt.golang):
// the outbox relay that publishes event batches and releases them only on the
// cloud's ack, the retained status with its last will, and the subscribers of
// the branch's config snapshots and cloud commands.
package mqtt

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/backoff"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/ratelimit"
)

// Config is the relay's configuration. Zero values take the defaults noted.
type Config struct {
	Branch string
	// URL is mqtts://host:8883 or ssl://host:443 (AWS IoT Core with ALPN
	// x-amzn-mqtt-ca).
	URL                       string
	CertFile, KeyFile, CAFile string
	// TLS, when set, replaces the config built from the files (tests).
	TLS          *tls.Config
	AgentVersion string

	// MaxInFlight bounds the batches published and not yet acked (50; IoT
	// allows 100 unacknowledged QoS 1 messages per client).
	MaxInFlight int
	// PublishRate bounds publishes per second (50: IoT allows 100/s per
	// connection counting inbound messages too, and each batch brings an ack).
	PublishRate float64
	// AckTimeout is how long the relay waits for an ack that advances while
	// batches are in flight before it resends one of them, the probe (10 s;
	// the wait adds up to half of it at random). Each timeout without progress
	// doubles it up to MaxAckTimeout; an ack that advances returns it to
	// AckTimeout. See window.
	AckTimeout time.Duration
	// MaxAckTimeout caps the ack timeout's backoff (2 min, and at least
	// AckTimeout).
	MaxAckTimeout time.Duration
	// GapGrace is how old the oldest batch in flight must be before an ack
	// reporting a gap triggers a resend (500 ms): younger batches may still
	// be on their way through another cloud replica.
	GapGrace time.Duration
	// BatchEvents is how many events are read from the outbox at once (1000).
	BatchEvents int
	// BatchBytes bounds one message (event.MaxMessageBytes).
	BatchBytes int
	// StatusInterval is how often the retained status is refreshed (30 s).
	StatusInterval time.Duration
	// MinBackoff and MaxBackoff bound the reconnect delay (1 s, 60 s); jitter
	// adds up to half of it. IoT allows one CONNECT per second per client ID.
	MinBackoff, MaxBackoff time.Duration
	KeepAlive              time.Duration // 30 s (IoT: 30–1200 s)
	Now                    func() time.Time
	// Release, when set, receives the agent releases HQ offers the branch
	// (its retained release topic is then subscribed). It must not block:
	// the updater (agent/update) works on its own goroutine.
	Release func(ctx context.Context, r event.Release)
	// Stall is how long the relay loop may go without checking in before
	// Alive reports it stuck (30 s; longer while it connects or backs off,
	// by those steps' own bounds).
	Stall time.Duration
	// Withdraw, when set with Release, drops the offer the box holds: HQ
	// cleared the retained release (an empty message), and at each
	// connection before subscribing, since the broker then sends the offer
	// it retains, if any (a clearing missed while offline is not replayed).
	Withdraw func(ctx context.Context)
}

func (c *Config) defaults() {
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 50
	}
	if c.Stall <= 0 {
		c.Stall = 30 * time.Second
	}
	if c.PublishRate <= 0 {
		c.PublishRate = 50
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = 10 * time.Second
	}
	if c.MaxAckTimeout <= 0 {
		c.MaxAckTimeout = 2 * time.Minute
	}
	c.MaxAckTimeout = max(c.MaxAckTimeout, c.AckTimeout)
	if c.GapGrace <= 0 {
		c.GapGrace = 500 * time.Millisecond
	}
	if c.BatchEvents <= 0 {
		c.BatchEvents = 1000
	}
	if c.BatchBytes <= 0 || c.BatchBytes > event.MaxMessageBytes {
		c.BatchBytes = event.MaxMessageBytes
	}
	if c.StatusInterval <= 0 {
		c.StatusInterval = 30 * time.Second
	}
	if c.MinBackoff < time.Second {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = 60 * time.Second
	}
	if c.KeepAlive <= 0 {
		c.KeepAlive = 30 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate checks the configuration, naming the field and the bad value.
func (c Config) Validate() error {
	if c.Branch == "" {
		return errors.New("mqtt: branch is required (it is the client ID and the certificate's CN)")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("mqtt: url %q: %w", c.URL, err)
	}
	switch u.Scheme {
	case "mqtts", "ssl", "tls":
	default:
		return fmt.Errorf("mqtt: url %q: scheme must be mqtts:// or ssl://", c.URL)
	}
	if c.TLS == nil && (c.CertFile == "" || c.KeyFile == "" || c.CAFile == "") {
		return errors.New("mqtt: cert, key and ca are required for mTLS")
	}
	return nil
}

// TLSConfig builds the client TLS configuration for rawURL from PEM files
// (shared by every Ticketero MQTT client: event.BrokerTLS; ALPN on 443).
func TLSConfig(rawURL, certFile, keyFile, caFile string) (*tls.Config, error) {
	return event.BrokerTLS(rawURL, certFile, keyFile, caFile)
}

// Relay drains the outbox to the cloud and applies what the cloud sends.
type Relay struct {
	cfg      Config
	outbox   agent.Outbox
	configs  agent.ConfigStore  // optional
	commands agent.CommandStore // optional
	log      *slog.Logger

	acks    chan event.Ack
	inbound chan paho.Message // config and commands, applied off paho's goroutine

	mu        sync.Mutex
	since     time.Time // when the current broker session began
	connected bool
	changed   time.Time // when connected last changed
	lastAckAt time.Time
	client    paho.Client
	resends   map[string]uint64 // by reason (resendTimeout, resendGap, resendIdle)

	// due is when the relay loop must next check in (Unix nanoseconds).
	due atomic.Int64
}

var _ agent.Link = (*Relay)(nil)

// connectBound is how long connect may take: the connection and the
// subscription time out after 10 s each.
const connectBound = 20 * time.Second

// promise records that the relay loop checks in again within d (plus Stall).
func (r *Relay) promise(d time.Duration) {
	r.due.Store(time.Now().Add(d + r.cfg.Stall).UnixNano())
}

// Alive reports an error when the relay loop missed its check-in: it is
// stuck (a hung outbox read, a blocked inbound queue). Being offline is not
// an error: the loop is then waiting to reconnect, on time. The systemd
// watchdog stops pinging, and systemd restarts the agent.
func (r *Relay) Alive(now time.Time) error {
	if late := now.Sub(time.Unix(0, r.due.Load())); late > 0 {
		return fmt.Errorf("relay loop stuck: %s late", late.Round(time.Second))
	}
	return nil
}

// New builds a relay. configs and commands may be nil (their topics are then
// not subscribed).
func New(cfg Config, outbox agent.Outbox, configs agent.ConfigStore, commands agent.CommandStore, log *slog.Logger) (*Relay, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	if cfg.TLS == nil {
		t, err := TLSConfig(cfg.URL, cfg.CertFile, cfg.KeyFile, cfg.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.TLS = t
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Relay{cfg: cfg, outbox: outbox, configs: configs, commands: commands,
		// The caller's logger names the branch (the agent's root logger
		// does): naming it again wrote every relay line with two "branch"
		// keys, which a JSON log reader takes as one or refuses.
		log:  log.With("component", "relay"),
		acks: make(chan event.Ack, 1024), inbound: make(chan paho.Message, 64), resends: map[string]uint64{}}
	r.promise(connectBound) // Run starts
	return r, nil
}

// State reports the link for GET /api/v1/sync.
func (r *Relay) State() agent.LinkState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return agent.LinkState{Mode: "mqtt", Connected: r.connected, LastAckAt: r.lastAckAt, Since: r.changed,
		Resends: maps.Clone(r.resends)}
}

// resent counts a resend by its reason.
func (r *Relay) resent(reason string) {
	r.mu.Lock()
	r.resends[reason]++
	r.mu.Unlock()
}

// Run keeps the link up until ctx ends: connect, relay, and on any loss
// reconnect after a backoff (≥ 1 s, doubling, with jitter). On return the
// retained status says offline.
func (r *Relay) Run(ctx context.Context) error {
	go r.applyInbound(ctx)
	bo := backoff.New(r.cfg.MinBackoff, r.cfg.MaxBackoff)
	for ctx.Err() == nil {
		r.promise(connectBound)
		client, lost, err := r.connect(ctx)
		if err != nil {
			err = fmt.Errorf("broker connect failed: %w", err)
		} else {
			bo.Reset()
			err = r.session(ctx, client, lost)
			r.setConnected(nil)
			if ctx.Err() != nil {
				r.goOffline(client)
				return nil
			}
			client.Disconnect(0)
			err = fmt.Errorf("broker link lost: %w", err)
		}
		wait := bo.Next()
		r.promise(wait)
		r.log.Warn("broker unreachable; reconnecting", "err", err, "retry_in", wait)
		if backoff.Sleep(ctx, wait) != nil {
			return nil
		}
	}
	return nil
}

func (r *Relay) setConnected(c paho.Client) {
	r.mu.Lock()
	if r.connected != (c != nil) {
		r.changed = time.Now()
	}
	r.connected = c != nil
	r.client = c
	r.mu.Unlock()
}

func (r *Relay) status(ctx context.Context, online bool) event.Status {
	r.mu.Lock()
	since := r.since
	r.mu.Unlock()
	st := event.Status{V: event.Version, Branch: r.cfg.Branch, Online: online, AgentVersion: r.cfg.AgentVersion,
		At: r.cfg.Now().UTC(), Since: since}
	if s, err := r.outbox.SyncState(ctx); err == nil {
		st.LastSeq, st.LastAck, st.Backlog = s.LastSeq, s.LastAck, int64(s.Backlog())
	}
	if r.configs != nil {
		if v, err := r.configs.ConfigVersion(ctx); err == nil {
			st.ConfigVersion = v
		}
	}
	if t, ok := r.configs.(targetLister); ok {
		st.Targets = t.ServiceTargets(ctx)
	}
	return st
}

// targetLister is the config store's optional list of the running services'
// target waits, carried in the status so HQ uses the branch's targets.
type targetLister interface {
	ServiceTargets(ctx context.Context) map[string]int
}

func (r *Relay) connect(ctx context.Context) (paho.Client, <-chan error, error) {
	r.mu.Lock()
	r.since = r.cfg.Now().UTC()
	r.mu.Unlock()
	will, _ := json.Marshal(r.status(ctx, false))
	lost := make(chan error, 1)
	opts := paho.NewClientOptions().AddBroker(r.cfg.URL).SetClientID(r.cfg.Branch).SetTLSConfig(r.cfg.TLS).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectRetry(false).
		SetKeepAlive(r.cfg.KeepAlive).SetConnectTimeout(10*time.Second).SetWriteTimeout(10*time.Second).
		SetBinaryWill(event.StatusTopic(r.cfg.Branch), will, 1, true).
		SetMaxResumePubInFlight(r.cfg.MaxInFlight).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			select {
			case lost <- err:
			default:
			}
		})
	c := paho.NewClient(opts)
	tok := c.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		c.Disconnect(0)
		return nil, nil, ctx.Err()
	}
	if err := tok.Error(); err != nil {
		return nil, nil, err
	}
	subs := map[string]byte{event.AckTopic(r.cfg.Branch): 1}
	if r.configs != nil {
		subs[event.ConfigTopic(r.cfg.Branch)] = 1
	}
	if r.commands != nil {
		subs[event.CommandsTopic(r.cfg.Branch)] = 1
	}
	if r.cfg.Release != nil {
		subs[event.ReleaseTopic(r.cfg.Branch)] = 1
		if r.cfg.Withdraw != nil {
			// In the inbound queue, after any offer still queued from the
			// last connection.
			select {
			case r.inbound <- cleared{topic: event.ReleaseTopic(r.cfg.Branch)}:
			case <-ctx.Done():
				c.Disconnect(0)
				return nil, nil, ctx.Err()
			}
		}
	}
	st := c.SubscribeMultiple(subs, r.onMessage)
	if !st.WaitTimeout(10*time.Second) || st.Error() != nil {
		c.Disconnect(0)
		return nil, nil, fmt.Errorf("subscribe: %v", st.Error())
	}
	r.setConnected(c)
	r.log.Info("broker connected", "url", r.cfg.URL)
	return c, lost, nil
}

// cleared is an empty message on topic: what the broker would send had a
// clearing been delivered (the release offer the box holds is dropped).
type cleared struct {
	paho.Message
	topic string
}

func (c cleared) Topic() string   { return c.topic }
func (c cleared) Payload() []byte { return nil }

func (r *Relay) onMessage(_ paho.Client, m paho.Message) {
	_, kind, ok := event.ParseTopic(m.Topic())
	if !ok {
		return
	}
	if kind == event.KindAck {
		var a event.Ack
		if err := event.DecodeMessage(m.Topic(), m.Payload(), &a); err != nil {
			r.log.Warn("ack rejected", "err", err)
			return
		}
		select {
		case r.acks <- a:
		default: // acks are cumulative: a later one covers a dropped one
		}
		return
	}
	select {
	case r.inbound <- m:
	default:
		r.log.Warn("inbound message dropped: queue full", "topic", m.Topic())
	}
}

// applyInbound applies config snapshots and commands one at a time, off paho's
// goroutine (the store applies them between operations, in a transaction).
func (r *Relay) applyInbound(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-r.inbound:
			_, kind, _ := event.ParseTopic(m.Topic())
			switch kind {
			case event.KindConfig:
				if len(m.Payload()) == 0 {
					continue // cleared retained message
				}
				var c event.Config
				if err := event.DecodeMessage(m.Topic(), m.Payload(), &c); err != nil {
					r.log.Warn("config rejected", "err", err)
					continue
				}
				if err := c.Validate(); err != nil {
					r.log.Warn("config rejected", "version", c.Version, "err", err)
					continue
				}
				if err := r.configs.ApplyConfig(ctx, c); err != nil {
					r.log.Warn("config not applied", "version", c.Version, "err", err)
					continue
				}
				r.log.Info("config received", "version", c.Version)
				r.publishStatus(ctx)
			case event.KindCommands:
				var c event.Command
				if err := event.DecodeMessage(m.Topic(), m.Payload(), &c); err != nil {
					r.log.Warn("command rejected", "err", err)
					continue
				}
				if err := r.commands.ApplyCommand(ctx, c); err != nil {
					r.log.Warn("command not applied", "command", c.ID, "type", c.Type, "err", err)
				}
			case event.KindRelease:
				if r.cfg.Release == nil {
					continue
				}
				if len(m.Payload()) == 0 {
					if r.cfg.Withdraw != nil {
						r.cfg.Withdraw(ctx) // offer withdrawn
					}
					continue
				}
				var rel event.Release
				if err := event.DecodeMessage(m.Topic(), m.Payload(), &rel); err != nil {
					r.log.Warn("release offer rejected", "err", err)
					continue
				}
				r.cfg.Release(ctx, rel)
			}
		}
	}
}

func (r *Relay) publishStatus(ctx context.Context) {
	r.mu.Lock()
	c := r.client
	r.mu.Unlock()
	if c == nil {
		return
	}
	b, _ := json.Marshal(r.status(ctx, true))
	c.Publish(event.StatusTopic(r.cfg.Branch), 1, true, b)
}

func (r *Relay) goOffline(c paho.Client) {
	b, _ := json.Marshal(r.status(context.Background(), false))
	c.Publish(event.StatusTopic(r.cfg.Branch), 1, true, b).WaitTimeout(2 * time.Second)
	c.Disconnect(250)
}

// session relays until the connection is lost or ctx ends. It is stateless
// towards the broker: it starts from the outbox's last ack; an ack timeout
// resends one batch (a probe, backing off) and a gap the cloud reports
// resends from the last ack (the cloud drops duplicates).
func (r *Relay) session(ctx context.Context, c paho.Client, lost <-chan error) error {
	s, err := r.outbox.SyncState(ctx)
	if err != nil {
		return fmt.Errorf("outbox state: %w", err)
	}
	w := newWindow(s.LastAck, r.cfg.MaxInFlight, r.cfg.AckTimeout, r.cfg.MaxAckTimeout, r.cfg.GapGrace, r.cfg.Now, nil)
	b, _ := json.Marshal(r.status(ctx, true))
	c.Publish(event.StatusTopic(r.cfg.Branch), 1, true, b)

	// Publishes per second, a burst of up to 10 (IoT Core: 100/s per connection, acks included).
	bucket := ratelimit.NewPacer(r.cfg.PublishRate, min(10, int(r.cfg.PublishRate)), r.cfg.Now)
	tick := time.NewTicker(min(r.cfg.AckTimeout/4, 250*time.Millisecond))
	defer tick.Stop()
	statusAt := r.cfg.Now()
	topic := event.EventsTopic(r.cfg.Branch)
	more := true
	idleCheckAt := r.cfg.Now()
	for {
		r.promise(0)
		// Publish what is pending while the window allows, one message per
		// token: the token is taken before reading the outbox so a message
		// carries everything committed while the relay waited for it.
		for more && w.open() {
			r.promise(0)
			if err := bucket.Wait(ctx); err != nil {
				return err
			}
			if w.needsRead() {
				evs, err := r.outbox.Pending(ctx, w.sent, r.cfg.BatchEvents)
				if err != nil {
					return fmt.Errorf("outbox pending: %w", err)
				}
				if len(evs) == 0 {
					bucket.Undo()
					w.drain()
					more = false
					break
				}
				msgs, lasts, replaced, err := event.SplitBatch(r.cfg.Branch, evs, r.cfg.BatchBytes)
				if err != nil {
					return fmt.Errorf("encode outbox: %w", err)
				}
				// An event that can never be sent goes as a stand-in at its seq
				// (HQ quarantines it): one bad row never stops the branch's sync.
				for _, s := range replaced {
					r.log.Error("outbox event cannot be sent; a stand-in goes in its place", "seq", s.Seq, "event", s.ID, "data", string(s.Data))
				}
				w.queue(evs[0].Seq, msgs, lasts)
			}
			m := w.publish()
			c.Publish(topic, 1, false, m.payload) // the token is no receipt: only the ack counts
			r.log.Debug("batch published", "from", m.first, "seq", m.last, "in_flight", len(w.inflight))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-lost:
			return err
		case <-r.outbox.Written():
			more = true
		case a := <-r.acks:
			more = true
			if w.advances(a.Seq) {
				if err := r.outbox.Ack(ctx, a.Seq); err != nil {
					r.log.Error("ack not recorded", "seq", a.Seq, "err", err)
					continue
				}
				r.mu.Lock()
				r.lastAckAt = r.cfg.Now()
				r.mu.Unlock()
			}
			if w.ack(a) {
				r.resent(resendGap)
				r.log.Info("cloud reports a gap; resending from the last ack", "seq", w.lastAck, "gap", a.Gap)
			}
		case <-tick.C:
			now := r.cfg.Now()
			if w.empty() && !more && now.Sub(idleCheckAt) >= r.cfg.AckTimeout {
				// Safety net: nothing in flight and nothing to read, yet the
				// outbox may hold events past the last ack (a missed Written
				// signal, or a gap the cloud holds with nothing of ours in
				// flight). Look, and send from the last ack if so.
				idleCheckAt = now
				if st, err := r.outbox.SyncState(ctx); err == nil && st.LastSeq > w.lastAck {
					r.log.Info("unacknowledged events with nothing in flight; sending from the last ack", "seq", w.lastAck, "last_seq", st.LastSeq)
					r.resent(resendIdle)
					w.reset()
					more = true
				}
			}
			switch reason, probe := w.expire(); reason {
			case resendTimeout:
				// One batch, the newest in flight: its ack releases the
				// window or reports the gap before it (see window).
				if err := bucket.Wait(ctx); err != nil {
					return err
				}
				c.Publish(topic, 1, false, probe.payload)
				r.resent(resendTimeout)
				r.log.Info("no ack in time; probing with the newest batch in flight", "seq", w.lastAck,
					"probe_from", probe.first, "probe_seq", probe.last, "in_flight", len(w.inflight),
					"probes", w.probes, "next_timeout", w.deadline.Sub(now).Round(time.Millisecond))
			case resendGap:
				// A gap reported while the batches were young: they are old now.
				r.resent(resendGap)
				r.log.Info("cloud still reports a gap; resending from the last ack", "seq", w.lastAck)
				more = true
			}
			if now.Sub(statusAt) >= r.cfg.StatusInterval {
				statusAt = now
				b, _ := json.Marshal(r.status(ctx, true))
				c.Publish(event.StatusTopic(r.cfg.Branch), 1, true, b)
			}
		}
	}
}
