package mqtt

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/event"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

const (
	testAckTimeout = 10 * time.Second
	testGapGrace   = 500 * time.Millisecond
)

// newTestWindow is a window of max batches in flight from lastAck, on a fake clock.
func newTestWindow(lastAck uint64, max int) (*window, *fakeClock) {
	clk := &fakeClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	return newWindow(lastAck, max, testAckTimeout, testGapGrace, clk.Now), clk
}

// queueBatches queues n batches of size seqs each from w.sent+1.
func queueBatches(w *window, n, size int) {
	first := w.sent + 1
	msgs := make([][]byte, n)
	lasts := make([]uint64, n)
	for i := range n {
		msgs[i] = []byte{byte(i)}
		lasts[i] = first + uint64((i+1)*size) - 1
	}
	w.queue(first, msgs, lasts)
}

// fill publishes queued batches while the window is open, as the relay does.
func fill(w *window) []message {
	var out []message
	for w.open() && len(w.queued) > 0 {
		out = append(out, w.publish())
	}
	return out
}

func TestWindowSendsUpToItsSize(t *testing.T) {
	w, _ := newTestWindow(100, 3)
	require.True(t, w.needsRead())
	queueBatches(w, 5, 10) // 101-110, 111-120, ... 141-150
	require.False(t, w.needsRead(), "complete batches split from the last read are reused")

	sent := fill(w)
	require.Len(t, sent, 3)
	assert.Equal(t, []uint64{101, 111, 121}, []uint64{sent[0].first, sent[1].first, sent[2].first})
	assert.Equal(t, uint64(130), w.sent)
	assert.False(t, w.open(), "three batches in flight close a window of three")
	assert.Equal(t, uint64(100), w.lastAck)
	assert.False(t, w.needsRead(), "two complete batches still queued from 131")

	w.publish() // (the relay never does this with the window closed; here to reach the last batch)
	assert.True(t, w.needsRead(), "the last, maybe partial, batch is rebuilt from a fresh read")
}

func TestWindowAckAdvances(t *testing.T) {
	w, _ := newTestWindow(0, 3)
	queueBatches(w, 3, 10)
	fill(w)
	require.False(t, w.open())

	require.True(t, w.advances(10))
	assert.False(t, w.ack(event.Ack{Seq: 10}))
	assert.Equal(t, uint64(10), w.lastAck)
	assert.Len(t, w.inflight, 2)
	assert.True(t, w.open(), "an ack frees a place in the window")

	// An ack inside a batch releases only the batches it covers whole.
	assert.False(t, w.ack(event.Ack{Seq: 15}))
	assert.Equal(t, uint64(15), w.lastAck)
	assert.Len(t, w.inflight, 2)

	assert.False(t, w.ack(event.Ack{Seq: 30}))
	assert.True(t, w.empty())
	assert.Equal(t, uint64(30), w.sent)

	// An ack past what this session sent (another session's batch acked
	// late) moves sent along: the next read starts after it.
	assert.False(t, w.ack(event.Ack{Seq: 42}))
	assert.Equal(t, uint64(42), w.sent)
	assert.True(t, w.needsRead())
}

func TestWindowResendsAfterAckTimeout(t *testing.T) {
	w, clk := newTestWindow(7, 5)
	queueBatches(w, 3, 1)
	fill(w)
	clk.Advance(testAckTimeout / 2)
	require.False(t, w.ack(event.Ack{Seq: 8})) // the first batch acked in time

	clk.Advance(testAckTimeout / 2)
	assert.Empty(t, w.expire(), "the oldest batch in flight waited exactly the timeout")
	assert.Equal(t, uint64(10), w.sent)

	clk.Advance(time.Millisecond)
	assert.Equal(t, resendTimeout, w.expire())
	assert.Equal(t, uint64(8), w.sent, "resend from the last ack + 1")
	assert.True(t, w.empty())
	assert.Empty(t, w.queued)
	assert.True(t, w.needsRead())

	assert.Empty(t, w.expire(), "nothing in flight: nothing expires")
}

func TestWindowResendsOnGap(t *testing.T) {
	t.Run("young", func(t *testing.T) {
		w, clk := newTestWindow(0, 5)
		queueBatches(w, 2, 5)
		fill(w)
		clk.Advance(testGapGrace / 2)
		// The cloud holds 6-10 without 1-5: the batches may still be on
		// their way through another replica, so no resend yet.
		assert.False(t, w.ack(event.Ack{Seq: 0, Gap: 1}))
		assert.True(t, w.gap)
		assert.Equal(t, uint64(10), w.sent)
		assert.Empty(t, w.expire())

		clk.Advance(testGapGrace)
		assert.Equal(t, resendGap, w.expire(), "the gap still holds once the batches are old")
		assert.Equal(t, uint64(0), w.sent)
		assert.False(t, w.gap)
	})
	t.Run("old", func(t *testing.T) {
		w, clk := newTestWindow(0, 5)
		queueBatches(w, 2, 5)
		fill(w)
		clk.Advance(testGapGrace + time.Millisecond)
		assert.True(t, w.ack(event.Ack{Seq: 0, Gap: 1}), "a gap after the grace resends at once")
		assert.Equal(t, uint64(0), w.sent)
		assert.True(t, w.empty())
	})
	t.Run("closed", func(t *testing.T) {
		w, clk := newTestWindow(0, 5)
		queueBatches(w, 2, 5)
		fill(w)
		assert.False(t, w.ack(event.Ack{Seq: 0, Gap: 1}))
		assert.False(t, w.ack(event.Ack{Seq: 5}), "the newest ack says the gap is closed")
		assert.False(t, w.gap)
		clk.Advance(testGapGrace * 2)
		assert.Empty(t, w.expire())
		assert.Equal(t, uint64(10), w.sent)
	})
}

func TestWindowReconnectResets(t *testing.T) {
	w, clk := newTestWindow(20, 4)
	queueBatches(w, 6, 10)
	fill(w)
	require.False(t, w.ack(event.Ack{Seq: 30, Gap: 41}))

	// A new broker session starts a new window at the outbox's last ack:
	// nothing of the old session's flight or queue is carried over.
	next := newWindow(w.lastAck, 4, testAckTimeout, testGapGrace, clk.Now)
	assert.Equal(t, uint64(30), next.sent)
	assert.True(t, next.empty())
	assert.True(t, next.needsRead())
	assert.False(t, next.gap)

	// reset does the same within a session.
	w.reset()
	assert.Equal(t, uint64(30), w.sent)
	assert.True(t, w.empty())
	assert.Empty(t, w.queued)
	assert.False(t, w.gap)
	assert.True(t, w.open())
}

func TestWindowIgnoresDuplicateAndOldAcks(t *testing.T) {
	w, clk := newTestWindow(0, 5)
	queueBatches(w, 4, 5)
	fill(w)
	require.False(t, w.ack(event.Ack{Seq: 10}))

	for _, a := range []event.Ack{{Seq: 10}, {Seq: 5}, {Seq: 0}, {Seq: 5, Gap: 6}} {
		assert.False(t, w.advances(a.Seq), "ack %d is not recorded again", a.Seq)
		assert.False(t, w.ack(a))
		assert.Equal(t, uint64(10), w.lastAck)
		assert.Equal(t, uint64(20), w.sent)
		assert.Len(t, w.inflight, 2)
		assert.False(t, w.gap, "an old ack says nothing about the gap")
	}

	clk.Advance(testAckTimeout + time.Millisecond)
	assert.Equal(t, resendTimeout, w.expire(), "old acks did not refresh the timer")
	assert.Equal(t, uint64(10), w.sent)
}
