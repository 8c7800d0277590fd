// Package telegram notifies customers on Telegram (confirmation, pre-notice,
// your turn, recall, transfer, no-show, day closed), answers their commands
// (/start <token>, /estado, /cancelar, /recordar, /ayuda, /stop) and sends
// supervisors' alert digests to a group. Jobs are written by the ingest in
// the same transaction as the events (the ingest's job writer) and sent by
// workers on any replica, rate limited per bot and per chat.
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/seal"
)

// Update modes.
const (
	ModePolling = "polling" // getUpdates long polling: one consumer per bot (in a cluster, the leader)
	ModeWebhook = "webhook" // production: Telegram posts to WebhookURL
)

// Config is the Telegram part of the cloud's configuration.
type Config struct {
	// Token is the bot token (TICKETERO_TELEGRAM_TOKEN or _FILE). Empty
	// disables Telegram. Never logged.
	Token string
	// BotName is the bot's username, for t.me links (TICKETERO_TELEGRAM_BOT).
	BotName string
	// Mode is polling or webhook (TICKETERO_TELEGRAM_MODE, default polling).
	Mode string
	// WebhookURL is the public URL of the webhook handler; when set in webhook
	// mode the service registers it with setWebhook (TICKETERO_TELEGRAM_WEBHOOK_URL).
	WebhookURL string
	// WebhookSecret is the secret_token checked on every webhook call
	// (TICKETERO_TELEGRAM_WEBHOOK_SECRET or _FILE).
	WebhookSecret string
	// APIBase is the Bot API's base URL; tests point it at a fake
	// (TICKETERO_TELEGRAM_API, default https://api.telegram.org).
	APIBase string
	// GroupChatID is the supervisors' group for alert digests, 0 for none
	// (TICKETERO_TELEGRAM_GROUP).
	GroupChatID int64
	// GroupLang is the digests' language (es).
	GroupLang i18n.Lang
	// DataKey seals chat IDs at rest: 32 bytes (TICKETERO_DATA_KEY or _FILE,
	// base64 or hex).
	DataKey []byte
	// BotRate is this process's share of the bot's ~30 messages/s (29). With
	// several replicas, give each 29/replicas (TICKETERO_TELEGRAM_RATE).
	BotRate float64
	// Retries are the delays of the retries (30 s, 60 s, 120 s;
	// TICKETERO_TELEGRAM_RETRIES, e.g. "30s,60s,120s").
	Retries []time.Duration
	// Pacing per chat and the sending lease; zero means DefaultPacing
	// (TICKETERO_TELEGRAM_LEASE sets the lease: how long a job claimed by a
	// replica that died waits before another sends it).
	Pacing cloud.Pacing
	// Poll is how often an idle worker looks for jobs (100 ms).
	Poll time.Duration
	// Concurrency is how many sends may be in flight (8).
	Concurrency int
	// CommandResend is how often pending branch commands are re-published (10 s;
	// the program's cloud/commands loop takes it).
	CommandResend time.Duration
	// DigestEvery is the alert digest period (≥ 3 s; default 30 s).
	DigestEvery time.Duration
}

// Enabled reports whether a bot token is configured.
func (c Config) Enabled() bool { return c.Token != "" }

// Validate checks an enabled config; it names the bad field.
func (c Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	if strings.ContainsAny(c.Token, "/ \n") {
		return errors.New("TICKETERO_TELEGRAM_TOKEN: malformed bot token")
	}
	if len(c.DataKey) != 32 {
		return errors.New("TICKETERO_DATA_KEY: required with Telegram (32 bytes, base64 or hex) to seal chat IDs")
	}
	switch c.Mode {
	case ModePolling:
	case ModeWebhook:
		if len(c.WebhookSecret) < 16 {
			return errors.New("TICKETERO_TELEGRAM_WEBHOOK_SECRET: required in webhook mode (at least 16 characters)")
		}
		if c.WebhookURL != "" {
			if u, err := url.Parse(c.WebhookURL); err != nil || u.Scheme != "https" {
				return fmt.Errorf("TICKETERO_TELEGRAM_WEBHOOK_URL %q: must be an https URL", c.WebhookURL)
			}
		}
	default:
		return fmt.Errorf("TICKETERO_TELEGRAM_MODE %q: must be polling or webhook", c.Mode)
	}
	if c.BotRate < 0 || c.BotRate > 30 {
		return fmt.Errorf("TICKETERO_TELEGRAM_RATE %v: must be between 0 and 30", c.BotRate)
	}
	if c.APIBase != "" {
		if u, err := url.Parse(c.APIBase); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
			return fmt.Errorf("TICKETERO_TELEGRAM_API %q: not an http(s) URL", c.APIBase)
		}
	}
	return nil
}

