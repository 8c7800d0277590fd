package main

import (
	"context"
	"os"

	"github.com/go-chi/chi/v5"

	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/notify"
	"github.com/ticketero/ticketero/cloud/sns"
	"github.com/ticketero/ticketero/cloud/telegram"
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

// newTelegramSetup reads Telegram's configuration (see telegram.ConfigFromEnv)
// and builds the notification store when a token is set.
func newTelegramSetup(m *Main) (telegramSetup, error) {
	cfg, err := telegram.ConfigFromEnv(os.Getenv)
	if err != nil {
		return telegramSetup{}, err
	}
	if !cfg.Enabled() {
		return telegramSetup{cfg: cfg}, nil
	}
	if err := cfg.Validate(); err != nil {
		return telegramSetup{}, err
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
// mode the handler is mounted at TelegramWebhookPath in front of the UI. It
// returns nil without a token.
func newTelegram(m *Main, t telegramSetup) (func(context.Context), error) {
	if t.store == nil {
		m.Log.Info("Telegram notifications off (TICKETERO_TELEGRAM_TOKEN not set)")
		return nil, nil
	}
	var pub telegram.CommandPublisher
	if m.MQTT != nil {
		pub = m.MQTT
	}
	svc, err := telegram.NewService(t.cfg, t.store, pub, telegram.HQAlerts(m.Pool), m.Log)
	if err != nil {
		return nil, err
	}
	svc.Worker.Metrics = telegram.NewMetrics(m.Registry)
	smsCfg, err := sns.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	if smsCfg.Enabled {
		client, err := sns.New(context.Background(), smsCfg, nil)
		if err != nil {
			return nil, err
		}
		d := &sns.Deliverer{Client: client, Keys: svc.Keys, Store: svc.Store}
		if err := svc.EnableSMS(m.rutKeys, d, smsCfg.Rate); err != nil {
			return nil, err
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
	return func(ctx context.Context) { _ = svc.Run(ctx) }, nil
}
