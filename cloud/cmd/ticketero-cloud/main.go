// Command ticketero-cloud is the HQ service: it ingests branch events (MQTT
// shared subscription or SQS) into PostgreSQL exactly once in effect, acks them,
// and serves the HTTP API (and the HQ dashboard).
//
//	ticketero-cloud serve --db URL --mqtt URL --cert F --key F --ca F --http ADDR [--no-migrate] [--sqs-queue-url URL]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	nethttp "net/http"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/enroll"
	cloudhttp "github.com/ticketero/ticketero/cloud/http"
	"github.com/ticketero/ticketero/cloud/ingest"
	"github.com/ticketero/ticketero/cloud/mqtt"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/appt"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/cloud/retention"
	"github.com/ticketero/ticketero/cloud/sns"
	"github.com/ticketero/ticketero/cloud/sqs"
	"github.com/ticketero/ticketero/cloud/telegram"
	"github.com/ticketero/ticketero/shared/envflag"
	"github.com/ticketero/ticketero/shared/seal"
)

// Version is set at build time (-ldflags "-X main.Version=...").
var Version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ticketero-cloud:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: ticketero-cloud serve|user|token|enroll-code|release ... (serve --help lists the flags)")
	}
	switch args[0] {
	case "serve":
		cfg, err := ParseServe(args[1:], os.Getenv)
		if err != nil {
			return err
		}
		m := NewMain(cfg, NewLogger(stderr, cfg.LogFormat, cfg.LogLevel))
		if err := m.Run(ctx); err != nil {
			return err
		}
		<-ctx.Done()
		return m.Close()
	case "user": // user.go
		return userCommand(ctx, args[1:], stdout, stderr)
	case "token": // user.go
		return tokenCommand(ctx, args[1:], stdout, stderr)
	case "enroll-code": // enroll.go
		return enrollCodeCommand(ctx, args[1:], stdout, stderr)
	case "release": // release.go
		return releaseCommand(ctx, args[1:], stdout, stderr)
	default:
		return fmt.Errorf("unknown command %q (want serve, user, token, enroll-code or release)", args[0])
	}
}

// NewLogger builds the process's slog handler once: JSON unless format is
// "text", level from level (debug, info, warn, error; checked by Config.Validate).
func NewLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// Config is the serve command's configuration.
type Config struct {
	DB        string // --db, TICKETERO_DB (or TICKETERO_DB_FILE)
	MQTT      string // --mqtt, TICKETERO_MQTT
	Cert      string // --cert, TICKETERO_MQTT_CERT
	Key       string // --key, TICKETERO_MQTT_KEY
	CA        string // --ca, TICKETERO_MQTT_CA
	ClientID  string // --client-id, TICKETERO_MQTT_CLIENT_ID
	HTTP      string // --http, TICKETERO_HTTP
	NoMigrate bool   // --no-migrate, TICKETERO_NO_MIGRATE
	// SQSQueueURL switches the event source to SQS (acks still go over MQTT).
	SQSQueueURL string // --sqs-queue-url, TICKETERO_SQS_QUEUE_URL
	// SQSEndpoint overrides the SQS endpoint (a local SQS-compatible server).
	SQSEndpoint string // --sqs-endpoint, TICKETERO_SQS_ENDPOINT
	// SQSReceivers is how many receive loops consume the queue at once; they
	// only receive and hand each message to its branch's worker.
	SQSReceivers int // --sqs-receivers, TICKETERO_SQS_RECEIVERS
	// SQSVisibility is the visibility timeout messages are received with,
	// extended while the replica holds them (waiting for or in a worker).
	SQSVisibility time.Duration // --sqs-visibility, TICKETERO_SQS_VISIBILITY
	// Workers handle the source's batches (MQTT or SQS), a branch always on
	// the same worker.
	Workers int // --workers, TICKETERO_WORKERS
	// InternalHTTP, when set, is a second listener for health, readiness,
	// metrics and the sync API without authentication (inside the network
	// only; the load balancer never forwards to it).
	InternalHTTP string // --internal-http, TICKETERO_INTERNAL_ADDR
	// OpsToken lets a scraper read /metrics and the sync API on the public
	// listener (Authorization: Bearer); without it only HQ admins may.
	OpsToken string // TICKETERO_OPS_TOKEN (or TICKETERO_OPS_TOKEN_FILE)
	// LogLevel and LogFormat shape the process's log (NewLogger).
	LogLevel  string // --log-level, TICKETERO_LOG_LEVEL: debug, info, warn or error
	LogFormat string // --log-format, TICKETERO_LOG_FORMAT: json or text
	// ChangeFlush is how long the replica gathers changed branches before it
	// announces them in one NOTIFY on cloud.ChangesChannel.
	ChangeFlush time.Duration // --change-flush, TICKETERO_CHANGE_FLUSH

	// The parts configured from TICKETERO_* env only, read by readEnv with
	// the flags (each reader checks its part): Main never reads the
	// environment.
	Web       WebConfig        // web.go: the HQ web, the RUT key, trusted proxies
	Alerts    AlertConfig      // alerts.go
	Retention retention.Config // retention.go
	Enroll    enroll.Config    // enroll.go: field enrolment (off without a provisioner)
	Telegram  telegram.Config  // telegram.go (off without a token)
	SMS       sns.Config       // telegram.go: SMS notices through Amazon SNS
	Rollout   RolloutConfig    // release.go: remote agent updates (off without a bucket)
}

