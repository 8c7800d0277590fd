package update

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/agent/health"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/release"
)

// Store is what the updater needs of the agent's store.
type Store interface {
	// RecordUpdate writes an agent.update event; it returns its seq.
	RecordUpdate(ctx context.Context, r release.Report) (uint64, error)
	SyncState(ctx context.Context) (agent.SyncState, error)
	health.Store
}

// Config is the updater's configuration.
type Config struct {
	Data    string
	Version string
	// PublicKey is the release key the box trusts; nil disables updates
	// (offers are logged and ignored).
	PublicKey ed25519.PublicKey
	// Location is the branch's time zone, for the install window.
	Location *time.Location
	// HealthTimeout is how long a new version has to prove healthy (2 min).
	HealthTimeout time.Duration
	// Client downloads binaries (30 s per attempt by default).
	Client *http.Client
	// GOOS and GOARCH pick the artifact (the running platform by default).
	GOOS, GOARCH string
	// Busy, when set, says why the branch must not be disturbed now ("" when
	// it may; sqlite.Store.Busy: open by its hours, tickets still open). An
	// offer inside its window waits until the branch is quiet, unless its
	// window is "always" (an urgent fix).
	Busy func(ctx context.Context) string
	// Every is how often a waiting offer's window is checked (30 s).
	Every time.Duration
	Now   func() time.Time
	Log   *slog.Logger
}

// Updater installs offered releases and runs a new version's trial.
type Updater struct {
	cfg     Config
	store   Store
	restart chan string

	mu      sync.Mutex
	offer   *event.Release // the latest offer, waiting for its window
	busy    bool
	refused map[string]bool // artifact hashes refused by this process
	waiting *event.Release  // the offer last deferred because the branch was busy (logged once)
	wake    chan struct{}
}

