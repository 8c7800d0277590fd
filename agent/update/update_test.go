package update_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/agent/update"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/release"
)

func openStore(t *testing.T, dir string) *sqlite.Store {
	t.Helper()
	k := make([]byte, sqlite.KeySize)
	_, _ = rand.Read(k)
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(dir, "agent.db"), Branch: "SCL-001", DataKey: k})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func updates(t *testing.T, st *sqlite.Store) []string {
	t.Helper()
	evs, err := st.Pending(context.Background(), 0, 1000)
	require.NoError(t, err)
	var out []string
	for _, e := range evs {
		if e.Type == event.AgentUpdate {
			out = append(out, string(e.Data))
		}
	}
	return out
}

// A trial still recorded when another version starts means the new version
// crashed: Launch rolls it back and runs the current release.
func TestLaunchRollsBackACrashedTrial(t *testing.T) {
	data := t.TempDir()
	cur := update.Binary(data, "2.0.0")
	require.NoError(t, os.MkdirAll(filepath.Dir(cur), 0o700))
	require.NoError(t, os.WriteFile(cur, []byte("#!/bin/sh\n"), 0o700))
	require.NoError(t, update.Save(data, update.State{Current: "2.0.0", Trial: &update.Trial{Version: "3.0.0", From: "2.0.0"}}))

	path, err := update.Launch(data, "1.0.0", "/usr/local/bin/ticketero-agent", time.Now())
	require.NoError(t, err)
	assert.Equal(t, cur, path, "the launcher runs the current release")
	st, err := update.Load(data)
	require.NoError(t, err)
	assert.Nil(t, st.Trial)
	assert.Equal(t, []string{"3.0.0"}, st.Failed)
	assert.Equal(t, "/usr/local/bin/ticketero-agent", st.Launcher)
	require.Len(t, st.Pending, 1)
	assert.Equal(t, release.StateRolledBack, st.Pending[0].State)

	// The current release itself goes on; so does the trial version.
	path, err = update.Launch(data, "2.0.0", cur, time.Now())
	require.NoError(t, err)
	assert.Empty(t, path)
	require.NoError(t, update.Save(data, update.State{Current: "2.0.0", Trial: &update.Trial{Version: "3.0.0", From: "2.0.0"}}))
	path, err = update.Launch(data, "3.0.0", update.Binary(data, "3.0.0"), time.Now())
	require.NoError(t, err)
	assert.Empty(t, path)
}

// A new version that cannot prove healthy (here: no cloud link, so no ack)
// rolls itself back: state, report and a restart into the launcher.
func TestUnhealthyTrialRollsBack(t *testing.T) {
	data := t.TempDir()
	st := openStore(t, data)
	require.NoError(t, update.Save(data, update.State{Launcher: "/usr/local/bin/ticketero-agent",
		Trial: &update.Trial{Version: "2.0.0", From: "1.0.0"}}))
	lan := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) }))
	defer lan.Close()
	u := update.New(update.Config{Data: data, Version: "2.0.0", PublicKey: make(ed25519.PublicKey, 32), HealthTimeout: 500 * time.Millisecond}, st)
	done := make(chan struct{})
	go func() { u.Run(context.Background(), lan.URL, nil); close(done) }()
	select {
	case p := <-u.Restart():
		assert.Equal(t, "/usr/local/bin/ticketero-agent", p)
	case <-time.After(10 * time.Second):
		t.Fatal("no rollback")
	}
	<-done
	s, err := update.Load(data)
	require.NoError(t, err)
	assert.Nil(t, s.Trial)
	assert.Equal(t, []string{"2.0.0"}, s.Failed)
	require.Len(t, s.Pending, 1)
	assert.Contains(t, s.Pending[0].Reason, "no cloud link")
	assert.Len(t, updates(t, st), 1, "the trial report was written")
}

// An offer outside its window waits (nothing downloaded); a tampered
// signature is refused and reported once.
func TestOfferWindowAndSignature(t *testing.T) {
	data := t.TempDir()
	st := openStore(t, data)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	var gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { gets.Add(1); _, _ = w.Write([]byte("bin")) }))
	defer srv.Close()
	s, err := release.Sign(priv, release.Describe("2.0.0", "linux", "amd64", []byte("bin"), time.Now()))
	require.NoError(t, err)
	noon := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	u := update.New(update.Config{Data: data, Version: "1.0.0", PublicKey: pub, GOOS: "linux", GOARCH: "amd64",
		Now: func() time.Time { return noon }}, st)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { u.Run(ctx, srv.URL, nil); close(done) }()
	u.Offer(ctx, event.Release{Branch: "SCL-001", Version: "2.0.0", Window: "22:00-06:00",
		Artifacts: []event.ReleaseArtifact{{Manifest: s.Manifest, Signature: s.Signature, URL: srv.URL}}})
	time.Sleep(300 * time.Millisecond)
	assert.Zero(t, gets.Load(), "mid-day: not even downloaded")

	bad := append([]byte(nil), s.Signature...)
	bad[0] ^= 1
	for range 2 {
		u.Offer(ctx, event.Release{Branch: "SCL-001", Version: "2.0.0", Window: "always",
			Artifacts: []event.ReleaseArtifact{{Manifest: s.Manifest, Signature: bad, URL: srv.URL}}})
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	<-done
	assert.Zero(t, gets.Load(), "a bad signature is refused before any download")
	reps := updates(t, st)
	require.Len(t, reps, 1, "refused once")
	assert.Contains(t, reps[0], `"state":"refused"`)
	assert.Contains(t, reps[0], "signature")
}

