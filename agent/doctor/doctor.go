// Package doctor diagnoses a branch box for the field technician: the
// configuration, the certificate's validity and expiry, the broker's TLS
// reachability with the box's certificate, the cloud's reachability and the
// clock's skew against it, free disk, SQLite's integrity_check, the outbox
// backlog and the LAN port. Each check is one pass/fail line with the fix to
// try, in Spanish (English on request); any failure makes the command exit
// non-zero.
package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/mattn/go-sqlite3" // database/sql driver "sqlite3"

	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// Status of a check.
const (
	Pass = "pass"
	Fail = "fail"
	Warn = "warn"
	Skip = "skip"
)

// Config is what the doctor looks at. Empty Broker, Cloud or LAN skip those
// checks (a standalone box has no broker).
type Config struct {
	Branch string
	Data   string
	DB     string
	// Cert, Key and CA are the box's client certificate, key and the CA
	// bundle trusted for the broker (PEM files).
	Cert, Key, CA string
	// Broker is mqtts://host:8883 (or :443 with ALPN x-amzn-mqtt-ca).
	Broker string
	// Cloud is the HQ base URL; GET /healthz is asked and its Date header read.
	Cloud string
	// LAN is the agent's LAN address (host:port); GET /readyz is asked.
	LAN string
	// LANCA, when set, is the box's LAN CA (PEM): the agent is asked over
	// TLS first (as localhost), then over plain HTTP.
	LANCA string
	// Thresholds (defaults: 512 MiB, 30 s, 10,000 events, 14 days).
	MinFreeBytes uint64
	MaxSkew      time.Duration
	MaxBacklog   uint64
	CertWarn     time.Duration
	Timeout      time.Duration
	Now          func() time.Time
}

