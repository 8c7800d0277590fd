// Command ticketero-agent is the branch agent: the branch's queue on SQLite
// and its LAN API, kept serving with the WAN, the broker or the cloud down.
//
//	ticketero-agent serve --branch SCL-001 --data DIR --http 127.0.0.1:8080
//	ticketero-agent executive add --data DIR --id E01 --name "Ana Pérez" --pin 240681 --services C,P
//	ticketero-agent executive list|remove|set-pin --data DIR ...
//	ticketero-agent version
package main

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ticketero/ticketero/agent"
	agenthttp "github.com/ticketero/ticketero/agent/http"
	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/agent/update"
	"github.com/ticketero/ticketero/agent/web"
	"github.com/ticketero/ticketero/shared/envflag"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// launchFrom, set by main, lets serve exec another binary (remote updates,
// update.go) and says where exec errors go; tests calling run leave it nil.
var launchFrom *os.File

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	launchFrom = os.Stderr
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  ticketero-agent serve [--branch SCL-001] [--data DIR] [--http 127.0.0.1:8080] [--tz America/Santiago]
                        [--counters 6] [--data-key-file FILE] [--log-level info] [--log-format text|json]
                        [--mqtt mqtts://host:8883 --cert FILE --key FILE --ca FILE] [--mqtt-ack-timeout 10s]
  ticketero-agent executive add --data DIR --id E01 --name "Ana Pérez" --pin 240681 --services C,P
  ticketero-agent executive list --data DIR
  ticketero-agent executive remove --data DIR --id E01
  ticketero-agent executive set-pin --data DIR --id E01 --pin 583920
  ticketero-agent executive set-manager --data DIR --id E01 --manager=true|false   (branch page actions; add takes --manager too)
  ticketero-agent enroll|install|doctor|backup|restore|renew|resume ...   (field operations; --help on any)
  ticketero-agent version
Every flag may also be given as TICKETERO_<FLAG> (e.g. TICKETERO_BRANCH, TICKETERO_DATA_KEY_FILE).
`)
}

// run is the program; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		m := NewMain()
		m.Stdout = stderr
		if err := m.Config.Parse(args[1:], getenv, stderr); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			fmt.Fprintln(stderr, "ticketero-agent:", err)
			return 2
		}
		if launchFrom != nil {
			launch(m.Config.Data, args, launchFrom)
		}
		if err := m.Run(ctx); err != nil {
			fmt.Fprintln(stderr, "ticketero-agent:", err)
			return 1
		}
		var next string
		select {
		case <-ctx.Done():
		case next = <-m.restarts():
		}
		if err := m.Close(); err != nil {
			fmt.Fprintln(stderr, "ticketero-agent: close:", err)
			if next == "" {
				return 1
			}
		}
		if next != "" && launchFrom != nil {
			execInto(next, args, launchFrom)
			return 1 // exec failed: the service manager starts the launcher again
		}
		return 0
	case "executive":
		return executiveCmd(ctx, args[1:], stdout, stderr, getenv)
	case "version":
		fmt.Fprintln(stdout, version)
		return 0
	case "enroll", "install", "doctor", "backup", "restore", "renew", "resume": // field operations: ops.go
		return opsCmd(ctx, args[0], args[1:], stdout, stderr, getenv)
	case "-h", "--help", "help":
		usage(stdout)
		return 0
	}
	usage(stderr)
	return 2
}

// Config is the agent's configuration, from flags and TICKETERO_* env.
type Config struct {
	// Sync is the cloud link (sync.go); no MQTT URL runs standalone.
	Sync SyncConfig
	// Update is remote agent updates (update.go).
	Update UpdateConfig

	Branch      string
	Data        string
	HTTP        string
	TimeZone    string
	Name        string // until HQ names the branch
	Region      string
	Counters    int
	DataKeyFile string
	LogLevel    string
	LogFormat   string
	// TelegramBot is the bot the kiosk ticket's QR links to ("" = no QR).
	TelegramBot string
	// SMS "on" makes the kiosk offer SMS notices (a mobile number with
	// consent); the cloud must have SMS on too (TICKETERO_SMS=sns there).
	SMS string
	// Rate is the LAN API's per-address rate limits (limits.go).
	Rate RateConfig
	// Retention is how long personal data is kept (retention.go).
	Retention RetentionConfig
	// LAN is how the agent meets the branch LAN (lan.go).
	LAN LANConfig
	// ConfigReport is how often the branch's local configuration is compared
	// with the last one reported to HQ (config.reported).
	ConfigReport time.Duration
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Branch: "SCL-001", Data: "data", HTTP: "127.0.0.1:8080", TimeZone: "America/Santiago",
		Counters: 6, LogLevel: "info", LogFormat: "text", Rate: DefaultRateConfig(),
		Retention: DefaultRetentionConfig(), LAN: DefaultLANConfig(), ConfigReport: 30 * time.Second,
		Update: UpdateConfig{HealthTimeout: 2 * time.Minute}}
}

// Parse reads flags over TICKETERO_<FLAG> env (envflag) over the values in c,
// and validates.
func (c *Config) Parse(args []string, getenv func(string) string, out io.Writer) error {
	s := envflag.New("serve", getenv, out)
	s.String(&c.Branch, "branch", "", "branch ID")
	s.String(&c.Data, "data", "", "data directory (database, data key, http.addr)")
	s.String(&c.HTTP, "http", "", "LAN API listen address")
	s.String(&c.TimeZone, "tz", "", "branch time zone until HQ configuration sets one")
	s.String(&c.Name, "name", "", "branch name on the kiosk, ticket and TV until HQ configuration sets one")
	s.String(&c.Region, "region", "", "branch region shown with the name until HQ configuration sets one")
	s.String(&c.DataKeyFile, "data-key-file", "", "file with the base64 AES-256 key of personal data (default <data>/data.key, generated)")
	s.String(&c.LogLevel, "log-level", "", "debug, info, warn or error")
	s.String(&c.LogFormat, "log-format", "", "text or json")
	s.String(&c.TelegramBot, "telegram-bot", "", "the bank's Telegram bot user name, for the kiosk ticket's QR (empty: no QR)")
	s.String(&c.SMS, "kiosk-sms", "", "on: the kiosk offers SMS notices to a mobile number given with consent (off: none)")
	c.Sync.flags(s)
	c.Update.flags(s)
	c.Rate.flags(s)
	c.Retention.flags(s)
	c.LAN.flags(s)
	s.Int(&c.Counters, "counters", "", "number of counters until HQ configuration sets them")
	s.Duration(&c.ConfigReport, "config-report", "", "how often the local configuration is reported to HQ when it changed")
	if err := s.Parse(args); err != nil {
		return err
	}
	return c.Validate()
}

// Validate checks the configuration, naming the field and the bad value.
func (c Config) Validate() error {
	if _, err := queue.ParseBranchID(c.Branch); err != nil {
		return fmt.Errorf("branch: %q is not a valid branch ID (A-Z, 0-9 and -, up to 32)", c.Branch)
	}
	if c.Data == "" {
		return errors.New("data: a data directory is required")
	}
	if c.SMS != "" && c.SMS != "on" && c.SMS != "off" {
		return fmt.Errorf("kiosk-sms: %q must be on or off", c.SMS)
	}
	if _, _, err := net.SplitHostPort(c.HTTP); err != nil {
		return fmt.Errorf("http: %q is not host:port", c.HTTP)
	}
	if err := queue.CheckText("name", c.Name, 80); err != nil {
		return fmt.Errorf("name: %q is not a valid branch name (80 characters, no control characters)", c.Name)
	}
	if err := queue.CheckText("region", c.Region, 40); err != nil {
		return fmt.Errorf("region: %q is not a valid region (40 characters, no control characters)", c.Region)
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "" {
		return fmt.Errorf("tz: %q is not a known time zone", c.TimeZone)
	}
	if c.Counters < 1 || c.Counters > 999 {
		return fmt.Errorf("counters: %d must be 1 to 999", c.Counters)
	}
	if c.ConfigReport < time.Second || c.ConfigReport > time.Hour {
		return fmt.Errorf("config-report: %s must be 1s to 1h", c.ConfigReport)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("log-format: %q must be text or json", c.LogFormat)
	}
	if err := c.Sync.Validate(c.Branch); err != nil {
		return err
	}
	if err := c.LAN.Validate(); err != nil {
		return err
	}
	if err := c.Update.Validate(); err != nil {
		return err
	}
	if _, err := c.Rate.Limits(); err != nil {
		return err
	}
	if err := c.Retention.Validate(); err != nil {
		return err
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log-level: %q must be debug, info, warn or error", s)
	}
	return l, nil
}

// Main is the running agent: its store, its LAN API and their HTTP server.
// Run starts them and returns; Close stops them.
type Main struct {
	Config Config
	// Stdout receives the log (stderr in main).
	Stdout io.Writer
	// Now is the clock (time.Now).
	Now func() time.Time

	Logger     *slog.Logger
	Store      *sqlite.Store
	API        *agenthttp.Server
	HTTPServer *http.Server
	// Link is the cloud link (the MQTT relay) when one is configured; nil
	// runs standalone. Set it before Run.
	Link agent.Link
	// UI is the embedded web UI (agent/web), mounted when set before Run.
	UI http.Handler
	// Updater installs HQ's agent releases (update.go); nil without an
	// update key or a cloud link.
	Updater *update.Updater

	link      *linkRun // the running MQTT relay (sync.go)
	updater   *linkRun // the running updater (update.go)
	retention *linkRun // the running retention job (retention.go)
	watchdog  *linkRun // the running systemd watchdog (watchdog.go)

	// Addr is the address the LAN API listens on (resolved, after Run).
	Addr string
	// URL is the LAN API's base URL: https:// unless plain (lan.go).
	URL  string
	ln   net.Listener
	done chan struct{}
}

// NewMain returns a Main with the default configuration.
func NewMain() *Main {
	return &Main{Config: DefaultConfig(), Stdout: os.Stderr, Now: time.Now}
}

// Run opens the store (migrating and seeding it), starts the LAN API and
// returns once it listens; the bound address is logged ("listening", addr)
// and written to <data>/http.addr.
func (m *Main) Run(ctx context.Context) error {
	start := time.Now()
	if err := m.Config.Validate(); err != nil {
		return err
	}
	level, _ := parseLevel(m.Config.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(m.Stdout, opts)
	if m.Config.LogFormat == "json" {
		h = slog.NewJSONHandler(m.Stdout, opts)
	}
	m.Logger = slog.New(h).With("branch", m.Config.Branch)
	if err := os.MkdirAll(m.Config.Data, 0o700); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	key, err := loadDataKey(m.Config.DataKeyFile, false, m.Config.Data)
	if err != nil {
		return err
	}
	sessions, _ := m.Config.LAN.Sessions() // validated above
	m.Store, err = sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(m.Config.Data, "agent.db"), Branch: m.Config.Branch,
		TimeZone: m.Config.TimeZone, Name: m.Config.Name, Region: m.Config.Region, Counters: m.Config.Counters, DataKey: key, Now: m.Now, Logger: m.Logger,
		ReportEvery: m.Config.ConfigReport, Sessions: sessions})
	if err != nil {
		return err
	}
	// The cloud link (agent/mqtt.Relay) and the web UI (agent/web.Handler) are
	// wired here by whoever builds them: set m.Link and m.UI before Run.
	if m.UI == nil {
		if m.UI, err = web.Handler(web.Options{BotName: m.Config.TelegramBot, SMS: m.Config.SMS == "on", Logger: m.Logger}); err != nil {
			_ = m.Store.Close()
			return fmt.Errorf("telegram-bot: %w", err)
		}
	}
	m.Updater = m.newUpdater()
	if err := m.startLink(); err != nil {
		_ = m.Store.Close()
		return err
	}
	limits, _ := m.Config.Rate.Limits() // validated above
	m.API, err = agenthttp.New(agenthttp.Config{Store: m.Store, Link: m.Link, UI: m.UI, Logger: m.Logger,
		Version: version, Now: m.Now, RateLimits: &limits, AllowedHosts: m.Config.LAN.Hosts()})
	if err != nil {
		_ = m.Store.Close()
		return err
	}
	m.ln, err = net.Listen("tcp", m.Config.HTTP)
	if err != nil {
		_ = m.Store.Close()
		return fmt.Errorf("http: listen %s: %w", m.Config.HTTP, err)
	}
	m.URL = "http://" + m.ln.Addr().String()
	if m.Config.LAN.TLS(m.Config.HTTP) {
		tc, err := m.Config.LAN.TLSConfig(m.Config.Data, m.Config.Branch, m.Config.HTTP, time.Now())
		if err != nil {
			_ = m.ln.Close()
			_ = m.Store.Close()
			return err
		}
		m.ln = tls.NewListener(m.ln, tc)
		m.URL = "https://" + m.ln.Addr().String()
	}
	m.Addr = m.ln.Addr().String()
	m.HTTPServer = &http.Server{Handler: m.API.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn)}
	var fresh requestless
	m.HTTPServer.ConnState = fresh.track
	m.HTTPServer.RegisterOnShutdown(fresh.closeAll)
	m.done = make(chan struct{})
	go func() {
		defer close(m.done)
		if err := m.HTTPServer.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http server stopped", "err", err)
		}
	}()
	if err := os.WriteFile(filepath.Join(m.Config.Data, "http.addr"), []byte(m.Addr+"\n"), 0o600); err != nil {
		m.Logger.Warn("cannot write http.addr", "err", err)
	}
	m.startRetention()
	m.startUpdater()
	m.startWatchdog()
	m.Logger.Info("listening", "addr", m.Addr, "url", m.URL, "version", version, "startup_ms", time.Since(start).Milliseconds())
	return nil
}

// requestless tracks the LAN API's connections that have not sent a request
// yet (http.StateNew): a browser's preconnect, a kiosk dialling as the agent
// stops. http.Server.Shutdown counts one as idle only after 5 s, which is
// Close's whole deadline (the stop then failed, exit status 1); closeAll,
// run when the shutdown starts, closes them as it closes idle ones.
type requestless struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (r *requestless) track(c net.Conn, s http.ConnState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s != http.StateNew {
		delete(r.conns, c)
		return
	}
	if r.conns == nil {
		r.conns = map[net.Conn]struct{}{}
	}
	r.conns[c] = struct{}{}
}

func (r *requestless) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.conns {
		_ = c.Close()
	}
}

// Close stops the LAN API (ending live streams), then the store.
func (m *Main) Close() error {
	var errs []error
	m.stopWatchdog()
	if m.HTTPServer != nil {
		m.API.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := m.HTTPServer.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
		<-m.done
	}
	m.stopUpdater()
	m.stopLink()
	m.stopRetention()
	if m.Store != nil {
		errs = append(errs, m.Store.Close())
	}
	return errors.Join(errs...)
}

// loadDataKey reads the data key from file, or from <data>/data.key,
// generating that once (0600) when absent.
// With create, file itself is generated when absent (install).
func loadDataKey(file string, create bool, data string) ([]byte, error) {
	if file == "" {
		file, create = filepath.Join(data, "data.key"), true
	}
	if create {
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
			k := make([]byte, sqlite.KeySize)
			if _, err := randRead(k); err != nil {
				return nil, err
			}
			f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- path from the operator's configuration (flag, env or data directory), never from a request
			if err != nil {
				return nil, fmt.Errorf("data key: %w", err)
			}
			_, werr := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
			if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
				return nil, fmt.Errorf("data key: %w", err)
			}
		}
	}
	b, err := os.ReadFile(file) // #nosec G304 -- path from the operator's configuration (flag, env or data directory), never from a request
	if err != nil {
		return nil, fmt.Errorf("data-key-file: %w", err)
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != sqlite.KeySize {
		return nil, fmt.Errorf("data-key-file: %s must hold the base64 of %d bytes", file, sqlite.KeySize)
	}
	return k, nil
}

// message renders an error for a person (Spanish unless LANG says English).
func message(err error, getenv func(string) string) string {
	var qe *queue.Error
	if errors.As(err, &qe) {
		return qe.Message(i18n.Parse(getenv("LANG")))
	}
	return err.Error()
}