// StartURL is the link a ticket's QR code carries: t.me/<bot>?start=<token>.
func StartURL(botName, token string) string {
	return "https://t.me/" + url.PathEscape(botName) + "?start=" + url.QueryEscape(token)
}

// Store is the notification storage the service runs on (postgres/notify
// implements it): the bot's, the worker's and the digester's parts and the
// background tasks'.
type Store interface {
	BotStore
	JobQueue
	DigestStore
	// Listen calls wake each time jobs are committed, until ctx ends.
	Listen(ctx context.Context, wake func()) error
	// ResolvePending links tickets that arrived after their token's /start
	// (scanned within since).
	ResolvePending(ctx context.Context, since time.Duration) (int, error)
	// Purge deletes what the retention no longer allows; it returns the rows.
	Purge(ctx context.Context, r cloud.NotificationRetention) (int64, error)
	// EnsureChat stores a chat outside an update (the supervisors' group).
	EnsureChat(ctx context.Context, hash string, sealed []byte, kind, lang string) (int64, error)
	// UsePhones makes the numbers branches send SMS recipients.
	UsePhones(k cloud.PhoneKeys)
	// QueueReminders writes the due booking reminders (the day before, one
	// hour before) of the bookings chats follow.
	QueueReminders(ctx context.Context) (int, error)
	// ExecutiveScores are each branch's executives' customer scores over the
	// last days days.
	ExecutiveScores(ctx context.Context, days int) (map[string][]event.ExecutiveScore, error)
}

// Service wires the store, the worker, the update receiver, the pending-link
// resolver and the alert digester (cloud/commands re-publishes commands).
type Service struct {
	cfg    Config
	Store  Store
	Keys   *Keys
	Client *Client
	Bot    *Bot
	Worker *Worker
	// SMSWorker delivers the SMS jobs (nil while SMS is off).
	SMSWorker *Worker
	Commands  cloud.CommandPublisher
	Alerts    AlertSource
	// Passes, when set (several replicas), runs the pending links,
	// scores, reminders and purge passes once per cluster and period
	// (postgres.Passes); nil runs them on every tick. Set it before Run.
	Passes Passes
	log    *slog.Logger
}

// Passes lets one replica at a time run a periodic job's pass
// (postgres.Passes).
type Passes interface {
	cloud.PassClaimer
	// Keep is Claim for a replica that keeps the job while it ticks (holder
	// its own token, the same at each claim); kept reports that no other
	// replica ran a pass since holder's last one.
	Keep(ctx context.Context, job, holder string, hold time.Duration) (end func(ctx context.Context, rest time.Duration) error, ok, kept bool, err error)
}

// Jobs' names for Passes, their periods, and how long a scores claim
// holds at most (how long a replica killed mid-pass delays the job: a
// pass sends up to one command per branch). The links' and reminders'
// claims hold a minute (a pass is a statement or two), the purge's half
// its period.
const (
	LinksJob       = "telegram.links"
	RemindersJob   = "telegram.reminders"
	PurgeJob       = "telegram.purge"
	LinksEvery     = 2 * time.Second
	RemindersEvery = 30 * time.Second
	PurgeEvery     = time.Hour
	PassHold       = 5 * time.Minute
)

