package main

// The HQ web (cloud/web) wiring: its configuration from TICKETERO_* env, the
// first-run admin and the handler that Main mounts at "/".

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	nethttp "net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/cloud/postgres/notify"
	"github.com/ticketero/ticketero/cloud/web"
	"github.com/ticketero/ticketero/shared/clientip"
	"github.com/ticketero/ticketero/shared/envflag"
	"github.com/ticketero/ticketero/shared/problem"
	"github.com/ticketero/ticketero/shared/queue"
	"github.com/ticketero/ticketero/shared/seal"
)

// WebConfig is the HQ web's configuration, from env only (serve's flags are
// the sync link's and the listeners'): TICKETERO_RUT_KEY(_FILE) (see rut.go), TICKETERO_INSECURE_COOKIES,
// TICKETERO_TRUSTED_PROXY_HOPS (TICKETERO_TRUST_PROXY=true is 1),
// TICKETERO_CLIENT_IP_HEADER, TICKETERO_ADMIN_PASSWORD(_FILE),
// TICKETERO_ADMIN_PASSWORD_OUT. Alerts: see AlertConfig.
type WebConfig struct {
	// RUTKey is the network-wide RUT hash key (standard base64, at least 16
	// bytes); it stays in the cloud (rut.go).
	RUTKey          string
	InsecureCookies bool
	TrustProxy      bool
	// ProxyHops is how many trusted proxies append to X-Forwarded-For.
	ProxyHops int
	// ClientIPHeader is a trusted proxy's client-address header.
	ClientIPHeader string
	// AdminPassword is the first admin's password (generated when empty).
	AdminPassword string
	// AdminPasswordOut is where a generated first-admin password is written
	// (mode 0600), never to stdout or the log; empty: a new file in the
	// temporary directory, named on stdout.
	AdminPasswordOut string
}

// Proxy is the trusted proxy the configuration names (the zero Proxy: the
// client is the peer). The HQ web and the enrolment API both key on it.
func (c WebConfig) Proxy() clientip.Proxy {
	return clientip.Proxy{Header: c.ClientIPHeader, Hops: c.ProxyHops}
}

// ParseWebEnv reads the web configuration (envflag) and validates it.
func ParseWebEnv(getenv func(string) string) (WebConfig, error) {
	var c WebConfig
	env := envflag.NewEnv(getenv)
	env.Secret(&c.RUTKey, "TICKETERO_RUT_KEY")
	env.Secret(&c.AdminPassword, "TICKETERO_ADMIN_PASSWORD")
	env.String(&c.AdminPasswordOut, "TICKETERO_ADMIN_PASSWORD_OUT")
	env.String(&c.ClientIPHeader, "TICKETERO_CLIENT_IP_HEADER")
	env.Bool(&c.InsecureCookies, "TICKETERO_INSECURE_COOKIES")
	env.Bool(&c.TrustProxy, "TICKETERO_TRUST_PROXY")
	if c.TrustProxy {
		c.ProxyHops = 1
	}
	env.Int(&c.ProxyHops, "TICKETERO_TRUSTED_PROXY_HOPS")
	if err := env.Err(); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	return c, c.Validate()
}

