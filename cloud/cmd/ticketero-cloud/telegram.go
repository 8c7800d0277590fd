package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/notify"
	"github.com/ticketero/ticketero/cloud/sns"
	"github.com/ticketero/ticketero/cloud/telegram"
	"github.com/ticketero/ticketero/shared/envflag"
	"github.com/ticketero/ticketero/shared/i18n"
)

// TelegramWebhookPath is where Telegram posts updates in webhook mode.
const TelegramWebhookPath = "/telegram/webhook"

// telegramSetup is Telegram's configuration and, when a token is set, the
// notification store: the ingest is built with it as its job writer, so it
// writes the jobs in its own transaction.
type telegramSetup struct {
	cfg   telegram.Config
	store *notify.Store // nil: Telegram off
}

// telegramConfigFromEnv reads the TICKETERO_TELEGRAM_* and
// TICKETERO_DATA_KEY variables (secrets also from *_FILE); an error names the
// variable. The adapter's Validate checks the values together.
func telegramConfigFromEnv(getenv func(string) string) (telegram.Config, error) {
	c := telegram.Config{Mode: telegram.ModePolling, GroupLang: i18n.ES}
	env := envflag.NewEnv(getenv)
	var key, group, retries, lease string
	env.Secret(&c.Token, "TICKETERO_TELEGRAM_TOKEN")
	env.Secret(&c.WebhookSecret, "TICKETERO_TELEGRAM_WEBHOOK_SECRET")
	env.Secret(&key, "TICKETERO_DATA_KEY")
	env.String(&c.BotName, "TICKETERO_TELEGRAM_BOT")
	env.String(&c.Mode, "TICKETERO_TELEGRAM_MODE")
	env.String(&c.WebhookURL, "TICKETERO_TELEGRAM_WEBHOOK_URL")
	env.String(&c.APIBase, "TICKETERO_TELEGRAM_API")
	env.String(&group, "TICKETERO_TELEGRAM_GROUP")
	env.Float(&c.BotRate, "TICKETERO_TELEGRAM_RATE")
	env.String(&retries, "TICKETERO_TELEGRAM_RETRIES")
	env.String(&lease, "TICKETERO_TELEGRAM_LEASE")
	if group != "" {
		var err error
		if c.GroupChatID, err = strconv.ParseInt(group, 10, 64); err != nil {
			env.Invalid("TICKETERO_TELEGRAM_GROUP", group, "a chat ID")
		}
	}
	if retries != "" {
		for _, part := range strings.Split(retries, ",") {
			d, err := time.ParseDuration(strings.TrimSpace(part))
			if err != nil || d <= 0 {
				env.Invalid("TICKETERO_TELEGRAM_RETRIES", retries, "durations such as 30s,60s,120s")
				break
			}
			c.Retries = append(c.Retries, d)
		}
	}
	if lease != "" {
		d, err := time.ParseDuration(lease)
		if err != nil || d < time.Second {
			env.Invalid("TICKETERO_TELEGRAM_LEASE", lease, "a duration of at least 1s")
		}
		c.Pacing = telegram.DefaultPacing
		c.Pacing.Lease = d
	}
	if err := env.Err(); err != nil {
		return c, err
	}
	if key != "" {
		var err error
		if c.DataKey, err = telegram.ParseDataKey(key); err != nil {
			return c, err
		}
	}
	return c, nil
}

