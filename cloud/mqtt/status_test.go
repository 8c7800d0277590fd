package mqtt

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
)

// fakeStatuses records each RecordStatuses call's branches; a call holding
// the branch bad fails.
type fakeStatuses struct {
	mu    sync.Mutex
	calls [][]string
	bad   string
}

func (f *fakeStatuses) RecordStatuses(_ context.Context, sts []cloud.StatusUpdate) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var call []string
	for _, u := range sts {
		if u.Status.Branch == f.bad && f.bad != "" {
			return errors.New("refused")
		}
		call = append(call, u.Status.Branch)
	}
	f.calls = append(f.calls, call)
	return nil
}

func (f *fakeStatuses) got() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string(nil), f.calls...)
}

func upd(branch string) cloud.StatusUpdate {
	return cloud.StatusUpdate{Status: event.Status{V: 1, Branch: branch, Online: true}, Received: time.Now()}
}

// Statuses arriving together are recorded in one call.
func TestStatusBatcherGathers(t *testing.T) {
	f := &fakeStatuses{}
	b := newStatusBatcher(f, slog.New(slog.DiscardHandler))
	defer b.close()
	for _, br := range []string{"A", "B", "C"} {
		b.add(upd(br))
	}
	require.Eventually(t, func() bool { return len(f.got()) > 0 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, [][]string{{"A", "B", "C"}}, f.got())
}

// Close records what is still pending.
func TestStatusBatcherCloseFlushes(t *testing.T) {
	f := &fakeStatuses{}
	b := newStatusBatcher(f, slog.New(slog.DiscardHandler))
	b.add(upd("A"))
	b.close()
	assert.Equal(t, [][]string{{"A"}}, f.got())
	b.close() // twice is harmless
}

// While the database is behind, what waits is bounded: the oldest statuses
// go first (each branch publishes its status again).
func TestStatusBatcherBounded(t *testing.T) {
	f := &fakeStatuses{}
	b := &statusBatcher{rec: f, log: slog.New(slog.DiscardHandler), max: 3, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	for _, br := range []string{"A", "B", "C", "D", "E"} {
		b.add(upd(br))
	}
	assert.Equal(t, 2, b.lost)
	go b.run()
	b.close()
	assert.Equal(t, [][]string{{"C", "D", "E"}}, f.got())
}

// A chunk that fails is recorded status by status: only the refused one is lost.
func TestStatusBatcherFallsBackOneByOne(t *testing.T) {
	f := &fakeStatuses{bad: "B"}
	b := newStatusBatcher(f, slog.New(slog.DiscardHandler))
	for _, br := range []string{"A", "B", "C"} {
		b.add(upd(br))
	}
	b.close()
	assert.Equal(t, [][]string{{"A"}, {"C"}}, f.got())
}

// Ack does not wait for the broker, but a publish refused at once (no
// connection) is reported, so the ingest logs the ack as not sent.
func TestAckReportsNoConnection(t *testing.T) {
	c, err := New(Config{URL: "mqtts://127.0.0.1:1", TLS: &tls.Config{MinVersion: tls.VersionTLS12}, ClientID: "ack-test"}, nil, nil)
	require.NoError(t, err)
	err = c.Ack(context.Background(), event.Ack{V: 1, Branch: "ACK-001", Seq: 3})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ACK-001")
}
