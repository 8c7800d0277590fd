package main

import (
	"context"
	nethttp "net/http"
	"os"

	"github.com/ticketero/ticketero/cloud/telegram"
)

// TelegramWebhookPath is where Telegram posts updates in webhook mode.
const TelegramWebhookPath = "/telegram/webhook"

// newTelegram wires Telegram notifications when TICKETERO_TELEGRAM_TOKEN is
// set (see telegram.ConfigFromEnv): the ingest writes notification jobs in its
// transaction, commands go out over MQTT, alerts come from the dashboard's
// hq_alerts, and in webhook mode the handler is mounted at
// TelegramWebhookPath in front of the UI. It returns nil without a token.
func newTelegram(m *Main) (func(context.Context), error) {
	cfg, err := telegram.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	if !cfg.Enabled() {
		m.Log.Info("Telegram notifications off (TICKETERO_TELEGRAM_TOKEN not set)")
		return nil, nil
	}
	var pub telegram.CommandPublisher
	if m.MQTT != nil {
		pub = m.MQTT
	}
	svc, err := telegram.NewService(cfg, m.Pool, pub, telegram.HQAlerts(m.Pool), m.Log)
	if err != nil {
		return nil, err
	}
	svc.Worker.Metrics = telegram.NewMetrics(m.Registry)
	m.Store.OnApply = svc.EnqueueEvents
	if cfg.Mode == telegram.ModeWebhook {
		mux := nethttp.NewServeMux()
		mux.Handle(TelegramWebhookPath, svc.Webhook())
		if m.UI != nil {
			mux.Handle("/", m.UI)
		}
		m.UI = mux
	}
	return func(ctx context.Context) { _ = svc.Run(ctx) }, nil
}