// parseSMSEnv reads the SMS channel's configuration: TICKETERO_SMS (sns or
// off), TICKETERO_SNS_REGION, TICKETERO_SNS_SENDER_ID, TICKETERO_SNS_ENDPOINT,
// TICKETERO_SNS_RATE (messages per second, default 10) and
// TICKETERO_SNS_MAX_PRICE, then validates it.
func parseSMSEnv(getenv func(string) string) (sns.Config, error) {
	c := sns.Config{Rate: 10}
	env := envflag.NewEnv(getenv)
	mode := "off"
	env.String(&mode, "TICKETERO_SMS")
	switch mode {
	case "off":
	case "sns":
		c.Enabled = true
	default:
		env.Invalid("TICKETERO_SMS", mode, "sns or off")
	}
	env.String(&c.Region, "TICKETERO_SNS_REGION")
	env.String(&c.SenderID, "TICKETERO_SNS_SENDER_ID")
	env.String(&c.Endpoint, "TICKETERO_SNS_ENDPOINT")
	env.String(&c.MaxPrice, "TICKETERO_SNS_MAX_PRICE")
	env.Float(&c.Rate, "TICKETERO_SNS_RATE")
	if err := env.Err(); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	return c, c.Validate()
}

// newTelegramSetup builds the notification store when a Telegram token is
// set (Config.Telegram, checked by readEnv).
func newTelegramSetup(m *Main) (telegramSetup, error) {
	cfg := m.Config.Telegram
	if !cfg.Enabled() {
		return telegramSetup{cfg: cfg}, nil
	}
	keys, err := telegram.NewKeys(cfg.DataKey)
	if err != nil {
		return telegramSetup{}, err
	}
	return telegramSetup{cfg: cfg, store: notify.New(m.Pool, keys)}, nil
}

// ingestOptions are the ingest's options for this setup.
func (t telegramSetup) ingestOptions() []postgres.Option {
	if t.store == nil {
		return nil
	}
	return []postgres.Option{postgres.WithJobs(t.store)}
}

// newTelegram wires Telegram notifications when TICKETERO_TELEGRAM_TOKEN is
// set: commands go out over MQTT, alerts come from hq_alerts, and in webhook
// mode the handler is mounted at TelegramWebhookPath in front of the UI. run
// is what every replica runs; poll, in polling mode, is the getUpdates
// poller, which Telegram allows one of per bot: serve runs it on the
// cluster's leader only (alerts.go). Both are nil without a token.
func newTelegram(m *Main, t telegramSetup) (run, poll func(context.Context), err error) {
	if t.store == nil {
		m.Log.Info("Telegram notifications off (TICKETERO_TELEGRAM_TOKEN not set)")
		return nil, nil, nil
	}
	var pub cloud.CommandPublisher
	if m.MQTT != nil {
		pub = m.MQTT
	}
	svc, err := telegram.NewService(t.cfg, t.store, pub, t.store.AlertsAfter, m.Log)
	if err != nil {
		return nil, nil, err
	}
	svc.Worker.Metrics = telegram.NewMetrics(m.Registry)
	// The scores, reminders and purge run once per cluster and period
	// (postgres.Passes): the other replicas skip their ticks.
	svc.Passes = postgres.Passes{Pool: m.Pool}
	svc.Bot.Appointments = m.appts // /agendar, /mis_horas, /fila
	if smsCfg := m.Config.SMS; smsCfg.Enabled {
		client, err := sns.New(context.Background(), smsCfg, nil)
		if err != nil {
			return nil, nil, err
		}
		d := &sns.Deliverer{Client: client, Keys: svc.Keys, Store: t.store}
		if err := svc.EnableSMS(m.rutKeys, d, smsCfg.Rate); err != nil {
			return nil, nil, err
		}
		m.Log.Info("SMS notifications on (Amazon SNS)", "sender_id", smsCfg.SenderID, "rate", smsCfg.Rate)
	}
	if t.cfg.Mode == telegram.ModeWebhook {
		r := chi.NewRouter()
		r.Handle(TelegramWebhookPath, svc.Webhook())
		if m.UI != nil {
			r.Mount("/", m.UI)
		}
		m.UI = r
	}
	if svc.Polling() {
		return func(ctx context.Context) { _ = svc.RunShared(ctx) }, func(ctx context.Context) { _ = svc.Poll(ctx) }, nil
	}
	return func(ctx context.Context) { _ = svc.Run(ctx) }, nil, nil
}
