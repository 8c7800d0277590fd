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
	testAckTimeout    = 10 * time.Second
	testMaxAckTimeout = 40 * time.Second
	testGapGrace      = 500 * time.Millisecond
)

// noJitter is the random source of a test window: the timeout is exact.
func noJitter() float64 { return 0 }

// newTestWindow is a window of max batches in flight from lastAck, on a fake
// clock, without jitter.
func newTestWindow(lastAck uint64, max int) (*window, *fakeClock) {
	clk := &fakeClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	return newWindow(lastAck, max, testAckTimeout, testMaxAckTimeout, testGapGrace, clk.Now, noJitter), clk
}

// reason is expire's reason alone.
func reason(w *window) string {
	r, _ := w.expire()
	return r
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

// An ack timeout sends one batch again, the newest in flight, and leaves the
// window as it is: the batches stay in flight, the queue stays, nothing is
// rewound (issue #18: the whole window went again every 10 s).
func TestWindowProbesOnAckTimeout(t *testing.T) {
	w, clk := newTestWindow(7, 5)
	queueBatches(w, 5, 1) // 8, 9, 10, 11, 12
	w.max = 3
	fill(w) // 8, 9, 10 in flight; 11, 12 queued
	clk.Advance(testAckTimeout / 2)
	require.False(t, w.ack(event.Ack{Seq: 8})) // the first batch acked in time
	require.Len(t, w.queued, 2)
	w.max = 2 // (the window stays closed: fill publishes nothing more below)

	clk.Advance(testAckTimeout/2 + time.Millisecond)
	assert.Empty(t, reason(w), "the ack that advanced restarted the timer: the batch after it is not late")

	clk.Advance(testAckTimeout/2 - time.Millisecond)
	assert.Empty(t, reason(w), "no progress for exactly the timeout")

	clk.Advance(time.Millisecond)
	r, probe := w.expire()
	require.Equal(t, resendTimeout, r)
	assert.Equal(t, message{first: 10, last: 10, payload: []byte{2}}, probe, "the probe is the newest batch in flight")
	assert.Equal(t, uint64(10), w.sent, "nothing rewound")
	assert.Len(t, w.inflight, 2, "9 and 10 stay in flight")
	assert.Len(t, w.queued, 2, "the queue is kept")
	assert.False(t, w.needsRead())
	assert.Empty(t, reason(w), "one probe per timeout")

	// The probe's ack releases the whole window (the cloud held 9 all along).
	require.False(t, w.ack(event.Ack{Seq: 10}))
	assert.True(t, w.empty())
	assert.True(t, w.deadline.IsZero(), "nothing in flight: no timer")
	clk.Advance(time.Hour)
	assert.Empty(t, reason(w), "nothing in flight: nothing expires")
}

// Timeouts without progress back off: the timeout doubles up to its cap, and
// an ack that advances returns it to the base.
func TestWindowAckTimeoutBacksOff(t *testing.T) {
	w, clk := newTestWindow(0, 5)
	queueBatches(w, 3, 1)
	fill(w)

	// Probes at 10 s, then 20, 40 and 40 s (the cap) after the one before.
	last := clk.t
	for _, wait := range []time.Duration{testAckTimeout, 2 * testAckTimeout, testMaxAckTimeout, testMaxAckTimeout} {
		clk.t = last.Add(wait)
		assert.Empty(t, reason(w), "not before %s", wait)
		clk.Advance(time.Millisecond)
		assert.Equal(t, resendTimeout, reason(w), "after %s", wait)
		last = clk.t
	}
	assert.Equal(t, 4, w.probes)

	// An old ack changes nothing; one that advances resets the timeout.
	clk.Advance(testMaxAckTimeout / 2)
	require.False(t, w.ack(event.Ack{Seq: 0}))
	assert.Equal(t, testMaxAckTimeout, w.rto)
	require.False(t, w.ack(event.Ack{Seq: 1}))
	assert.Equal(t, testAckTimeout, w.rto)
	assert.Zero(t, w.probes)
	clk.Advance(testAckTimeout)
	assert.Empty(t, reason(w))
	clk.Advance(time.Millisecond)
	r, probe := w.expire()
	assert.Equal(t, resendTimeout, r, "back at the base timeout after the ack")
	assert.Equal(t, uint64(3), probe.last)

	// A rewind (a gap) keeps the backoff: only progress resets it.
	require.Equal(t, 2*testAckTimeout, w.rto)
	w.reset()
	assert.Equal(t, 2*testAckTimeout, w.rto)
	queueBatches(w, 1, 1)
	fill(w)
	clk.Advance(testAckTimeout + time.Millisecond)
	assert.Empty(t, reason(w))
	clk.Advance(testAckTimeout)
	assert.Equal(t, resendTimeout, reason(w))
}

// The jitter adds up to half the timeout at random, so boxes that published
// together (a connect storm) do not time out together.
func TestWindowAckTimeoutJitter(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	for _, tc := range []struct {
		rand float64
		wait time.Duration
	}{{0, testAckTimeout}, {0.5, testAckTimeout * 5 / 4}, {0.999, 14995 * time.Millisecond}} {
		w := newWindow(0, 5, testAckTimeout, testMaxAckTimeout, testGapGrace, clk.Now, func() float64 { return tc.rand })
		queueBatches(w, 1, 1)
		fill(w)
		start := clk.t
		clk.Advance(tc.wait)
		assert.Empty(t, reason(w), "rand %v: not before %s", tc.rand, tc.wait)
		clk.Advance(time.Millisecond)
		assert.Equal(t, resendTimeout, reason(w), "rand %v: by %s", tc.rand, tc.wait+time.Millisecond)
		// The next wait is the doubled timeout, jittered the same.
		probed := clk.t
		clk.t = probed.Add(2 * tc.wait)
		assert.Empty(t, reason(w), "rand %v: the second timeout doubled", tc.rand)
		clk.Advance(time.Millisecond)
		assert.Equal(t, resendTimeout, reason(w), "rand %v: the second timeout", tc.rand)
		clk.t = start
	}

	// The default source (math/rand/v2) spreads the deadlines of a fleet.
	deadlines := map[time.Time]bool{}
	for range 50 {
		w := newWindow(0, 5, testAckTimeout, testMaxAckTimeout, testGapGrace, clk.Now, nil)
		queueBatches(w, 1, 1)
		fill(w)
		require.False(t, w.deadline.Before(clk.t.Add(testAckTimeout)))
		require.True(t, w.deadline.Before(clk.t.Add(testAckTimeout*3/2)))
		deadlines[w.deadline] = true
	}
	assert.Greater(t, len(deadlines), 40, "50 boxes, (nearly) 50 deadlines")
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
		assert.Empty(t, reason(w))

		clk.Advance(testGapGrace)
		assert.Equal(t, resendGap, reason(w), "the gap still holds once the batches are old")
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
		assert.Empty(t, reason(w))
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
	next := newWindow(w.lastAck, 4, testAckTimeout, testMaxAckTimeout, testGapGrace, clk.Now, noJitter)
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
	clk.Advance(testAckTimeout / 2)

	for _, a := range []event.Ack{{Seq: 10}, {Seq: 5}, {Seq: 0}, {Seq: 5, Gap: 6}} {
		assert.False(t, w.advances(a.Seq), "ack %d is not recorded again", a.Seq)
		assert.False(t, w.ack(a))
		assert.Equal(t, uint64(10), w.lastAck)
		assert.Equal(t, uint64(20), w.sent)
		assert.Len(t, w.inflight, 2)
		assert.False(t, w.gap, "an old ack says nothing about the gap")
	}

	clk.Advance(testAckTimeout/2 + time.Millisecond)
	assert.Equal(t, resendTimeout, reason(w), "old acks did not restart the timer")
	assert.Equal(t, uint64(20), w.sent)
}

// simCloud is the cloud's rule for the window's tests: it keeps every batch it
// receives, acks the contiguous high-water mark and reports the first missing
// seq when it holds seqs beyond it.
type simCloud struct {
	held     map[uint64]bool
	applied  uint64
	received int
}

func (c *simCloud) receive(m message) event.Ack {
	c.received++
	if c.held == nil {
		c.held = map[uint64]bool{}
	}
	for s := m.first; s <= m.last; s++ {
		c.held[s] = true
	}
	for c.held[c.applied+1] {
		c.applied++
	}
	a := event.Ack{Seq: c.applied}
	if len(c.held) > int(c.applied) {
		a.Gap = c.applied + 1
	}
	return a
}

// send publishes what the window allows of the outbox's seqs up to last, one
// seq a batch, as the relay does (reading the outbox when the queue needs it).
func send(w *window, last uint64) []message {
	var out []message
	for w.open() && w.sent < last {
		if w.needsRead() {
			queueBatches(w, int(last-w.sent), 1)
		}
		out = append(out, w.publish())
	}
	return out
}

// Nothing is lost or stuck when batches, acks or the probe itself are lost:
// the probe, sent again at each timeout, either releases the window or draws
// the cloud's gap report, which rewinds to the last ack.
func TestWindowProbeRecoversLosses(t *testing.T) {
	t.Run("lost tail and lost probe", func(t *testing.T) {
		w, clk := newTestWindow(0, 4)
		cloud := &simCloud{}
		sent := send(w, 4) // 1..4: only 1 arrives
		require.Len(t, sent, 4)
		clk.Advance(time.Second)
		require.False(t, w.ack(cloud.receive(sent[0])))
		require.Equal(t, uint64(1), w.lastAck)

		clk.Advance(testAckTimeout + time.Millisecond)
		r, probe := w.expire()
		require.Equal(t, resendTimeout, r)
		assert.Equal(t, uint64(4), probe.last) // lost on its way

		clk.Advance(testAckTimeout)
		assert.Empty(t, reason(w), "the second timeout is twice the first")
		clk.Advance(testAckTimeout + time.Millisecond)
		r, probe = w.expire()
		require.Equal(t, resendTimeout, r, "a lost probe goes again")
		require.Equal(t, uint64(4), probe.last)

		ack := cloud.receive(probe) // the cloud holds 1 and 4: a gap at 2
		assert.Equal(t, event.Ack{Seq: 1, Gap: 2}, ack)
		require.True(t, w.ack(ack), "the probe's ack reports the gap: rewind to the last ack")
		assert.Equal(t, uint64(1), w.sent)

		for _, m := range send(w, 4) {
			w.ack(cloud.receive(m))
		}
		assert.Equal(t, uint64(4), cloud.applied)
		assert.Equal(t, uint64(4), w.lastAck)
		assert.True(t, w.empty())
		assert.Equal(t, testAckTimeout, w.rto, "progress reset the backoff")
	})
	t.Run("lost acks", func(t *testing.T) {
		w, clk := newTestWindow(0, 4)
		cloud := &simCloud{}
		for _, m := range send(w, 4) {
			cloud.receive(m) // stored; every ack lost
		}
		clk.Advance(testAckTimeout + time.Millisecond)
		r, probe := w.expire()
		require.Equal(t, resendTimeout, r)
		assert.False(t, w.ack(cloud.receive(probe)))
		assert.True(t, w.empty(), "the probe's ack releases the whole window")
		assert.Equal(t, uint64(4), w.lastAck)
		assert.Equal(t, 5, cloud.received, "one batch sent twice, not the window")
	})
	t.Run("cloud down", func(t *testing.T) {
		w, clk := newTestWindow(0, 4)
		cloud := &simCloud{}
		send(w, 4) // all lost
		for i, wait := range []time.Duration{testAckTimeout, 2 * testAckTimeout, testMaxAckTimeout, testMaxAckTimeout} {
			clk.Advance(wait + time.Millisecond)
			require.Equal(t, resendTimeout, reason(w), "probe %d", i+1) // lost too
		}
		// The cloud is back: the fifth probe arrives alone, the gap brings the rest.
		clk.Advance(testMaxAckTimeout + time.Millisecond)
		r, probe := w.expire()
		require.Equal(t, resendTimeout, r)
		require.True(t, w.ack(cloud.receive(probe)))
		for _, m := range send(w, 4) {
			w.ack(cloud.receive(m))
		}
		assert.Equal(t, uint64(4), cloud.applied)
		assert.True(t, w.empty())
		assert.Equal(t, 5, cloud.received, "the probe and the four batches")
	})
	t.Run("slow cloud", func(t *testing.T) {
		// Nothing lost: the cloud's backlog holds the acks past the timeout.
		w, clk := newTestWindow(0, 4)
		cloud := &simCloud{}
		sent := send(w, 4)
		clk.Advance(testAckTimeout + time.Millisecond)
		_, probe := w.expire()
		clk.Advance(5 * time.Second)
		for _, m := range append(sent, probe) { // the backlog drains in order
			w.ack(cloud.receive(m))
			clk.Advance(2 * time.Second)
			assert.Empty(t, reason(w), "acks that advance keep the timer from firing")
		}
		assert.True(t, w.empty())
		assert.Equal(t, uint64(4), w.lastAck)
		assert.Equal(t, 5, cloud.received, "one duplicate for the whole stall")
	})
}
