// Package update is the branch box's side of remote agent updates: it takes
// the release HQ offers (agent/mqtt delivers it), verifies the signed manifest
// with the box's trusted Ed25519 key and the binary's size and hash, installs
// it under the data directory at a time the offer's window allows, restarts
// into it (the agent's graceful stop, then exec: the same zero-loss restart
// as a package upgrade), and lets the new version judge its own health (the
// systemd watchdog's checks in agent/health: LAN API, SQLite takes a commit,
// relay loop not stuck; then the broker and the cloud's ack of its report). An unhealthy or
// crashing version is rolled back: the service manager starts the installed
// binary again, whose Launch sees the unfinished trial and runs the previous
// version. Each step is an agent.update event in the outbox.
//
// On the box (data directory D):
//
//	D/update/state.json                     what runs, the trial, failed versions
//	D/update/releases/<version>/ticketero-agent
//
// The binary the service manager starts (/usr/local/bin/ticketero-agent,
// read-only under the unit's hardening) is the launcher: it execs the
// current release when there is one.
package update

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ticketero/ticketero/shared/release"
)

// State is the box's update state, kept in D/update/state.json (written
// atomically: temporary file, fsync, rename).
type State struct {
	// Current is the release the launcher runs ("" runs the launcher's own
	// binary); Previous the one before it.
	Current  string `json:"current,omitempty"`
	Previous string `json:"previous,omitempty"`
	// Trial is the version started and not yet healthy.
	Trial *Trial `json:"trial,omitempty"`
	// Failed are versions rolled back: never installed again.
	Failed []string `json:"failed,omitempty"`
	// Launcher is the binary the service manager starts.
	Launcher string `json:"launcher,omitempty"`
	// Pending are reports made before the store was open (a rollback found
	// by the launcher), written to the outbox at the next start.
	Pending []release.Report `json:"pending,omitempty"`
}

// Trial is a version being tried.
type Trial struct {
	Version string    `json:"version"`
	From    string    `json:"from"`
	Started time.Time `json:"started"`
}

// Dir is the update folder in data directory data.
func Dir(data string) string { return filepath.Join(data, "update") }

func statePath(data string) string { return filepath.Join(Dir(data), "state.json") }

// Binary is where release v's binary lives.
func Binary(data, v string) string {
	return filepath.Join(Dir(data), "releases", v, "ticketero-agent")
}

// Load reads the state (zero when absent).
func Load(data string) (State, error) {
	var s State
	b, err := os.ReadFile(statePath(data)) // #nosec G304 -- path inside the operator's data directory
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("update: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("update: %s: %w", statePath(data), err)
	}
	return s, nil
}

// Save writes the state atomically.
func Save(data string, s State) error {
	if err := os.MkdirAll(Dir(data), 0o700); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(statePath(data), b, 0o600)
}

func writeAtomic(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode) // #nosec G304 -- path inside the operator's data directory
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	_, werr := f.Write(b)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("update: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil { // #nosec G304 -- the data directory
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

func (s *State) failed(v string) bool { return slices.Contains(s.Failed, v) }

// Launch decides, at the start of serve and before anything is opened, which
// binary this box must run: it returns the path to exec, or "" to go on in
// this process. own is this binary's version and self its path. A trial of
// another version that is still recorded means that version crashed or was
// stopped before it proved healthy: Launch rolls it back (recorded, reported
// at the next start of the store) and runs the current release.
func Launch(data, own, self string, now time.Time) (string, error) {
	s, err := Load(data)
	if err != nil {
		return "", err
	}
	changed := false
	releases := filepath.Join(Dir(data), "releases") + string(filepath.Separator)
	if self != "" && !strings.HasPrefix(self, releases) && s.Launcher != self {
		s.Launcher, changed = self, true
	}
	if t := s.Trial; t != nil && t.Version != own {
		if !s.failed(t.Version) {
			s.Failed = append(s.Failed, t.Version)
		}
		s.Pending = append(s.Pending, release.Report{State: release.StateRolledBack, Version: t.Version, From: t.From,
			Running: t.From, Reason: fmt.Sprintf("the new version stopped before it was healthy (started %s)", t.Started.UTC().Format(time.RFC3339))})
		s.Trial, changed = nil, true
		_ = os.RemoveAll(filepath.Dir(Binary(data, t.Version)))
	}
	if changed {
		if err := Save(data, s); err != nil {
			return "", err
		}
	}
	if s.Trial != nil || s.Current == "" || s.Current == own {
		return "", nil
	}
	p := Binary(data, s.Current)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("update: current release %s: %w", s.Current, err)
	}
	return p, nil
}