// DefaultConfig is the configuration before flags and env.
func DefaultConfig() Config {
	return Config{HTTP: "127.0.0.1:8090", Workers: 8, SQSReceivers: sqs.DefaultReceivers,
		SQSVisibility: sqs.DefaultVisibility, LogLevel: "info", LogFormat: "json",
		ChangeFlush: postgres.DefaultChangeFlush}
}

// ParseServe reads flags over TICKETERO_* env (envflag; secrets also from
// <NAME>_FILE) over defaults, then validates.
func ParseServe(args []string, getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	s := envflag.New("serve", getenv, io.Discard)
	s.Secret(&c.DB, "db", "TICKETERO_DB", "PostgreSQL URL")
	s.String(&c.MQTT, "mqtt", "TICKETERO_MQTT", "broker URL, mqtts://host:8883")
	s.String(&c.Cert, "cert", "TICKETERO_MQTT_CERT", "client certificate, PEM")
	s.String(&c.Key, "key", "TICKETERO_MQTT_KEY", "client key, PEM")
	s.String(&c.CA, "ca", "TICKETERO_MQTT_CA", "broker CA, PEM")
	s.String(&c.ClientID, "client-id", "TICKETERO_MQTT_CLIENT_ID", "MQTT client ID, unique per replica")
	s.String(&c.HTTP, "http", "TICKETERO_HTTP", "HTTP listen address")
	s.Bool(&c.NoMigrate, "no-migrate", "TICKETERO_NO_MIGRATE", "do not migrate the database at start")
	s.String(&c.SQSQueueURL, "sqs-queue-url", "TICKETERO_SQS_QUEUE_URL", "consume events from this SQS queue")
	s.String(&c.SQSEndpoint, "sqs-endpoint", "TICKETERO_SQS_ENDPOINT", "SQS endpoint override")
	s.Int(&c.SQSReceivers, "sqs-receivers", "TICKETERO_SQS_RECEIVERS", "concurrent SQS receive loops")
	s.Duration(&c.SQSVisibility, "sqs-visibility", "TICKETERO_SQS_VISIBILITY", "SQS visibility timeout of received messages, extended while held")
	s.Int(&c.Workers, "workers", "TICKETERO_WORKERS", "concurrent ingest workers (MQTT or SQS), one branch per worker")
	s.String(&c.InternalHTTP, "internal-http", "TICKETERO_INTERNAL_ADDR", "internal listen address for metrics and the sync API, no auth")
	s.String(&c.LogLevel, "log-level", "TICKETERO_LOG_LEVEL", "debug, info, warn or error")
	s.String(&c.LogFormat, "log-format", "TICKETERO_LOG_FORMAT", "json or text")
	s.Duration(&c.ChangeFlush, "change-flush", "TICKETERO_CHANGE_FLUSH", "how long changed branches are gathered before one NOTIFY announces them")
	s.Env.Secret(&c.OpsToken, "TICKETERO_OPS_TOKEN")
	err := s.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		s.Flags.SetOutput(os.Stderr)
		fmt.Fprintln(os.Stderr, "usage: ticketero-cloud serve [flags] (each flag also as the environment variable in brackets; secrets also as <NAME>_FILE)")
		s.Flags.PrintDefaults()
		return c, fmt.Errorf("config: %w", err)
	}
	if err != nil {
		err = fmt.Errorf("config: %w", err)
	}
	if err := errors.Join(err, c.readEnv(getenv)); err != nil {
		return c, err // every bad value, flags' and parts'
	}
	return c, c.Validate()
}