// script is a stand-in agent binary: it answers `version` with v.
func script(v string) []byte { return []byte("#!/bin/sh\necho " + v + "\n") }

// A withdrawn offer (HQ stopped the rollout) that is still waiting for its
// window is never started, even once the window opens; an offer whose
// download has started when it is withdrawn is installed and tried as usual.
func TestWithdrawnOffer(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	bin := script("2.0.0")
	s, err := release.Sign(priv, release.Describe("2.0.0", "linux", "amd64", bin, time.Now()))
	require.NoError(t, err)
	offer := func(url, window string) event.Release {
		return event.Release{Branch: "SCL-001", Version: "2.0.0", Window: window,
			Artifacts: []event.ReleaseArtifact{{Manifest: s.Manifest, Signature: s.Signature, URL: url}}}
	}

	t.Run("waiting", func(t *testing.T) {
		data := t.TempDir()
		st := openStore(t, data)
		var gets atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { gets.Add(1); _, _ = w.Write(bin) }))
		defer srv.Close()
		var now atomic.Int64
		now.Store(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC).Unix())
		u := update.New(update.Config{Data: data, Version: "1.0.0", PublicKey: pub, GOOS: "linux", GOARCH: "amd64",
			Every: 20 * time.Millisecond, Now: func() time.Time { return time.Unix(now.Load(), 0) }}, st)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { u.Run(ctx, srv.URL, nil); close(done) }()
		defer func() { cancel(); <-done }()
		u.Offer(ctx, offer(srv.URL, "22:00-06:00"))
		time.Sleep(200 * time.Millisecond)
		require.Zero(t, gets.Load(), "mid-day: waits for the window")
		u.Withdraw(ctx)
		now.Store(time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC).Unix()) // the window opens
		time.Sleep(300 * time.Millisecond)
		assert.Zero(t, gets.Load(), "withdrawn: never downloaded, though its window is open")
		s, err := update.Load(data)
		require.NoError(t, err)
		assert.Nil(t, s.Trial)

		// The same offer, not withdrawn, would have been taken in this window.
		u.Offer(ctx, offer(srv.URL, "22:00-06:00"))
		select {
		case <-u.Restart():
		case <-time.After(10 * time.Second):
			t.Fatal("an offer in its window is installed")
		}
		assert.Equal(t, int32(1), gets.Load())
	})

	t.Run("downloading", func(t *testing.T) {
		data := t.TempDir()
		st := openStore(t, data)
		started, proceed := make(chan struct{}), make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			close(started)
			<-proceed
			_, _ = w.Write(bin)
		}))
		defer srv.Close()
		u := update.New(update.Config{Data: data, Version: "1.0.0", PublicKey: pub, GOOS: "linux", GOARCH: "amd64", Every: 20 * time.Millisecond}, st)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { u.Run(ctx, srv.URL, nil); close(done) }()
		defer func() { cancel(); <-done }()
		u.Offer(ctx, offer(srv.URL, "always"))
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatal("no download")
		}
		u.Withdraw(ctx)
		close(proceed)
		select {
		case p := <-u.Restart():
			assert.Equal(t, update.Binary(data, "2.0.0"), p)
		case <-time.After(10 * time.Second):
			t.Fatal("a download under way is installed")
		}
		s, err := update.Load(data)
		require.NoError(t, err)
		require.NotNil(t, s.Trial, "its trial decides, as for any update")
		assert.Equal(t, "2.0.0", s.Trial.Version)
	})
}

// Inside its window an offer still waits while the branch is busy (here a
// ticket still open, on the real store): never mid-service. A quiet branch
// installs it in the same window.
func TestOfferWaitsForAQuietBranch(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	bin := script("2.0.0")
	s, err := release.Sign(priv, release.Describe("2.0.0", "linux", "amd64", bin, time.Now()))
	require.NoError(t, err)
	var gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { gets.Add(1); _, _ = w.Write(bin) }))
	defer srv.Close()
	night := time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC) // 23:00 in Santiago
	santiago, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	try := func(busy bool) (installed bool) {
		data := t.TempDir()
		st := openStore(t, data)
		if busy {
			_, _, err := st.Issue(context.Background(), agent.TicketRequest{Service: "C", IdempotencyKey: "late-customer"})
			require.NoError(t, err)
		}
		require.Equal(t, busy, st.Busy(context.Background()) != "")
		u := update.New(update.Config{Data: data, Version: "1.0.0", PublicKey: pub, GOOS: "linux", GOARCH: "amd64",
			Location: santiago, Busy: st.Busy, Every: 20 * time.Millisecond, Now: func() time.Time { return night }}, st)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { u.Run(ctx, srv.URL, nil); close(done) }()
		defer func() { cancel(); <-done }()
		u.Offer(ctx, event.Release{Branch: "SCL-001", Version: "2.0.0", Window: "22:00-06:00",
			Artifacts: []event.ReleaseArtifact{{Manifest: s.Manifest, Signature: s.Signature, URL: srv.URL}}})
		select {
		case <-u.Restart():
			return true
		case <-time.After(time.Second):
			return false
		}
	}
	assert.False(t, try(true), "a ticket still open at 23:00: the offer waits")
	assert.Zero(t, gets.Load(), "not even downloaded")
	assert.True(t, try(false), "a quiet branch in the window installs")
}
