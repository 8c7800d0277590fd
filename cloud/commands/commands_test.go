package commands_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/commands"
	"github.com/ticketero/ticketero/shared/event"
)

// fakeQueue lists its commands once and "hashes" an order with hash, which
// may wait on what was published; log records hashes and publishes in the
// order they happen.
type fakeQueue struct {
	list []commands.Pending
	hash func(ctx context.Context, id string) error

	mu        sync.Mutex
	log       []string
	published map[string]chan struct{}
}

func newFakeQueue(list []commands.Pending) *fakeQueue {
	q := &fakeQueue{list: list, published: map[string]chan struct{}{}}
	for _, p := range list {
		q.published[p.Command.ID] = make(chan struct{})
	}
	return q
}

func (q *fakeQueue) ExpireCommands(context.Context, time.Duration) error { return nil }

func (q *fakeQueue) ClaimCommands(context.Context, time.Duration, int) ([]commands.Pending, error) {
	return q.list, nil
}

func (q *fakeQueue) CompleteCommand(ctx context.Context, p commands.Pending) (event.Command, error) {
	if q.hash != nil {
		if err := q.hash(ctx, p.Command.ID); err != nil {
			return event.Command{}, err
		}
	}
	q.record("hashed " + p.Command.ID)
	c := p.Command
	c.Appointment.RUTCheck = "check-" + c.ID
	return c, nil
}

func (q *fakeQueue) MarkPublished(context.Context, string) error { return nil }

func (q *fakeQueue) PublishCommand(_ context.Context, c event.Command) error {
	if c.Appointment != nil && c.Appointment.RUTCheck == "" {
		return fmt.Errorf("%s published without its check", c.ID)
	}
	q.record("published " + c.ID)
	close(q.published[c.ID])
	return nil
}

func (q *fakeQueue) record(s string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.log = append(q.log, s)
}

// burst is n bookings waiting for their check-in hash, oldest first, then a
// Telegram cancel.
func burst(n int) []commands.Pending {
	var out []commands.Pending
	for i := 1; i <= n; i++ {
		out = append(out, commands.Pending{CheckDay: "2026-12-01", Command: event.Command{
			ID: fmt.Sprintf("b%d", i), Branch: "B", Type: event.CommandBookAppointment,
			Appointment: &event.AppointmentOrder{Appointment: fmt.Sprintf("a%d", i)}}})
	}
	return append(out, commands.Pending{Command: event.Command{ID: "cancel", Branch: "B", Type: event.CommandCancelTicket, Ticket: "T1"}})
}

// A cancel listed behind a burst of bookings goes out before any booking's
// hash is done (it used to wait for every hash of the pass).
func TestCancelNotHeldBehindBookingHashes(t *testing.T) {
	q := newFakeQueue(burst(20))
	require.NoError(t, commands.Republish(context.Background(), q, q, time.Second))
	require.Len(t, q.log, 41)
	assert.Equal(t, "published cancel", q.log[0], "the cancel goes out before the first hash is done")
	for i := 1; i <= 20; i++ {
		assert.Contains(t, q.log, fmt.Sprintf("published b%d", i))
	}
}

// Each booking goes out as soon as its hash is done: booking k's hash waits
// until booking k-1 was published, which a pass that hashed every order
// before publishing any would never do (the guard's deadline fails it).
func TestBookingPublishedAsSoonAsHashed(t *testing.T) {
	old := commands.Workers
	commands.Workers = 2
	t.Cleanup(func() { commands.Workers = old })
	q := newFakeQueue(burst(6))
	q.hash = func(ctx context.Context, id string) error {
		var k int
		fmt.Sscanf(id, "b%d", &k)
		if k == 1 {
			return nil
		}
		select {
		case <-q.published[fmt.Sprintf("b%d", k-1)]:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("%s: booking b%d never published while hashing: %w", id, k-1, ctx.Err())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang guard, not a timing target
	defer cancel()
	require.NoError(t, commands.Republish(ctx, q, q, time.Second))
	var order []string
	for _, l := range q.log {
		if id, ok := strings.CutPrefix(l, "published "); ok {
			order = append(order, id)
		}
	}
	assert.Equal(t, []string{"cancel", "b1", "b2", "b3", "b4", "b5", "b6"}, order)
}

// A publish that fails stops the pass: nothing after it goes out, and
// Republish says so.
func TestPublishFailureStopsPass(t *testing.T) {
	q := newFakeQueue(burst(5))
	pub := &failing{q: q, fail: "b3"}
	err := commands.Republish(context.Background(), q, pub, time.Second)
	require.ErrorContains(t, err, "b3")
	assert.NotContains(t, q.log, "published b3")
	assert.True(t, slices.Contains(q.log, "published cancel"))
}

// A pass hashes at most Workers orders at once.
func TestHashesAtMostWorkersAtOnce(t *testing.T) {
	old := commands.Workers
	commands.Workers = 3
	t.Cleanup(func() { commands.Workers = old })
	q := newFakeQueue(burst(30))
	var mu sync.Mutex
	busy, most := 0, 0
	q.hash = func(context.Context, string) error {
		mu.Lock()
		busy++
		most = max(most, busy)
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		busy--
		mu.Unlock()
		return nil
	}
	require.NoError(t, commands.Republish(context.Background(), q, q, time.Second))
	assert.LessOrEqual(t, most, 3)
	assert.Len(t, q.log, 61)
}

type failing struct {
	q    *fakeQueue
	fail string
}

func (f *failing) PublishCommand(ctx context.Context, c event.Command) error {
	if c.ID == f.fail {
		return fmt.Errorf("broker down")
	}
	return f.q.PublishCommand(ctx, c)
}