// readEnv reads the parts configured from env only (Web, Alerts, Retention,
// Enroll, Telegram, SMS, Rollout), each through its reader, which checks it;
// the error holds every part's error, each naming its variable and value.
func (c *Config) readEnv(getenv func(string) string) error {
	var errs [7]error
	c.Web, errs[0] = ParseWebEnv(getenv)
	c.Alerts, errs[1] = ParseAlertEnv(getenv)
	c.Retention, errs[2] = ParseRetentionEnv(getenv)
	c.Enroll, errs[3] = ParseEnrollEnv(getenv)
	c.Telegram, errs[4] = telegramConfigFromEnv(getenv)
	if errs[4] == nil && c.Telegram.Enabled() {
		errs[4] = c.Telegram.Validate()
	}
	c.SMS, errs[5] = parseSMSEnv(getenv)
	c.Rollout, errs[6] = parseRolloutEnv(getenv)
	return errors.Join(errs[:]...)
}

// Validate checks the configuration, naming the field and the bad value.
func (c Config) Validate() error {
	if c.DB == "" {
		return errors.New("config: db (--db, TICKETERO_DB) is required")
	}
	if u, err := url.Parse(c.DB); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return errors.New("config: db must be a postgres:// URL")
	}
	if c.MQTT == "" {
		return errors.New("config: mqtt (--mqtt, TICKETERO_MQTT) is required: acks and config go over it")
	}
	u, err := url.Parse(c.MQTT)
	if err != nil {
		return fmt.Errorf("config: mqtt %q: %w", c.MQTT, err)
	}
	switch u.Scheme {
	case "mqtts", "ssl", "tls":
		if c.Cert == "" || c.Key == "" || c.CA == "" {
			return errors.New("config: mqtt over TLS needs cert, key and ca")
		}
	default:
		return fmt.Errorf("config: mqtt scheme %q: want mqtts:// or ssl://", u.Scheme)
	}
	var lv slog.Level
	if lv.UnmarshalText([]byte(c.LogLevel)) != nil {
		return fmt.Errorf("config: log-level (TICKETERO_LOG_LEVEL) %q: want debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("config: log-format (TICKETERO_LOG_FORMAT) %q: want text or json", c.LogFormat)
	}
	if c.Workers < 1 || c.Workers > 256 {
		return fmt.Errorf("config: workers %d: want 1..256", c.Workers)
	}
	if c.SQSReceivers < 1 || c.SQSReceivers > sqs.MaxReceivers {
		return fmt.Errorf("config: sqs-receivers (TICKETERO_SQS_RECEIVERS) %d: want 1..%d", c.SQSReceivers, sqs.MaxReceivers)
	}
	if c.SQSVisibility < sqs.MinVisibility || c.SQSVisibility > sqs.MaxVisibility || c.SQSVisibility%time.Second != 0 {
		return fmt.Errorf("config: sqs-visibility (TICKETERO_SQS_VISIBILITY) %s: want whole seconds, %s..%s",
			c.SQSVisibility, sqs.MinVisibility, sqs.MaxVisibility)
	}
	if c.ChangeFlush < time.Millisecond || c.ChangeFlush > time.Second {
		return fmt.Errorf("config: change-flush (TICKETERO_CHANGE_FLUSH) %s: want 1ms..1s (a change reaches HQ screens within a second)", c.ChangeFlush)
	}
	if c.SQSQueueURL != "" {
		if _, err := url.Parse(c.SQSQueueURL); err != nil {
			return fmt.Errorf("config: sqs-queue-url %q: %w", c.SQSQueueURL, err)
		}
	}
	return nil
}