// NewService builds the service over store (postgres/notify over the cloud's
// pool, keyed by the same data key). pub (commands to branches) and alerts
// may be nil. Set Worker.Metrics (NewMetrics) before Run to export metrics.
func NewService(cfg Config, store Store, pub cloud.CommandPublisher, alerts AlertSource, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	keys, err := NewKeys(cfg.DataKey)
	if err != nil {
		return nil, err
	}
	client := NewClient(cfg.APIBase, cfg.Token, nil)
	rate := cfg.BotRate
	if rate == 0 {
		rate = 29
	}
	s := &Service{cfg: cfg, Store: store, Keys: keys, Client: client, Commands: pub, Alerts: alerts,
		log: log.With("component", "telegram")}
	s.Bot = &Bot{Store: store, Keys: keys, Commands: pub, Callbacks: client, Log: s.log}
	s.Worker = &Worker{Store: store, Bot: client, Keys: keys, Limiter: NewLimiter(rate), Retries: cfg.Retries,
		Pacing: cfg.Pacing, Poll: cfg.Poll, Concurrency: cfg.Concurrency, Log: s.log}
	return s, nil
}

// SMSSender is the SMS channel's sender (sns.Deliverer).
type SMSSender = ChannelDeliverer

// EnableSMS turns the SMS channel on: numbers sealed by branches open with
// rut (the cloud's RUT key pair) and become SMS recipients, and a second
// worker of the same pipeline delivers the channel's jobs through send at
// rate messages per second. Call it before Run.
func (s *Service) EnableSMS(rut *seal.RUTKeys, send SMSSender, rate float64) error {
	if rut == nil {
		return errors.New("TICKETERO_SMS: needs TICKETERO_RUT_KEY (branches seal numbers to the cloud's RUT key pair)")
	}
	s.Store.UsePhones(PhoneKeys{Keys: s.Keys, RUT: rut})
	s.SMSWorker = &Worker{Store: s.Store, Channel: cloud.ChannelSMS, Deliver: send, Keys: s.Keys,
		Limiter: NewLimiter(rate), Retries: s.cfg.Retries, Pacing: s.cfg.Pacing, Poll: s.cfg.Poll,
		Concurrency: s.cfg.Concurrency, Log: s.log, Metrics: s.Worker.Metrics}
	return nil
}

// Webhook returns the handler to mount (e.g. at /telegram/webhook) in webhook mode.
func (s *Service) Webhook() http.Handler {
	return &Webhook{Bot: s.Bot, Secret: s.cfg.WebhookSecret, Log: s.log}
}

// Run runs every loop until ctx ends, the getUpdates poller among them in
// polling mode: a single instance.
func (s *Service) Run(ctx context.Context) error { return s.run(ctx, s.cfg.Mode != ModeWebhook) }

// RunShared runs every loop but the getUpdates poller until ctx ends: what
// each replica of a cluster runs, while one of them (the leader) runs Poll.
// In webhook mode it is Run.
func (s *Service) RunShared(ctx context.Context) error { return s.run(ctx, false) }

// Polling reports whether updates come by getUpdates (polling mode), which
// one process per bot may call at a time: Telegram answers 409 Conflict to
// a second consumer.
func (s *Service) Polling() bool { return s.cfg.Mode != ModeWebhook }

// Poll receives updates by getUpdates long polling until ctx ends, after
// clearing any webhook left over (getUpdates answers 409 while one is set).
func (s *Service) Poll(ctx context.Context) error {
	if err := s.Client.DeleteWebhook(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("deleteWebhook failed", "err", err)
	}
	return (&Poller{API: s.Client, Bot: s.Bot, Log: s.log}).Run(ctx)
}

