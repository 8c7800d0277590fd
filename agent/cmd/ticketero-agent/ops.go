package main

// Field operations: enroll, install, doctor, backup, restore, renew and
// resume; main.go only dispatches here.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ticketero/ticketero/agent/backup"
	"github.com/ticketero/ticketero/agent/doctor"
	"github.com/ticketero/ticketero/agent/enroll"
	"github.com/ticketero/ticketero/agent/lantls"
	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/shared/envflag"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

func opsUsage(w io.Writer) {
	fmt.Fprint(w, `field operations:
  ticketero-agent enroll  --cloud https://HQ --code XXXX-XXXX-XXXX [--data DIR] [--branch SCL-001]
  ticketero-agent install [--data DIR] [--http :8080] [--unit-dir /etc/systemd/system] [--env-file /etc/ticketero/agent.env] [--no-enable]
  ticketero-agent doctor  [--data DIR] [--branch ID] [--json] [--lang es|en] [--mqtt URL --cert F --key F --ca F] [--cloud URL] [--http ADDR]
  ticketero-agent backup  [--data DIR] [--keep 7] [--s3-bucket B [--s3-prefix backups/] [--s3-endpoint URL] [--s3-region R]]
  ticketero-agent restore [--data DIR] (--from FILE | --latest | --s3-bucket B) [--resume]
  ticketero-agent renew   [--data DIR] [--before 720h] [--force]
  ticketero-agent resume  [--data DIR]   (seed numbering and seq from the cloud, agent stopped)
Every flag may also be given as TICKETERO_<FLAG>.
`)
}

// opsEnv carries the command's I/O and language.
type opsEnv struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	lang           i18n.Lang
}

func (e opsEnv) say(key string, args ...any) { fmt.Fprintln(e.stdout, i18n.T(e.lang, key, args...)) }

func (e opsEnv) fail(err error) int {
	var ce *enroll.CloudError
	switch {
	case errors.As(err, &ce):
		fmt.Fprintln(e.stderr, "ticketero-agent:", i18n.T(e.lang, "enroll.cloud_error", ce.Status, ce.Title))
	default:
		var qe *queue.Error
		if errors.As(err, &qe) {
			fmt.Fprintln(e.stderr, "ticketero-agent:", qe.Message(e.lang))
		} else {
			fmt.Fprintln(e.stderr, "ticketero-agent:", err)
		}
	}
	return 1
}

// opsFlags is a flag set whose string flags default to their TICKETERO_*
// variable (envflag).
type opsFlags struct {
	*flag.FlagSet
	set *envflag.Set
}

func (f opsFlags) str(name, def, help string) *string {
	p := &def
	f.set.String(p, name, "", help)
	return p
}