// Main is the running program, testable with ":0" addresses.
type Main struct {
	Config Config
	Log    *slog.Logger
	// UI, when set before Run, is mounted at "/" of the HTTP server (the HQ
	// web, cloud/web, built by newUI).
	UI nethttp.Handler

	Registry *prometheus.Registry
	Pool     *pgxpool.Pool
	Store    *postgres.EventStore
	MQTT     *mqtt.Client
	HTTP     *cloudhttp.Server

	cancel context.CancelFunc
	wg     sync.WaitGroup
	// webOps guards metrics and sync state with the HQ web's sign-in (set
	// by newUI; the UI may be wrapped later, e.g. by the Telegram webhook).
	webOps func(nethttp.Handler) nethttp.Handler
	// rutKeys are the RUT hash key and sealing pair (rut.go); nil without
	// TICKETERO_RUT_KEY.
	rutKeys *seal.RUTKeys
	// appts is the book and the branch command queue (appointments.go).
	appts *appt.Store
	// hq is HQ's store (users, audit, configuration, alerts), built once
	// over Pool for the HQ web, the alert loop, enrolment and retention.
	hq *hq.Store
	// leader elects the one replica that runs the singleton jobs: the alert
	// loop and Telegram's getUpdates poller (alerts.go).
	leader *postgres.Elector
}

// NewMain prepares a program.
func NewMain(cfg Config, log *slog.Logger) *Main {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Main{Config: cfg, Log: log}
}