// Check is one line of the diagnosis.
type Check struct {
	ID     string `json:"check"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Report is the whole diagnosis.
type Report struct {
	OK     bool      `json:"ok"`
	Branch string    `json:"branch"`
	At     time.Time `json:"at"`
	Checks []Check   `json:"checks"`
}

func (c *Config) defaults() {
	if c.MinFreeBytes == 0 {
		c.MinFreeBytes = 512 << 20
	}
	if c.MaxSkew == 0 {
		c.MaxSkew = 30 * time.Second
	}
	if c.MaxBacklog == 0 {
		c.MaxBacklog = 10000
	}
	if c.CertWarn == 0 {
		c.CertWarn = 14 * 24 * time.Hour
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Run makes every check in order and returns the report in lang.
func Run(ctx context.Context, cfg Config, lang i18n.Lang) Report {
	cfg.defaults()
	d := &doctor{cfg: cfg, lang: lang}
	d.config()
	d.cert()
	d.broker(ctx)
	d.cloud(ctx)
	d.disk()
	d.sqlite(ctx)
	d.outbox(ctx)
	d.lan(ctx)
	r := Report{OK: true, Branch: cfg.Branch, At: cfg.Now().UTC(), Checks: d.checks}
	for _, c := range d.checks {
		if c.Status == Fail {
			r.OK = false
		}
	}
	return r
}

type doctor struct {
	cfg    Config
	lang   i18n.Lang
	checks []Check
}

func (d *doctor) add(id, status, detail string) {
	c := Check{ID: id, Name: i18n.T(d.lang, "doctor."+id+".name"), Status: status, Detail: detail}
	if status == Fail || status == Warn {
		c.Fix = i18n.T(d.lang, "doctor."+id+".fix")
	}
	d.checks = append(d.checks, c)
}

func (d *doctor) t(key string, args ...any) string { return i18n.T(d.lang, key, args...) }

func (d *doctor) config() {
	var problems []string
	if _, err := queue.ParseBranchID(d.cfg.Branch); err != nil {
		problems = append(problems, queue.ErrorMessage(d.lang, err))
	}
	if fi, err := os.Stat(d.cfg.Data); err != nil || !fi.IsDir() {
		problems = append(problems, d.t("doctor.missing", d.cfg.Data))
	} else if f, err := os.CreateTemp(d.cfg.Data, ".doctor-*"); err != nil {
		problems = append(problems, err.Error())
	} else {
		f.Close()
		os.Remove(f.Name())
	}
	if d.cfg.Broker != "" {
		if _, err := brokerAddr(d.cfg.Broker); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		d.add("config", Fail, d.t("doctor.config.fail", strings.Join(problems, "; ")))
		return
	}
	d.add("config", Pass, d.t("doctor.config.ok", d.cfg.Branch, d.cfg.Data))
}

func (d *doctor) cert() {
	if d.cfg.Cert == "" && d.cfg.Broker == "" {
		d.add("cert", Skip, d.t("doctor.broker.skip"))
		return
	}
	pair, err := tls.LoadX509KeyPair(d.cfg.Cert, d.cfg.Key)
	if err != nil {
		d.add("cert", Fail, d.t("doctor.cert.fail", err.Error()))
		return
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		d.add("cert", Fail, d.t("doctor.cert.fail", err.Error()))
		return
	}
	now := d.cfg.Now()
	cn := cert.Subject.CommonName
	days := int(cert.NotAfter.Sub(now).Hours() / 24)
	exp := cert.NotAfter.UTC().Format(time.DateOnly)
	switch {
	case cn != "" && cn != d.cfg.Branch:
		d.add("cert", Fail, d.t("doctor.cert.fail", "CN "+cn+" ≠ "+d.cfg.Branch))
	case now.Before(cert.NotBefore):
		d.add("cert", Fail, d.t("doctor.cert.fail", "not valid before "+cert.NotBefore.UTC().Format(time.RFC3339)))
	case !now.Before(cert.NotAfter):
		d.add("cert", Fail, d.t("doctor.cert.fail", "expired "+exp))
	case cert.NotAfter.Sub(now) < d.cfg.CertWarn:
		d.add("cert", Warn, d.t("doctor.cert.soon", cn, exp, days))
	default:
		d.add("cert", Pass, d.t("doctor.cert.ok", cn, exp, days))
	}
}

// brokerAddr returns host:port and the server name of an MQTT URL.
func brokerAddr(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("broker URL %q", raw)
	}
	switch u.Scheme {
	case "mqtts", "ssl", "tls":
	default:
		return "", fmt.Errorf("broker URL %q: use mqtts://", raw)
	}
	port := u.Port()
	if port == "" {
		port = "8883"
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}

// broker opens a TLS connection with the box's certificate. With TLS 1.3 a
// refused client certificate shows only after the handshake, as an alert on
// the first read: the doctor reads briefly, and a timeout means the broker
// kept the connection open waiting for CONNECT, i.e. it accepted the
// certificate. No MQTT CONNECT is sent, so the running agent's session (same
// client ID) is never kicked off.
func (d *doctor) broker(ctx context.Context) {
	if d.cfg.Broker == "" {
		d.add("broker", Skip, d.t("doctor.broker.skip"))
		return
	}
	addr, err := brokerAddr(d.cfg.Broker)
	if err != nil {
		d.add("broker", Fail, d.t("doctor.broker.fail", d.cfg.Broker, err.Error()))
		return
	}
	tc, err := d.tlsConfig(addr)
	if err != nil {
		d.add("broker", Fail, d.t("doctor.broker.fail", addr, err.Error()))
		return
	}
	start := time.Now()
	dialer := &tls.Dialer{NetDialer: &net.Dialer{Timeout: d.cfg.Timeout}, Config: tc}
	cctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	conn, err := dialer.DialContext(cctx, "tcp", addr)
	if err != nil {
		d.add("broker", Fail, d.t("doctor.broker.fail", addr, err.Error()))
		return
	}
	defer conn.Close()
	ms := time.Since(start).Milliseconds()
	_ = conn.SetReadDeadline(time.Now().Add(700 * time.Millisecond))
	var b [1]byte
	_, err = conn.Read(b[:])
	var ne net.Error
	if err == nil || !(errors.As(err, &ne) && ne.Timeout()) {
		if err == nil || errors.Is(err, io.EOF) {
			err = errors.New("the broker closed the connection (certificate refused?)")
		}
		d.add("broker", Fail, d.t("doctor.broker.fail", addr, err.Error()))
		return
	}
	d.add("broker", Pass, d.t("doctor.broker.ok", addr, ms))
}

// tlsConfig is the relay's own TLS setup (event.BrokerTLS), so the doctor
// tests exactly what the agent will present.
func (d *doctor) tlsConfig(addr string) (*tls.Config, error) {
	if d.cfg.Cert == "" || d.cfg.Key == "" {
		return nil, errors.New("no client certificate configured")
	}
	return event.BrokerTLS("mqtts://"+addr, d.cfg.Cert, d.cfg.Key, d.cfg.CA)
}

func (d *doctor) cloud(ctx context.Context) {
	if d.cfg.Cloud == "" {
		d.add("cloud", Skip, d.t("doctor.cloud.skip"))
		return
	}
	cctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	u := strings.TrimRight(d.cfg.Cloud, "/") + "/healthz"
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, u, nil)
	if err != nil {
		d.add("cloud", Fail, d.t("doctor.cloud.fail", d.cfg.Cloud, err.Error()))
		return
	}
	sent := d.cfg.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.add("cloud", Fail, d.t("doctor.cloud.fail", d.cfg.Cloud, err.Error()))
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	res.Body.Close()
	got := d.cfg.Now()
	if res.StatusCode != http.StatusOK {
		d.add("cloud", Fail, d.t("doctor.cloud.fail", u, res.Status))
		return
	}
	date, err := http.ParseTime(res.Header.Get("Date"))
	if err != nil {
		d.add("cloud", Fail, d.t("doctor.cloud.fail", u, "no Date header"))
		return
	}
	// The Date header has 1 s resolution: compare with the request's midpoint.
	mid := sent.Add(got.Sub(sent) / 2)
	skew := mid.Sub(date).Round(time.Second)
	abs := skew
	if abs < 0 {
		abs = -abs
	}
	if abs > d.cfg.MaxSkew {
		d.add("cloud", Fail, d.t("doctor.cloud.skew", skew.String(), d.cfg.MaxSkew.String()))
		return
	}
	d.add("cloud", Pass, d.t("doctor.cloud.ok", d.cfg.Cloud, skew.String()))
}

func (d *doctor) disk() {
	var st syscall.Statfs_t
	if err := syscall.Statfs(d.cfg.Data, &st); err != nil {
		d.add("disk", Fail, d.t("doctor.disk.fail", "?", d.cfg.Data, human(d.cfg.MinFreeBytes)))
		return
	}
	free := st.Bavail * uint64(st.Bsize)
	if free < d.cfg.MinFreeBytes {
		d.add("disk", Fail, d.t("doctor.disk.fail", human(free), d.cfg.Data, human(d.cfg.MinFreeBytes)))
		return
	}
	d.add("disk", Pass, d.t("doctor.disk.ok", human(free), d.cfg.Data))
}

func human(b uint64) string {
	switch {
	case b >= 1<<30:
		return strconv.FormatFloat(float64(b)/(1<<30), 'f', 1, 64) + " GiB"
	case b >= 1<<20:
		return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB"
	default:
		return strconv.FormatUint(b, 10) + " B"
	}
}

func (d *doctor) openDB() (*sql.DB, error) {
	if _, err := os.Stat(d.cfg.DB); err != nil {
		return nil, errors.New(d.t("doctor.missing", d.cfg.DB))
	}
	return sql.Open("sqlite3", "file:"+url.PathEscape(d.cfg.DB)+"?mode=ro&_busy_timeout=5000")
}

func (d *doctor) sqlite(ctx context.Context) {
	db, err := d.openDB()
	if err != nil {
		d.add("sqlite", Fail, d.t("doctor.sqlite.fail", err.Error()))
		return
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		d.add("sqlite", Fail, d.t("doctor.sqlite.fail", err.Error()))
		return
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			d.add("sqlite", Fail, d.t("doctor.sqlite.fail", err.Error()))
			return
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		d.add("sqlite", Fail, d.t("doctor.sqlite.fail", err.Error()))
		return
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		if len(msgs) > 3 {
			msgs = msgs[:3]
		}
		d.add("sqlite", Fail, d.t("doctor.sqlite.fail", strings.Join(msgs, "; ")))
		return
	}
	size := int64(0)
	if fi, err := os.Stat(d.cfg.DB); err == nil {
		size = fi.Size()
	}
	d.add("sqlite", Pass, d.t("doctor.sqlite.ok", filepath.Base(d.cfg.DB)+" "+human(uint64(size))))
}

func (d *doctor) outbox(ctx context.Context) {
	db, err := d.openDB()
	if err != nil {
		d.add("outbox", Fail, d.t("doctor.sqlite.fail", err.Error()))
		return
	}
	defer db.Close()
	var maxSeq sql.NullInt64
	var ack sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT max(seq) FROM outbox").Scan(&maxSeq); err != nil {
		d.add("outbox", Fail, d.t("doctor.sqlite.fail", err.Error()))
		return
	}
	if err := db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'last_ack'").Scan(&ack); err != nil && !errors.Is(err, sql.ErrNoRows) {
		d.add("outbox", Fail, d.t("doctor.sqlite.fail", err.Error()))
		return
	}
	acked, _ := strconv.ParseUint(ack.String, 10, 64)
	last := max(uint64(maxSeq.Int64), acked)
	backlog := last - acked
	if d.cfg.Broker != "" && backlog > d.cfg.MaxBacklog {
		d.add("outbox", Fail, d.t("doctor.outbox.fail", backlog, d.cfg.MaxBacklog))
		return
	}
	d.add("outbox", Pass, d.t("doctor.outbox.ok", backlog, last, acked))
}

func (d *doctor) lan(ctx context.Context) {
	if d.cfg.LAN == "" {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	res, err := d.lanGet(cctx, "https", d.lanTLSClient())
	if err != nil || res == nil {
		res, err = d.lanGet(cctx, "http", http.DefaultClient)
	}
	if err != nil {
		d.add("lan", Fail, d.t("doctor.lan.fail", d.cfg.LAN, err.Error()))
		return
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		d.add("lan", Fail, d.t("doctor.lan.fail", d.cfg.LAN, res.Status))
		return
	}
	d.add("lan", Pass, d.t("doctor.lan.ok", d.cfg.LAN))
}

// lanTLSClient trusts the box's LAN CA (nil without one).
func (d *doctor) lanTLSClient() *http.Client {
	if d.cfg.LANCA == "" {
		return nil
	}
	b, err := os.ReadFile(d.cfg.LANCA) // #nosec G304 -- the box's own data directory
	if err != nil {
		return nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}}}
}

// lanGet asks GET /readyz of the agent over scheme with c (nil: not asked).
func (d *doctor) lanGet(ctx context.Context, scheme string, c *http.Client) (*http.Response, error) {
	if c == nil {
		return nil, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+d.cfg.LAN+"/readyz", nil)
	if err != nil {
		return nil, err
	}
	return c.Do(req)
}

// Print writes the report as text lines, one per check with the fix to try
// under each failure, and a summary.
func Print(w io.Writer, r Report, lang i18n.Lang) {
	failed := 0
	for _, c := range r.Checks {
		label := i18n.T(lang, "doctor.pass")
		switch c.Status {
		case Fail:
			label = i18n.T(lang, "doctor.fail")
			failed++
		case Warn:
			label = i18n.T(lang, "doctor.warn")
		case Skip:
			label = "--"
		}
		fmt.Fprintln(w, i18n.T(lang, "doctor.status.line", label, c.Name, c.Detail))
		if c.Fix != "" {
			fmt.Fprintln(w, i18n.T(lang, "doctor.status.fix", c.Fix))
		}
	}
	if failed == 0 {
		fmt.Fprintln(w, i18n.T(lang, "doctor.summary.ok", len(r.Checks)))
	} else {
		fmt.Fprintln(w, i18n.T(lang, "doctor.summary.fail", failed, len(r.Checks)))
	}
}

// PrintJSON writes the report as JSON.
func PrintJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