// New builds an updater over store.
func New(cfg Config, store Store) *Updater {
	if cfg.HealthTimeout <= 0 {
		cfg.HealthTimeout = 2 * time.Minute
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 5 * time.Minute}
	}
	if cfg.GOOS == "" {
		cfg.GOOS, cfg.GOARCH = runtime.GOOS, runtime.GOARCH
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Every <= 0 {
		cfg.Every = 30 * time.Second
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.Log = cfg.Log.With("component", "update")
	return &Updater{cfg: cfg, store: store, restart: make(chan string, 1), refused: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// Restart receives the binary to exec once an update is installed (or a
// rollback decided): the agent stops gracefully, then execs it with the same
// arguments and environment.
func (u *Updater) Restart() <-chan string { return u.restart }

// Offer takes a release offer (from the relay); it never blocks.
func (u *Updater) Offer(_ context.Context, r event.Release) {
	if u.cfg.PublicKey == nil {
		u.cfg.Log.Warn("release offer ignored: no update key configured", "version", r.Version)
		return
	}
	u.mu.Lock()
	u.offer = &r
	u.mu.Unlock()
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// Withdraw drops the offer waiting for its window (HQ stopped its rollout:
// the retained offer was cleared). An install already under way (its
// download started) goes on, and its trial ends healthy or rolled back as
// any other; nothing new starts until another offer arrives.
func (u *Updater) Withdraw(_ context.Context) {
	u.mu.Lock()
	r := u.offer
	u.offer = nil
	u.mu.Unlock()
	if r != nil {
		u.cfg.Log.Info("agent release offer withdrawn", "version", r.Version)
	}
}

// Run flushes reports left by the launcher, runs this version's trial when
// it is one, then installs offers as their windows open, until ctx ends.
// lanURL is the agent's own LAN API; link its cloud link (nil: standalone).
func (u *Updater) Run(ctx context.Context, lanURL string, link agent.Link) {
	st, err := Load(u.cfg.Data)
	if err != nil {
		u.cfg.Log.Error("update state unreadable", "err", err)
		return
	}
	if len(st.Pending) > 0 {
		for _, r := range st.Pending {
			r.Running = u.cfg.Version
			if _, err := u.store.RecordUpdate(ctx, r); err != nil {
				u.cfg.Log.Warn("update report not written", "err", err)
				return
			}
			u.cfg.Log.Warn("agent update rolled back", "version", r.Version, "reason", r.Reason)
		}
		st.Pending = nil
		if err := Save(u.cfg.Data, st); err != nil {
			u.cfg.Log.Error("update state not saved", "err", err)
		}
	}
	if st.Trial != nil && st.Trial.Version == u.cfg.Version {
		if !u.trial(ctx, lanURL, link, *st.Trial) {
			return // restarting into the previous version
		}
	}
	tick := time.NewTicker(u.cfg.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-u.wake:
		case <-tick.C:
		}
		if done := u.tryOffer(ctx); done {
			return
		}
	}
}

// tryOffer installs the waiting offer if its window is open; true when a
// restart was requested.
func (u *Updater) tryOffer(ctx context.Context) bool {
	u.mu.Lock()
	r := u.offer
	u.mu.Unlock()
	if r == nil {
		return false
	}
	st, err := Load(u.cfg.Data)
	if err != nil {
		u.cfg.Log.Error("update state unreadable", "err", err)
		return false
	}
	if r.Version == u.cfg.Version || st.failed(r.Version) || st.Trial != nil {
		u.clear(r)
		return false
	}
	w, err := release.ParseWindow(r.Window)
	if err != nil {
		u.refuse(ctx, r.Version, "", err.Error())
		u.clear(r)
		return false
	}
	if !w.Contains(u.cfg.Now().In(u.cfg.Location)) {
		return false // waits for its window
	}
	if u.cfg.Busy != nil && !w.Always {
		if why := u.cfg.Busy(ctx); why != "" {
			if u.waiting != r {
				u.cfg.Log.Info("agent release waits: the branch is busy", "version", r.Version, "reason", why)
				u.waiting = r
			}
			return false // never mid-service
		}
	}
	// Withdrawn while this pass looked at the window (HQ cleared the offer
	// before the window opened): nothing starts.
	u.mu.Lock()
	current := u.offer == r
	u.mu.Unlock()
	if !current {
		return false
	}
	path, m, err := u.install(ctx, r)
	if errors.Is(err, errRetry) {
		return false // the download is tried again at the next tick
	}
	u.clear(r)
	if err != nil {
		return false
	}
	st.Trial = &Trial{Version: m.Version, From: u.cfg.Version, Started: u.cfg.Now().UTC()}
	if err := Save(u.cfg.Data, st); err != nil {
		u.cfg.Log.Error("update state not saved", "err", err)
		return false
	}
	u.cfg.Log.Info("agent update installed: restarting into it", "version", m.Version, "from", u.cfg.Version)
	u.restart <- path
	return true
}

func (u *Updater) clear(r *event.Release) {
	u.mu.Lock()
	if u.offer == r {
		u.offer = nil
	}
	u.mu.Unlock()
}

// errRetry marks a failure worth trying again (a download).
var errRetry = errors.New("update: retry")

// install picks this platform's artifact, verifies, downloads and checks it,
// and runs it once ("version") before it is trusted to start.
func (u *Updater) install(ctx context.Context, r *event.Release) (string, release.Manifest, error) {
	var m release.Manifest
	var art *event.ReleaseArtifact
	var verr error
	for i := range r.Artifacts {
		a := &r.Artifacts[i]
		got, err := release.Verify(u.cfg.PublicKey, release.Signed{Manifest: a.Manifest, Signature: a.Signature})
		if err != nil {
			verr = err
			continue
		}
		if got.OS == u.cfg.GOOS && got.Arch == u.cfg.GOARCH {
			m, art = got, a
			break
		}
	}
	if art == nil {
		reason := fmt.Sprintf("no artifact for %s/%s", u.cfg.GOOS, u.cfg.GOARCH)
		if verr != nil {
			reason = verr.Error()
		}
		return "", m, u.refuse(ctx, r.Version, "sig:"+r.Version, reason)
	}
	if m.Version != r.Version {
		return "", m, u.refuse(ctx, r.Version, m.SHA256, "the signed version differs from the offer's")
	}
	if u.refused[m.SHA256] {
		return "", m, errors.New("already refused")
	}
	b, err := u.download(ctx, art.URL, m.Size)
	if err != nil {
		u.cfg.Log.Warn("agent release download failed; tried again in 30 s", "version", m.Version, "err", err)
		return "", m, fmt.Errorf("%w: %v", errRetry, err)
	}
	if err := m.Check(b); err != nil {
		return "", m, u.refuse(ctx, m.Version, m.SHA256, err.Error())
	}
	path := Binary(u.cfg.Data, m.Version)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", m, err
	}
	if err := writeAtomic(path, b, 0o700); err != nil {
		return "", m, err
	}
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(pctx, path, "version").Output() // #nosec G204 -- a binary whose signed hash was just verified
	if err != nil || strings.TrimSpace(string(out)) != m.Version {
		_ = os.RemoveAll(filepath.Dir(path))
		return "", m, u.refuse(ctx, m.Version, m.SHA256, fmt.Sprintf("the binary does not run on this box (version answered %q, %v)", strings.TrimSpace(string(out)), err))
	}
	return path, m, nil
}

func (u *Updater) download(ctx context.Context, url string, size int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	res, err := u.cfg.Client.Do(req) // #nosec G107 -- the URL comes from HQ's offer; what it serves is checked against the signed hash
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download: HTTP %d", res.StatusCode)
	}
	return io.ReadAll(io.LimitReader(res.Body, size+1))
}

// refuse reports a refused offer once per artifact (key) and returns an error.
func (u *Updater) refuse(ctx context.Context, version, key, reason string) error {
	u.cfg.Log.Warn("agent release refused", "version", version, "reason", reason)
	if key != "" {
		if u.refused[key] {
			return errors.New(reason)
		}
		u.refused[key] = true
	}
	if _, err := u.store.RecordUpdate(ctx, release.Report{State: release.StateRefused, Version: version, Running: u.cfg.Version, Reason: reason}); err != nil {
		u.cfg.Log.Warn("update report not written", "err", err)
	}
	return errors.New(reason)
}

// trial checks this new version's health; healthy, it becomes the box's
// version (true); not healthy within HealthTimeout, the trial is rolled back
// and a restart into the launcher requested (false).
func (u *Updater) trial(ctx context.Context, lanURL string, link agent.Link, t Trial) bool {
	deadline := time.Now().Add(u.cfg.HealthTimeout)
	problems := []string{"report not written"}
	seq, err := u.store.RecordUpdate(ctx, release.Report{State: release.StateTrial, Version: t.Version, From: t.From, Running: u.cfg.Version})
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if err != nil {
			seq, err = u.store.RecordUpdate(ctx, release.Report{State: release.StateTrial, Version: t.Version, From: t.From, Running: u.cfg.Version})
		}
		if err == nil {
			problems = u.health(ctx, lanURL, link, seq)
		}
		if len(problems) == 0 {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	if ctx.Err() != nil {
		return false // stopped during the trial: the launcher rolls it back
	}
	st, lerr := Load(u.cfg.Data)
	if lerr != nil {
		u.cfg.Log.Error("update state unreadable", "err", lerr)
		return false
	}
	if len(problems) == 0 {
		if st.Current != t.Version && st.Current != "" {
			st.Previous = st.Current
		}
		prev := st.Current
		st.Current, st.Trial = t.Version, nil
		if err := Save(u.cfg.Data, st); err != nil {
			u.cfg.Log.Error("update state not saved", "err", err)
			return false
		}
		u.prune(st, prev)
		if _, err := u.store.RecordUpdate(ctx, release.Report{State: release.StateUpdated, Version: t.Version, From: t.From, Running: u.cfg.Version}); err != nil {
			u.cfg.Log.Warn("update report not written", "err", err)
		}
		u.cfg.Log.Info("agent update healthy", "version", t.Version, "from", t.From)
		return true
	}
	reason := "unhealthy after " + u.cfg.HealthTimeout.String() + ": " + strings.Join(problems, "; ")
	st.Trial = nil
	if !st.failed(t.Version) {
		st.Failed = append(st.Failed, t.Version)
	}
	st.Pending = append(st.Pending, release.Report{State: release.StateRolledBack, Version: t.Version, From: t.From, Reason: reason})
	if err := Save(u.cfg.Data, st); err != nil {
		u.cfg.Log.Error("update state not saved", "err", err)
	}
	u.cfg.Log.Error("agent update unhealthy: rolling back", "version", t.Version, "to", t.From, "reason", reason)
	launcher := st.Launcher
	if launcher == "" {
		launcher = Binary(u.cfg.Data, t.From)
	}
	u.restart <- launcher
	return false
}

// health lists what is not healthy yet: the agent's own health as the
// systemd watchdog judges it (agent/health: the LAN API answers, SQLite
// takes a commit, the relay loop is not stuck), and for a trial also the
// broker connected and the cloud's ack of seq.
func (u *Updater) health(ctx context.Context, lanURL string, link agent.Link, seq uint64) []string {
	c := health.Checker{LAN: lanURL, Store: u.store, Timeout: 2 * time.Second}
	if l, ok := link.(health.Loop); ok {
		c.Loops = append(c.Loops, l)
	}
	p := c.Problems(ctx)
	if link == nil {
		return append(p, "no cloud link")
	}
	if !link.State().Connected {
		p = append(p, "broker: not connected")
	}
	if s, err := u.store.SyncState(ctx); err != nil || s.LastAck < seq {
		p = append(p, fmt.Sprintf("cloud: report seq %d not acknowledged yet", seq))
	}
	return p
}

// prune removes release folders other than the current and previous ones.
func (u *Updater) prune(st State, prev string) {
	dir := filepath.Join(Dir(u.cfg.Data), "releases")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if n := e.Name(); n != st.Current && n != st.Previous && n != prev {
			_ = os.RemoveAll(filepath.Join(dir, n))
		}
	}
}