// Run opens the database (migrating it unless told not to), connects to the
// broker, starts the event source and the HTTP server, and returns.
func (m *Main) Run(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			_ = m.Close()
		}
	}()
	m.Registry = prometheus.NewRegistry()
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	m.Pool, err = postgres.Open(octx, m.Config.DB)
	if err != nil {
		return err
	}
	m.hq = hq.New(m.Pool, time.Now)
	if !m.Config.NoMigrate {
		if err := postgres.Migrate(octx, m.Pool); err != nil {
			return err
		}
	}
	// Telegram's notification store is the ingest's job writer (telegram.go).
	tg, err := newTelegramSetup(m)
	if err != nil {
		return err
	}
	m.Store = postgres.NewEventStore(m.Pool, m.Log, append(tg.ingestOptions(), postgres.WithChangeFlush(m.Config.ChangeFlush))...)

	m.MQTT, err = mqtt.New(mqtt.Config{URL: m.Config.MQTT, CertFile: m.Config.Cert, KeyFile: m.Config.Key,
		CAFile: m.Config.CA, ClientID: m.Config.ClientID, Workers: m.Config.Workers}, m.Store, m.Log)
	if err != nil {
		return err
	}
	m.MQTT.Connect()

	proc := ingest.New(m.Store, m.Store, m.MQTT, m.Registry, m.Log)
	if err := m.setupRUT(proc); err != nil {
		return err
	}
	var src cloud.Source = m.MQTT
	if m.Config.SQSQueueURL != "" {
		awsCfg, err := awsconfig.LoadDefaultConfig(octx)
		if err != nil {
			return fmt.Errorf("aws config: %w", err)
		}
		if m.Config.SQSEndpoint != "" {
			awsCfg.Credentials = aws.AnonymousCredentials{}
			if awsCfg.Region == "" {
				awsCfg.Region = "us-east-1"
			}
		}
		src = &sqs.Source{API: sqs.NewClient(awsCfg, m.Config.SQSEndpoint), QueueURL: m.Config.SQSQueueURL,
			Receivers: m.Config.SQSReceivers, Workers: m.Config.Workers, Visibility: m.Config.SQSVisibility,
			Metrics: sqs.NewMetrics(m.Registry), Log: m.Log}
	}

	// ---- the book and the branch command loop (appointments.go). ----
	cmdRun := newAppointments(m, m.Config.Telegram.CommandResend)
	// ---- HQ web (cloud/web, wired in web.go): mounted at "/" unless set. ----
	var uiRun func(context.Context)
	if m.UI == nil {
		if m.UI, uiRun, err = newUI(m); err != nil {
			return err
		}
	}
	// ---- Telegram (cloud/telegram, wired in telegram.go): off without a token. ----
	tgRun, tgPoll, err := newTelegram(m, tg)
	if err != nil {
		return err
	}
	// ---- HQ alerts (wired in alerts.go): evaluated in their own loop, on the leader only. ----
	m.leader = newLeader(m)
	alertRun, err := newAlerts(m)
	if err != nil {
		return err
	}
	// The leader's jobs: the alert loop and, in Telegram's polling mode, the
	// getUpdates poller (one consumer per bot).
	leaderJobs := []func(context.Context){alertRun}
	if tgPoll != nil {
		leaderJobs = append(leaderJobs, tgPoll)
	}
	// ---- personal-data retention (cloud/retention, wired in retention.go). ----
	retRun, err := newRetention(m)
	if err != nil {
		return err
	}
	// ---- field enrolment (cloud/enroll, wired in enroll.go): off unless configured. ----
	enrollH, err := newEnroll(octx, m)
	if err != nil {
		return err
	}
	// ---- remote agent updates (cloud/rollout, wired in release.go): off without a bucket. ----
	rolloutRun, err := newRollout(octx, m)
	if err != nil {
		return err
	}
	// ---- the customers' booking page (cloud/booking, wired in booking.go). ----
	publicH, err := newBooking(m)
	if err != nil {
		return err
	}
	m.HTTP = &cloudhttp.Server{
		Sync: m.Store, Gatherer: m.Registry, UI: m.UI, Enroll: enrollH, Public: publicH, Log: m.Log,
		Ready: map[string]cloudhttp.Check{
			"database": func(ctx context.Context) error { return m.Pool.Ping(ctx) },
			"broker": func(context.Context) error {
				if !m.MQTT.Ready() {
					return errors.New("not connected")
				}
				return nil
			},
		},
	}
	m.HTTP.OpsGuard = opsGuard(m)
	if err := m.HTTP.Listen(m.Config.HTTP); err != nil {
		return fmt.Errorf("http listen %s: %w", m.Config.HTTP, err)
	}
	if m.Config.InternalHTTP != "" {
		if err := m.HTTP.ListenInternal(m.Config.InternalHTTP); err != nil {
			return fmt.Errorf("internal http listen %s: %w", m.Config.InternalHTTP, err)
		}
	}
	rctx, rcancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = rcancel
	m.wg.Add(2)
	go func() {
		defer m.wg.Done()
		if err := src.Run(rctx, proc.Handle); err != nil {
			m.Log.Error("event source stopped", "err", err)
		}
	}()
	if uiRun != nil {
		m.wg.Add(1)
		go func() { defer m.wg.Done(); uiRun(rctx) }()
	}
	if cmdRun != nil {
		m.wg.Add(1)
		go func() { defer m.wg.Done(); cmdRun(rctx) }()
	}
	if tgRun != nil {
		m.wg.Add(1)
		go func() { defer m.wg.Done(); tgRun(rctx) }()
	}
	if rolloutRun != nil {
		m.wg.Add(1)
		go func() { defer m.wg.Done(); rolloutRun(rctx) }()
	}
	m.wg.Add(2)
	go func() { defer m.wg.Done(); retRun(rctx) }()
	go func() { defer m.wg.Done(); m.leader.Run(rctx, leaderJobs...) }()
	go func() {
		defer m.wg.Done()
		if err := m.HTTP.Serve(); err != nil {
			m.Log.Error("http server stopped", "err", err)
		}
	}()
	m.Log.Info("ticketero-cloud serving", "http", m.HTTP.Addr(), "internal_http", m.HTTP.InternalAddr(), "version", Version,
		"source", map[bool]string{true: "sqs", false: "mqtt"}[m.Config.SQSQueueURL != ""])
	return nil
}

// HTTPAddr is the bound HTTP address.
func (m *Main) HTTPAddr() string { return m.HTTP.Addr() }

// Close stops everything.
func (m *Main) Close() error {
	if m.HTTP != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = m.HTTP.Shutdown(ctx)
		cancel()
	}
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
	if m.MQTT != nil {
		m.MQTT.Close()
	}
	if m.Store != nil {
		_ = m.Store.Close() // announce the changes not yet flushed
	}
	if m.Pool != nil {
		m.Pool.Close()
	}
	return nil
}