func opsCmd(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	env := opsEnv{stdout: stdout, stderr: stderr, getenv: getenv, lang: i18n.Parse(getenv("LANG"))}
	set := envflag.New(cmd, getenv, stderr)
	fs := opsFlags{set.Flags, set}
	fs.Usage = func() { opsUsage(stderr) }
	data := fs.str("data", "/var/lib/ticketero", "data directory")
	lang := fs.str("lang", "", "es or en (default from LANG)")
	var run func() int
	switch cmd {
	case "enroll":
		cloud := fs.str("cloud", "", "HQ base URL")
		code := fs.str("code", "", "one-time enrolment code")
		branch := fs.str("branch", "", "branch ID (optional: the code names it)")
		run = func() int { return opsEnroll(ctx, env, *data, *cloud, *code, *branch) }
	case "install":
		httpAddr := fs.str("http", ":8080", "LAN API listen address for the service")
		unitDir := fs.str("unit-dir", "/etc/systemd/system", "systemd unit directory")
		envFile := fs.str("env-file", "/etc/ticketero/agent.env", "environment file of the service")
		noEnable := fs.Bool("no-enable", false, "write the files only; do not run systemctl")
		run = func() int { return opsInstall(ctx, env, *data, *httpAddr, *unitDir, *envFile, *noEnable) }
	case "doctor":
		cfg := doctor.Config{}
		asJSON := fs.Bool("json", false, "print JSON")
		branch := fs.str("branch", "", "branch ID (default: enroll.json)")
		mqtt := fs.str("mqtt", "", "broker URL (default: enroll.json)")
		cert := fs.str("cert", "", "client certificate (default: <data>/tls/client.pem)")
		key := fs.str("key", "", "client key")
		ca := fs.str("ca", "", "broker CA bundle")
		cloud := fs.str("cloud", "", "HQ base URL (default: enroll.json)")
		lan := fs.str("http", "", "LAN address of the running agent (default: <data>/http.addr)")
		run = func() int {
			cfg.Data, cfg.Branch, cfg.Broker, cfg.Cert, cfg.Key, cfg.CA, cfg.Cloud, cfg.LAN = *data, *branch, *mqtt, *cert, *key, *ca, *cloud, *lan
			return opsDoctor(ctx, env, cfg, *asJSON)
		}
	case "backup", "restore":
		keep := fs.Int("keep", 7, "backups kept on the box")
		bucket := fs.str("s3-bucket", "", "S3 bucket (optional)")
		prefix := fs.str("s3-prefix", "backups/", "S3 key prefix")
		endpoint := fs.str("s3-endpoint", "", "S3 endpoint URL (S3-compatible stores; path-style)")
		region := fs.str("s3-region", "", "S3 region (default from the AWS environment)")
		branch := fs.str("branch", "", "branch ID (default: enroll.json)")
		from := fs.String("from", "", "restore: backup file")
		latest := fs.Bool("latest", false, "restore: the newest backup in <data>/backups")
		resume := fs.Bool("resume", false, "restore: then seed numbering and seq from the cloud")
		lan := fs.str("http", "", "LAN address of the agent, to refuse a restore while it runs")
		run = func() int {
			s3c := s3Opts{bucket: *bucket, prefix: *prefix, endpoint: *endpoint, region: *region}
			if cmd == "backup" {
				return opsBackup(ctx, env, *data, *branch, *keep, s3c)
			}
			return opsRestore(ctx, env, *data, *branch, *from, *latest, *resume, *lan, s3c)
		}
	case "renew":
		before := fs.Duration("before", 30*24*time.Hour, "renew when the certificate expires within this")
		force := fs.Bool("force", false, "renew now")
		run = func() int { return opsRenew(ctx, env, *data, *before, *force) }
	case "resume":
		run = func() int { return opsResume(ctx, env, *data) }
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "ticketero-agent:", i18n.T(env.lang, "ops.flag_invalid", "", fs.Arg(0)))
		return 2
	}
	if err := set.Env.Err(); err != nil {
		fmt.Fprintln(stderr, "ticketero-agent:", err)
		return 2
	}
	if *lang != "" {
		env.lang = i18n.Parse(*lang)
	}
	return run()
}

func dbPath(data string) string { return filepath.Join(data, "agent.db") }

// branchOfData reads the branch an agent recorded in its database, or "" when
// there is none (no database yet, never started): doctor then says so.
func branchOfData(ctx context.Context, data string) string {
	if _, err := os.Stat(dbPath(data)); err != nil {
		return ""
	}
	a, err := sqlite.OpenAdmin(ctx, dbPath(data))
	if err != nil {
		return ""
	}
	defer a.Close()
	b, _ := a.Branch(ctx)
	return b
}

func opsEnroll(ctx context.Context, env opsEnv, data, cloud, code, branch string) int {
	if cloud == "" {
		fmt.Fprintln(env.stderr, "ticketero-agent:", i18n.T(env.lang, "ops.flag_required", "--cloud"))
		return 2
	}
	if code == "" {
		fmt.Fprintln(env.stderr, "ticketero-agent:", i18n.T(env.lang, "ops.flag_required", "--code"))
		return 2
	}
	if branch != "" {
		if _, err := queue.ParseBranchID(branch); err != nil {
			return env.fail(err)
		}
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return env.fail(err)
	}
	cl := &enroll.Client{Cloud: cloud}
	res, err := cl.Enroll(ctx, data, code, branch)
	if err != nil {
		return env.fail(err)
	}
	env.say("enroll.done", res.State.Branch, res.State.NotAfter.Format(time.DateOnly), data)
	// A replacement box: the cloud already has events of this branch, so the
	// box starts after them (no duplicate number, no reused seq).
	if r := res.Resume; r != nil && (r.MaxSeq > 0 || len(r.Numbers) > 0) {
		if lan := runningAt(data, ""); lan != "" {
			// Re-enrolling a live box: its own state is ahead of the cloud's;
			// seeding under the running agent would fork its numbering.
			env.say("resume.agent_running", lan)
			return 0
		}
		if code := seed(ctx, env, data, *r); code != 0 {
			return code
		}
	}
	return 0
}