// Validate checks the web configuration, naming the variable and the value
// (never a secret's value).
func (c WebConfig) Validate() error {
	if c.RUTKey != "" {
		if _, err := seal.DecodeRUTHashKey(c.RUTKey); err != nil {
			return fmt.Errorf("config: TICKETERO_RUT_KEY: %w", err)
		}
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < cloud.MinPasswordLen {
		return fmt.Errorf("config: TICKETERO_ADMIN_PASSWORD: want at least %d characters", cloud.MinPasswordLen)
	}
	if c.ProxyHops < 0 || c.ProxyHops > 10 {
		return fmt.Errorf("config: TICKETERO_TRUSTED_PROXY_HOPS %d: want 0..10", c.ProxyHops)
	}
	if h := c.ClientIPHeader; strings.ContainsAny(h, " \t:\r\n") {
		return fmt.Errorf("config: TICKETERO_CLIENT_IP_HEADER %q: not a header name", h)
	}
	return nil
}

// newUI builds the HQ web over Main's pool and broker publisher, creating the
// first admin on an empty database (its password goes to stdout once, never
// to the log). It returns the handler and the live-push loop to run.
func newUI(m *Main) (nethttp.Handler, func(context.Context), error) {
	wc := m.Config.Web
	store := m.hq
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	handed, err := bootstrapAdmin(ctx, store, wc, os.Stdout)
	if err != nil {
		return nil, nil, err
	}
	cfg := web.Config{Store: store, Log: m.Log, SecureCookies: !wc.InsecureCookies,
		Changes:          &postgres.Listener{Pool: m.Pool, Channel: cloud.ChangesChannel, Log: m.Log},
		Boxes:            postgres.Releases{Pool: m.Pool}.Boxes,
		TrustedProxyHops: wc.ProxyHops, ClientIPHeader: wc.ClientIPHeader,
		PasswordChanged: handed.forget(m.Log)}
	if m.MQTT != nil {
		cfg.Publisher = m.MQTT
	}
	if m.rutKeys != nil {
		cfg.RUTSealKey = m.rutKeys.PublicKey()
	}
	// Dead-lettered Telegram messages on the overview (listing them needs no
	// lookup hasher).
	cfg.DeadLetters = notify.New(m.Pool, nil).DeadJobs
	if m.appts != nil { // the book (appointments.go)
		cfg.Appointments = m.appts
	}
	h, err := web.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	m.webOps = h.OpsGuard(m.Config.OpsToken)
	return h, func(ctx context.Context) {
		var wg sync.WaitGroup
		if m.MQTT != nil {
			wg.Add(1)
			go func() { defer wg.Done(); m.republishRUTSeal(ctx, store, m.MQTT, m.MQTT.Ready) }()
		}
		_ = h.Run(ctx)
		wg.Wait()
	}, nil
}

// handedPassword is the first admin's generated password file: it is deleted
// as soon as that admin has changed his password, so the secret does not
// outlive its use.
type handedPassword struct{ email, path string }

// forget returns the hook the HQ web calls after a password change; nil when
// no file was handed over.
func (p handedPassword) forget(log *slog.Logger) func(email string) {
	if p.path == "" {
		return nil
	}
	var once sync.Once
	return func(email string) {
		if email != p.email {
			return
		}
		once.Do(func() {
			if err := os.Remove(p.path); err != nil && !errors.Is(err, os.ErrNotExist) {
				log.Warn("could not delete the first admin's password file", "path", p.path, "err", err)
				return
			}
			log.Info("first admin changed his password; password file deleted", "path", p.path)
		})
	}
}

// bootstrapAdmin creates the first admin on an empty database. Its password
// is the configured one, or a generated one written to AdminPasswordOut (mode
// 0600, created afresh): stdout (CloudWatch on ECS) only says where, and the
// file is deleted once the admin has changed it (which he must at first
// sign-in).
func bootstrapAdmin(ctx context.Context, store *hq.Store, wc WebConfig, stdout io.Writer) (handedPassword, error) {
	out := wc.AdminPasswordOut
	deliver := func(_, pw string) error {
		if wc.AdminPassword != "" {
			return nil
		}
		var err error
		out, err = writeSecret(out, pw+"\n")
		return err
	}
	email, _, created, err := store.BootstrapWith(ctx, wc.AdminPassword, deliver)
	if err != nil {
		return handedPassword{}, errors.Join(errors.New("bootstrap admin"), err)
	}
	switch {
	case !created:
	case wc.AdminPassword != "":
		fmt.Fprintf(stdout, "ticketero-cloud: first run: created admin %s with the password of TICKETERO_ADMIN_PASSWORD; it must be changed at first sign-in\n", email)
	default:
		fmt.Fprintf(stdout, "ticketero-cloud: first run: created admin %s; its password is in %s (mode 0600; deleted once it is changed, which it must be at first sign-in)\n", email, out)
		return handedPassword{email: email, path: out}, nil
	}
	return handedPassword{}, nil
}

// writeSecret writes a new file only its owner may read: at path, replacing
// any old one (never following a link planted in its place), or, when path is
// empty, under a new name in the temporary directory. It returns the path.
func writeSecret(path, content string) (string, error) {
	var (
		f   *os.File
		err error
	)
	if path == "" {
		f, err = os.CreateTemp("", "ticketero-admin-password-") // mode 0600
	} else {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return path, err
		}
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- path from the operator's configuration (flag, env or data directory), never from a request
	}
	if err != nil {
		return path, err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return f.Name(), err
	}
	return f.Name(), f.Close()
}

// opsGuard protects /metrics and the sync API on the public listener: HQ
// admins (when the HQ web is mounted) or the ops token may read them.
func opsGuard(m *Main) func(nethttp.Handler) nethttp.Handler {
	if m.webOps != nil {
		return m.webOps
	}
	token := m.Config.OpsToken
	return func(next nethttp.Handler) nethttp.Handler {
		return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
			bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || token == "" || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(bearer)), []byte(token)) != 1 {
				problem.Write(w, r, queue.Errorf(queue.CodeUnauthorized, "hq.ops.unauthorized"))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