// run runs every loop, the poller too when poll is set.
func (s *Service) run(ctx context.Context, poll bool) error {
	var wg sync.WaitGroup
	run := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("telegram loop stopped", "loop", name, "err", err)
			}
		}()
	}
	wake, smsWake := make(chan struct{}, 1), make(chan struct{}, 1)
	s.Worker.Wake = wake
	run("listen", func(ctx context.Context) error {
		return s.Store.Listen(ctx, func() {
			for _, c := range []chan struct{}{wake, smsWake} {
				select {
				case c <- struct{}{}:
				default:
				}
			}
		})
	})
	run("worker", s.Worker.Run)
	if s.SMSWorker != nil {
		if s.SMSWorker.Metrics == nil {
			s.SMSWorker.Metrics = s.Worker.Metrics
		}
		s.SMSWorker.Wake = smsWake
		run("sms worker", s.SMSWorker.Run)
	}
	switch {
	case !s.Polling():
		if s.cfg.WebhookURL != "" {
			if err := s.Client.SetWebhook(ctx, s.cfg.WebhookURL, s.cfg.WebhookSecret); err != nil {
				s.log.Error("setWebhook failed; updates will not arrive", "err", err)
			}
		}
	case poll:
		run("poller", s.Poll)
	}
	run("links", func(ctx context.Context) error {
		return s.every(ctx, LinksEvery, s.pass(ctx, LinksJob, LinksEvery, time.Minute, func() error {
			_, err := s.Store.ResolvePending(ctx, 24*time.Hour)
			return err
		}))
	})
	run("reminders", func(ctx context.Context) error {
		return s.every(ctx, RemindersEvery, s.pass(ctx, RemindersJob, RemindersEvery, time.Minute, func() error {
			_, err := s.Store.QueueReminders(ctx)
			return err
		}))
	})
	run("purge", func(ctx context.Context) error {
		return s.every(ctx, PurgeEvery, s.pass(ctx, PurgeJob, PurgeEvery, PurgeEvery/2, func() error {
			n, err := s.Store.Purge(ctx, cloud.DefaultNotificationRetention)
			if n > 0 {
				s.log.Info("telegram data past retention deleted", "rows", n)
			}
			return err
		}))
	})
	if s.Commands != nil {
		run("scores", (&ScorePublisher{Store: s.Store, Commands: s.Commands, Passes: s.Passes, Log: s.log}).Run)
	}
	// Pending branch commands (this bot's /cancelar among them) are published
	// again by cloud/commands, wired in cmd: it runs with Telegram off too.
	if s.cfg.GroupChatID != 0 && s.Alerts != nil {
		sealed, err := s.Keys.SealChat(s.cfg.GroupChatID)
		if err != nil {
			return err
		}
		lang := s.cfg.GroupLang
		if lang == "" {
			lang = i18n.ES
		}
		row, err := s.Store.EnsureChat(ctx, s.Keys.ChatHash(s.cfg.GroupChatID), sealed, "group", string(lang))
		if err != nil {
			return err
		}
		de := s.cfg.DigestEvery
		if de <= 0 {
			de = 30 * time.Second
		}
		run("digest", (&Digester{Store: s.Store, Source: s.Alerts, ChatRow: row, Lang: lang, Every: de, Log: s.log}).Run)
	}
	wg.Wait()
	return nil
}

// pass is fn run once per cluster with Passes: only by the replica that
// claims job's pass (held for hold at most), the others skipping their
// tick; the claim ends half a period after a pass that succeeded (the pass
// after that finds nothing left by this one) and at once after one that
// failed, so another replica tries at its tick. Without Passes it is fn.
func (s *Service) pass(ctx context.Context, job string, every, hold time.Duration, fn func() error) func() error {
	if s.Passes == nil {
		return fn
	}
	return func() error {
		_, err := cloud.RunPass(ctx, s.Passes, job, hold, every/2, fn)
		return err
	}
}

// every runs fn every d until ctx ends; a failure is logged and retried at
// the next tick (the database may be restarting).
func (s *Service) every(ctx context.Context, d time.Duration, fn func() error) error {
	return tick(ctx, d, s.log, fn)
}

// tick is Service.every with its logger.
func tick(ctx context.Context, d time.Duration, log *slog.Logger, fn func() error) error {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		if err := fn(); err != nil && ctx.Err() == nil {
			log.Warn("telegram background task failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