func seed(ctx context.Context, env opsEnv, data string, r enroll.Resume) int {
	rep, err := sqlite.SeedResume(ctx, dbPath(data), r.Branch, sqlite.ResumeSeedOf(r))
	if err != nil {
		return env.fail(err)
	}
	var nums []string
	for k, v := range rep.Numbers {
		nums = append(nums, fmt.Sprintf("%s-%03d", k, v))
	}
	sort.Strings(nums)
	env.say("resume.seeded", rep.NextSeq, strings.Join(nums, " "), rep.Recreated)
	return 0
}

func opsResume(ctx context.Context, env opsEnv, data string) int {
	if code := refuseIfRunning(env, data, ""); code != 0 {
		return code
	}
	st, err := enroll.LoadState(data)
	if err != nil {
		return env.fail(err)
	}
	r, err := (&enroll.Client{Cloud: st.Cloud}).Resume(ctx, data)
	if err != nil {
		return env.fail(err)
	}
	return seed(ctx, env, data, r)
}

func opsRenew(ctx context.Context, env opsEnv, data string, before time.Duration, force bool) int {
	st, err := enroll.LoadState(data)
	if err != nil {
		return env.fail(err)
	}
	if force {
		before = 100 * 365 * 24 * time.Hour
	}
	renewed, st, err := (&enroll.Client{Cloud: st.Cloud}).Renew(ctx, data, before)
	if err != nil {
		return env.fail(err)
	}
	if !renewed {
		env.say("enroll.not_due", st.NotAfter.Format(time.DateOnly))
		return 0
	}
	// The marker tells the renew timer's ExecStartPost to restart the agent
	// so its MQTT link uses the new certificate.
	_ = enroll.WriteFile0600(filepath.Join(enroll.Paths{Dir: data}.TLSDir(), "renewed"), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"))
	env.say("enroll.renewed", st.NotAfter.Format(time.DateOnly))
	return 0
}

func opsDoctor(ctx context.Context, env opsEnv, cfg doctor.Config, asJSON bool) int {
	p := enroll.Paths{Dir: cfg.Data}
	st, _ := enroll.LoadState(cfg.Data)
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&cfg.Branch, st.Branch)
	def(&cfg.Branch, env.getenv("TICKETERO_BRANCH"))
	if cfg.Branch == "" {
		cfg.Branch = branchOfData(ctx, cfg.Data)
	}
	def(&cfg.Broker, st.Broker)
	def(&cfg.Cloud, st.Cloud)
	if cfg.Broker != "" || st.Branch != "" {
		def(&cfg.Cert, p.Cert())
		def(&cfg.Key, p.Key())
		def(&cfg.CA, p.CA())
	}
	if cfg.LAN == "" {
		if b, err := os.ReadFile(filepath.Join(cfg.Data, "http.addr")); err == nil {
			cfg.LAN = strings.TrimSpace(string(b))
		}
	}
	if ca := filepath.Join(cfg.Data, "lan-tls", lantls.CAFile); fileExists(ca) {
		cfg.LANCA = ca
	}
	cfg.DB = dbPath(cfg.Data)
	r := doctor.Run(ctx, cfg, env.lang)
	if asJSON {
		_ = doctor.PrintJSON(env.stdout, r)
	} else {
		doctor.Print(env.stdout, r, env.lang)
	}
	if !r.OK {
		return 1
	}
	return 0
}

type s3Opts struct{ bucket, prefix, endpoint, region string }

