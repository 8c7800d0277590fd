// Package release is the agent release format shared by HQ, which signs and
// publishes releases, and the branch boxes, which verify them: the signed
// manifest, Ed25519 keys, the install window, and the report a box writes at
// each step of an update (event type agent.update).
package release

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Manifest describes one agent binary. Its JSON bytes, exactly as signed, are
// what a box verifies; every other field of an offer is untrusted.
type Manifest struct {
	Version string `json:"version"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
	// SHA256 is the binary's hash, lower-case hex.
	SHA256 string    `json:"sha256"`
	Size   int64     `json:"size"`
	Signed time.Time `json:"signed"`
}

var versionRE = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$`)

// ValidVersion reports whether v is a usable version string (it names a
// folder on the box, so no slashes or dots alone).
func ValidVersion(v string) bool { return versionRE.MatchString(v) && v != "." && v != ".." }

// Validate checks the manifest's fields.
func (m Manifest) Validate() error {
	if !ValidVersion(m.Version) {
		return fmt.Errorf("release: version %q is not valid (letters, digits, . + _ -, up to 64)", m.Version)
	}
	switch m.OS + "/" + m.Arch {
	case "linux/amd64", "linux/arm64":
	default:
		return fmt.Errorf("release: platform %s/%s is not linux/amd64 or linux/arm64", m.OS, m.Arch)
	}
	if b, err := hex.DecodeString(m.SHA256); err != nil || len(b) != sha256.Size {
		return fmt.Errorf("release: sha256 %q is not 64 hex digits", m.SHA256)
	}
	if m.Size <= 0 || m.Size > 512<<20 {
		return fmt.Errorf("release: size %d must be 1 byte to 512 MiB", m.Size)
	}
	return nil
}

// Describe builds the manifest of binary b.
func Describe(version, goos, goarch string, b []byte, now time.Time) Manifest {
	sum := sha256.Sum256(b)
	return Manifest{Version: version, OS: goos, Arch: goarch, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b)), Signed: now.UTC()}
}

// Signed is a manifest's exact bytes with their signature: what HQ stores and
// offers, and what the offline signing step writes (a .sig.json file).
type Signed struct {
	Manifest  []byte `json:"manifest"`
	Signature []byte `json:"signature"`
}

// Sign encodes m and signs the bytes.
func Sign(priv ed25519.PrivateKey, m Manifest) (Signed, error) {
	if err := m.Validate(); err != nil {
		return Signed{}, err
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return Signed{}, err
	}
	return Signed{Manifest: raw, Signature: ed25519.Sign(priv, raw)}, nil
}

// ErrSignature is returned when a manifest's signature does not verify with
// the trusted key.
var ErrSignature = errors.New("release: signature does not verify with the trusted key")

// Verify checks s's signature with pub and returns the manifest it signs.
func Verify(pub ed25519.PublicKey, s Signed) (Manifest, error) {
	var m Manifest
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, s.Manifest, s.Signature) {
		return m, ErrSignature
	}
	if err := json.Unmarshal(s.Manifest, &m); err != nil {
		return m, fmt.Errorf("release: manifest: %w", err)
	}
	return m, m.Validate()
}

// ErrHash is returned when a binary does not match its manifest.
var ErrHash = errors.New("release: binary does not match the signed size and sha256")

// Check verifies b against m's size and hash.
func (m Manifest) Check(b []byte) error {
	sum := sha256.Sum256(b)
	if int64(len(b)) != m.Size || hex.EncodeToString(sum[:]) != m.SHA256 {
		return ErrHash
	}
	return nil
}

// GenerateKey makes a signing pair, each as base64 text (the private key is
// the 64-byte Ed25519 key; it stays offline).
func GenerateKey() (pub, priv string, err error) {
	p, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", err
	}
	return base64.StdEncoding.EncodeToString(p), base64.StdEncoding.EncodeToString(k), nil
}

// ParsePublicKey reads a base64 Ed25519 public key.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("release: public key must be the base64 of %d bytes", ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// ParsePrivateKey reads a base64 Ed25519 private key.
func ParsePrivateKey(s string) (ed25519.PrivateKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("release: private key must be the base64 of %d bytes", ed25519.PrivateKeySize)
	}
	return ed25519.PrivateKey(b), nil
}

// Window is a daily install window in the branch's time zone; From after To
// wraps midnight ("22:00-06:00"). Always is the word "always": any time
// (an urgent fix, decided by HQ ops).
type Window struct {
	From, To int // minutes after midnight
	Always   bool
}

// ParseWindow reads "HH:MM-HH:MM" or "always".
func ParseWindow(s string) (Window, error) {
	if s == "always" {
		return Window{Always: true}, nil
	}
	from, to, ok := strings.Cut(s, "-")
	f, err1 := clock(from)
	t, err2 := clock(to)
	if !ok || err1 != nil || err2 != nil || f == t {
		return Window{}, fmt.Errorf("release: window %q must be HH:MM-HH:MM (from ≠ to) or always", s)
	}
	return Window{From: f, To: t}, nil
}

func clock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hh > 23 || mm > 59 || hh < 0 || mm < 0 {
		return 0, errors.New("bad clock")
	}
	return hh*60 + mm, nil
}

// Contains reports whether t (already in the branch's zone) is in the window.
func (w Window) Contains(t time.Time) bool {
	if w.Always {
		return true
	}
	m := t.Hour()*60 + t.Minute()
	if w.From < w.To {
		return m >= w.From && m < w.To
	}
	return m >= w.From || m < w.To
}

// Update states a box reports (Report.State).
const (
	// StateRefused: the offer failed verification (signature, platform,
	// size or hash) or could not be downloaded; nothing was installed.
	StateRefused = "refused"
	// StateTrial: the new version runs and is checking its health.
	StateTrial = "trial"
	// StateUpdated: the new version passed its health checks and is the
	// box's version from now on.
	StateUpdated = "updated"
	// StateRolledBack: the new version crashed or was unhealthy; the box runs
	// the previous version again and will not retry this one.
	StateRolledBack = "rolled_back"
)

// Report is the payload of an agent.update event.
type Report struct {
	State string `json:"state"`
	// Version is the release concerned; Running the version the box runs
	// when it writes the report.
	Version string `json:"version"`
	Running string `json:"running"`
	// From is the version the box ran before the update.
	From string `json:"from,omitempty"`
	// Reason says why, for refused and rolled_back (English, for HQ ops;
	// HQ shows it with a translated state).
	Reason string `json:"reason,omitempty"`
}
