package main

// The HQ web (cloud/web) wiring: its configuration from TICKETERO_* env, the
// first-run admin and the handler that Main mounts at "/".

import (
	"context"
	"errors"
	"fmt"
	"io"
	nethttp "net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/cloud/postgres/notify"
	"github.com/ticketero/ticketero/cloud/web"
)

// WebConfig is the HQ web's configuration (env only, so serve's flags stay the
// sync engineer's): TICKETERO_RUT_KEY(_FILE), TICKETERO_INSECURE_COOKIES,
// TICKETERO_TRUST_PROXY. Alerts: see AlertConfig.
type WebConfig struct {
	RUTKey          string
	InsecureCookies bool
	TrustProxy      bool
}

// ParseWebEnv reads the web configuration and validates it.
func ParseWebEnv(getenv func(string) string) (WebConfig, error) {
	c := WebConfig{RUTKey: getenv("TICKETERO_RUT_KEY")}
	if f := getenv("TICKETERO_RUT_KEY_FILE"); c.RUTKey == "" && f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return c, fmt.Errorf("config: rut key file %q: %w", f, err)
		}
		c.RUTKey = strings.TrimSpace(string(b))
	}
	for name, dst := range map[string]*bool{"TICKETERO_INSECURE_COOKIES": &c.InsecureCookies, "TICKETERO_TRUST_PROXY": &c.TrustProxy} {
		if v := getenv(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return c, fmt.Errorf("config: %s %q: want true or false", name, v)
			}
			*dst = b
		}
	}
	return c, nil
}

// newUI builds the HQ web over Main's pool and broker publisher, creating the
// first admin on an empty database (its password goes to stdout once, never
// to the log). It returns the handler and the live-push loop to run.
func newUI(m *Main) (nethttp.Handler, func(context.Context), error) {
	wc, err := ParseWebEnv(os.Getenv)
	if err != nil {
		return nil, nil, err
	}
	store := hq.New(m.Pool, time.Now)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := bootstrapAdmin(ctx, store, os.Stdout); err != nil {
		return nil, nil, err
	}
	if wc.RUTKey == "" {
		m.Log.Warn("TICKETERO_RUT_KEY is not set: published configs carry no RUT hash key")
	}
	cfg := web.Config{Store: store, Log: m.Log, RUTKey: wc.RUTKey, SecureCookies: !wc.InsecureCookies,
		TrustForwardedFor: wc.TrustProxy}
	if m.MQTT != nil {
		cfg.Publisher = m.MQTT
	}
	// Dead-lettered Telegram messages on the overview (listing them needs no
	// lookup hasher).
	cfg.DeadLetters = notify.New(m.Pool, nil).DeadJobs
	h, err := web.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	return h, func(ctx context.Context) { _ = h.Run(ctx) }, nil
}

func bootstrapAdmin(ctx context.Context, store *hq.Store, stdout io.Writer) error {
	email, pw, created, err := store.Bootstrap(ctx)
	if err != nil {
		return errors.Join(errors.New("bootstrap admin"), err)
	}
	if created {
		fmt.Fprintf(stdout, "ticketero-cloud: first run: created admin %s with password %s (shown once; change it)\n", email, pw)
	}
	return nil
}