func (o s3Opts) client(ctx context.Context, branch string) (*backup.S3, error) {
	if o.bucket == "" {
		return nil, nil
	}
	var opts []func(*awsconfig.LoadOptions) error
	if o.region != "" {
		opts = append(opts, awsconfig.WithRegion(o.region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	c := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.endpoint != "" {
			so.BaseEndpoint = aws.String(o.endpoint)
			so.UsePathStyle = true
		}
	})
	return &backup.S3{Client: c, Bucket: o.bucket, Prefix: o.prefix, Branch: branch}, nil
}

func branchOf(data, flagValue string, getenv func(string) string) string {
	if flagValue != "" {
		return flagValue
	}
	if st, err := enroll.LoadState(data); err == nil && st.Branch != "" {
		return st.Branch
	}
	return getenv("TICKETERO_BRANCH")
}

func opsBackup(ctx context.Context, env opsEnv, data, branch string, keep int, o s3Opts) int {
	branch = branchOf(data, branch, env.getenv)
	up, err := o.client(ctx, branch)
	if err != nil {
		return env.fail(err)
	}
	cfg := backup.Config{DB: dbPath(data), Dir: filepath.Join(data, "backups"), Keep: keep}
	if up != nil {
		if branch == "" {
			fmt.Fprintln(env.stderr, "ticketero-agent:", i18n.T(env.lang, "ops.flag_required", "--branch"))
			return 2
		}
		cfg.Upload = up
	}
	res, err := backup.Run(ctx, cfg)
	if res.Path != "" {
		env.say("backup.done", res.Path, res.Size)
	}
	if err != nil {
		return env.fail(err)
	}
	if res.Uploaded != "" {
		env.say("backup.uploaded", o.bucket, strings.TrimPrefix(res.Uploaded, "s3://"+o.bucket+"/"))
	}
	return 0
}

// refuseIfRunning returns non-zero when the agent answers on its LAN port:
// a restore or a seed must never run under a live agent.
func refuseIfRunning(env opsEnv, data, lan string) int {
	if lan = runningAt(data, lan); lan == "" {
		return 0
	}
	fmt.Fprintln(env.stderr, "ticketero-agent:", i18n.T(env.lang, "backup.agent_running", lan))
	return 1
}

// runningAt returns the LAN address where the agent answers /healthz (lan,
// else the one in <data>/http.addr), or "" when no agent answers.
func runningAt(data, lan string) string {
	if lan == "" {
		if b, err := os.ReadFile(filepath.Join(data, "http.addr")); err == nil { // #nosec G304 -- path from the operator's configuration (flag, env or data directory), never from a request
			lan = strings.TrimSpace(string(b))
		}
	}
	if lan == "" {
		return ""
	}
	c := &http.Client{Timeout: time.Second}
	res, err := c.Get("http://" + lan + "/healthz")
	if err != nil {
		return ""
	}
	res.Body.Close()
	return lan
}

func opsRestore(ctx context.Context, env opsEnv, data, branch, from string, latest, resume bool, lan string, o s3Opts) int {
	if code := refuseIfRunning(env, data, lan); code != 0 {
		return code
	}
	branch = branchOf(data, branch, env.getenv)
	switch {
	case from != "":
	case latest:
		list, err := backup.List(filepath.Join(data, "backups"))
		if err != nil {
			return env.fail(err)
		}
		if len(list) == 0 {
			fmt.Fprintln(env.stderr, "ticketero-agent:", i18n.T(env.lang, "backup.none", filepath.Join(data, "backups")))
			return 1
		}
		from = list[0]
	case o.bucket != "":
		up, err := o.client(ctx, branch)
		if err != nil {
			return env.fail(err)
		}
		name, err := up.Latest(ctx)
		if err != nil {
			return env.fail(err)
		}
		if err := os.MkdirAll(filepath.Join(data, "backups"), 0o700); err != nil {
			return env.fail(err)
		}
		from = filepath.Join(data, "backups", name)
		if err := up.Download(ctx, name, from); err != nil {
			return env.fail(err)
		}
	default:
		fmt.Fprintln(env.stderr, "ticketero-agent:", i18n.T(env.lang, "ops.flag_required", "--from | --latest | --s3-bucket"))
		return 2
	}
	if _, err := backup.Restore(ctx, from, dbPath(data), branch); err != nil {
		return env.fail(err)
	}
	env.say("backup.restored", from)
	if resume {
		return opsResume(ctx, env, data)
	}
	return 0
}

// opsInstall writes the systemd units (the agent, and timers for the nightly
// backup and the certificate renewal) and the environment file, then enables
// them unless --no-enable.
func opsInstall(ctx context.Context, env opsEnv, data, httpAddr, unitDir, envFile string, noEnable bool) int {
	if abs, err := filepath.Abs(data); err == nil {
		data = abs
	}
	if !safeUnitPath.MatchString(data) {
		return env.fail(queue.Errorf(queue.CodeInvalid, "ops.flag_invalid", "--data", data))
	}
	st, err := enroll.LoadState(data)
	if err != nil {
		return env.fail(err)
	}
	p := enroll.Paths{Dir: data}
	lines := []string{
		"# Written by `ticketero-agent install`; see docs/operations.md.",
		"TICKETERO_BRANCH=" + st.Branch,
		"TICKETERO_HTTP=" + httpAddr,
		"TICKETERO_MQTT=" + st.Broker,
		"TICKETERO_CERT=" + p.Cert(),
		"TICKETERO_KEY=" + p.Key(),
		"TICKETERO_CA=" + p.CA(),
		"TICKETERO_CLOUD=" + st.Cloud,
		"TICKETERO_LOG_FORMAT=json",
	}
	if data != defaultData {
		lines = append(lines, "TICKETERO_DATA="+data)
	}
	if err := os.MkdirAll(filepath.Dir(envFile), 0o750); err != nil {
		return env.fail(err)
	}
	// The personal-data key lives beside the environment file, not in the
	// data directory: a copy of the data directory (a backup, a disk pulled
	// from the box) then holds encrypted RUTs without their key.
	keyFile := filepath.Join(filepath.Dir(envFile), "data.key")
	if err := placeDataKey(data, keyFile); err != nil {
		return env.fail(err)
	}
	lines = append(lines, "TICKETERO_DATA_KEY_FILE="+keyFile)
	if err := os.WriteFile(envFile, []byte(strings.Join(lines, "\n")+"\n"), 0o640); err != nil { // #nosec G306 -- root:ticketero 0640, read by the service's group; paths only, no secret
		return env.fail(err)
	}
	if err := os.MkdirAll(unitDir, 0o755); err != nil { // #nosec G301 -- systemd unit directory: world-readable like /etc/systemd/system
		return env.fail(err)
	}
	for name, body := range units(envFile, data) {
		if err := os.WriteFile(filepath.Join(unitDir, name), []byte(body), 0o644); err != nil { // #nosec G306 -- unit files hold no secret; systemd reads them world-readable
			return env.fail(err)
		}
	}
	unit := filepath.Join(unitDir, "ticketero-agent.service")
	if noEnable {
		env.say("install.written", unit, "--no-enable")
		env.say("install.no_start")
		return 0
	}
	for _, args := range [][]string{{"daemon-reload"}, {"enable", "--now", "ticketero-agent.service",
		"ticketero-agent-backup.timer", "ticketero-agent-renew.timer"}} {
		out, err := exec.CommandContext(ctx, "systemctl", args...).CombinedOutput() // #nosec G204 -- fixed program, arguments are unit names from this file
		if err != nil {
			env.say("install.written", unit, strings.TrimSpace(string(out))+" "+err.Error())
			env.say("install.no_start")
			return 1
		}
	}
	env.say("install.done", unit)
	return 0
}

// placeDataKey makes keyFile (0600, owned by the service's user when run as
// root) the box's data key: kept if present, else moved from <data>/data.key
// (where older versions made it), else generated.
func placeDataKey(data, keyFile string) error {
	if fileExists(keyFile) {
		return nil
	}
	old := filepath.Join(data, "data.key")
	if fileExists(old) {
		b, err := os.ReadFile(old) // #nosec G304 -- the operator's data directory
		if err != nil {
			return fmt.Errorf("data key: %w", err)
		}
		if err := enroll.WriteFile0600(keyFile, b); err != nil {
			return fmt.Errorf("data key: %w", err)
		}
		if err := os.Remove(old); err != nil {
			return fmt.Errorf("data key: %w", err)
		}
	} else if _, err := loadDataKey(keyFile, true, data); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		if u, err := user.Lookup("ticketero"); err == nil {
			uid, _ := strconv.Atoi(u.Uid)
			gid, _ := strconv.Atoi(u.Gid)
			if err := os.Chown(keyFile, uid, gid); err != nil {
				return fmt.Errorf("data key: %w", err)
			}
		}
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
