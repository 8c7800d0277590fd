package mqtt

import (
	"math/rand/v2"
	"time"

	"github.com/ticketero/ticketero/shared/event"
)

// message is one encoded batch covering seqs first..last.
type message struct {
	first, last uint64
	payload     []byte
}

// flight is a batch published and not yet acknowledged.
type flight struct {
	last uint64
	at   time.Time
}

// window is the relay's ack window for one broker session: the batches in
// flight (published, not yet acked), the encoded batches queued behind them,
// the last seq acked and the last seq sent. A gap the cloud reports resends
// from the last ack (reset), and the cloud drops the duplicates.
//
// An ack timeout resends one batch, the probe, not the window (issue #18: at
// 5,000 branches a backlog past the timeout made every relay resend its whole
// window every 10 s, which doubled the backlog and fed it). The timer runs
// from the last progress (the first publish into an empty window, or an ack
// that advances), so a slow cloud whose acks keep coming is never probed; it
// fires after rto plus up to half of it at random (5,000 boxes do not resend
// in lockstep), and rto doubles at each timeout up to maxTimeout and returns
// to ackTimeout at the next ack that advances.
//
// The probe is the newest batch in flight. Acks are cumulative and the cloud
// keeps batches beyond a gap, so the probe's ack either releases the whole
// window (the cloud held it all: a slow cloud, or lost acks) or reports the
// gap before it, which resends from the last ack at once (a lost batch,
// wherever it sits in the window). The oldest batch would recover a lost tail
// one batch per timeout. A lost probe is sent again at the next timeout.
//
// A window is used by one goroutine (the relay's session loop); its clock and
// its random source are injected so timeouts are testable without sleeping.
type window struct {
	max        int           // batches in flight at most
	ackTimeout time.Duration // the base timeout: no progress for this long sends a probe
	maxTimeout time.Duration // the timeout doubles up to this
	gapGrace   time.Duration // the oldest batch must be this old before a gap resends
	now        func() time.Time
	rand       func() float64 // in [0, 1), the timeout's jitter

	lastAck  uint64    // the cloud acked every seq up to here
	sent     uint64    // published up to here (≥ lastAck)
	inflight []flight  // oldest first
	newest   message   // the last batch published: inflight's last while any is in flight
	queued   []message // encoded, not yet published, from sent+1
	gap      bool      // the newest ack at lastAck reported a gap after it

	rto      time.Duration // the current timeout, before jitter
	deadline time.Time     // a probe goes when now passes it (zero: nothing in flight)
	probes   int           // probes since the last progress
}

// newWindow starts a window at the outbox's last ack: a new session sends
// from lastAck+1 whatever the previous one had in flight. A maxTimeout below
// ackTimeout is taken as ackTimeout (no backoff); a nil rnd uses math/rand/v2.
func newWindow(lastAck uint64, size int, ackTimeout, maxTimeout, gapGrace time.Duration, now func() time.Time, rnd func() float64) *window {
	if rnd == nil {
		rnd = rand.Float64 // #nosec G404 -- jitter, not a secret
	}
	return &window{max: size, ackTimeout: ackTimeout, maxTimeout: max(maxTimeout, ackTimeout), gapGrace: gapGrace,
		now: now, rand: rnd, lastAck: lastAck, sent: lastAck, rto: ackTimeout}
}

// open reports whether another batch may be published.
func (w *window) open() bool { return len(w.inflight) < w.max }

// empty reports whether nothing is in flight.
func (w *window) empty() bool { return len(w.inflight) == 0 }

// needsRead reports whether the next batch must be built from a fresh outbox
// read after w.sent: only complete batches split from the last read are
// reused; the last, maybe partial, one is rebuilt so it carries the events
// committed since.
func (w *window) needsRead() bool { return len(w.queued) < 2 || w.queued[0].first != w.sent+1 }

// queue replaces the queued batches with msgs, the consecutive batches from
// seq first whose last seqs are lasts.
func (w *window) queue(first uint64, msgs [][]byte, lasts []uint64) {
	w.queued = w.queued[:0]
	for i := range msgs {
		w.queued = append(w.queued, message{first: first, last: lasts[i], payload: msgs[i]})
		first = lasts[i] + 1
	}
}

// drain forgets the queued batches (the outbox had nothing after w.sent).
func (w *window) drain() { w.queued = nil }

// publish takes the next queued batch and counts it in flight from now. The
// caller checked open and filled the queue. The first batch into an empty
// window starts the timer.
func (w *window) publish() message {
	m := w.queued[0]
	w.queued = w.queued[1:]
	w.sent = m.last
	if w.empty() {
		w.arm()
	}
	w.inflight = append(w.inflight, flight{last: m.last, at: w.now()})
	w.newest = m
	return m
}

// advances reports whether an ack at seq moves the window (is newer than the
// last ack): only such an ack is recorded in the outbox.
func (w *window) advances(seq uint64) bool { return seq > w.lastAck }

// ack applies the cloud's ack once the outbox recorded it: an ack past the
// last one releases the batches it covers, returns the timeout to its base
// and restarts the timer (stops it when nothing is left in flight); an older
// one (a duplicate, or a late ack through another replica) releases nothing,
// leaves the timer alone and says nothing about the gap. The newest ack says
// whether the cloud holds a gap after it; a gap resends from the last ack
// (reset) once the oldest batch in flight is older than the grace, and ack
// then reports true.
func (w *window) ack(a event.Ack) (resent bool) {
	if a.Seq > w.lastAck {
		w.lastAck = a.Seq
		w.sent = max(w.sent, a.Seq)
		i := 0
		for i < len(w.inflight) && w.inflight[i].last <= a.Seq {
			i++
		}
		w.inflight = w.inflight[i:]
		w.rto, w.probes = w.ackTimeout, 0
		if w.empty() {
			w.deadline = time.Time{}
		} else {
			w.arm()
		}
	}
	if a.Seq >= w.lastAck {
		w.gap = a.Gap != 0 // the newest word on the mark: a gap holds it, or not
	}
	if w.gap && w.oldestOlderThan(w.gapGrace) {
		w.reset()
		return true
	}
	return false
}

// Reasons for a resend: expire returns the first two; the relay's idle
// safety net is the third.
const (
	resendTimeout = "ack_timeout"
	resendGap     = "gap"
	resendIdle    = "idle"
)

// expire checks the timers. Past the deadline it returns resendTimeout and
// the probe to publish again (the newest batch in flight, which stays in
// flight), doubles the timeout (up to maxTimeout) and rearms it. When a gap
// reported while the batches were young still holds now they are older than
// the grace, it resends from the last ack (reset) and returns resendGap.
// Otherwise it returns "".
func (w *window) expire() (reason string, probe message) {
	switch {
	case !w.empty() && w.now().After(w.deadline):
		w.probes++
		w.rto = min(2*w.rto, w.maxTimeout)
		w.arm()
		return resendTimeout, w.newest
	case w.gap && w.oldestOlderThan(w.gapGrace):
		w.reset()
		return resendGap, message{}
	}
	return "", message{}
}

// arm starts the timer: the timeout plus up to half of it at random.
func (w *window) arm() {
	w.deadline = w.now().Add(w.rto + time.Duration(w.rand()*float64(w.rto)/2))
}

func (w *window) oldestOlderThan(d time.Duration) bool {
	return len(w.inflight) > 0 && w.now().Sub(w.inflight[0].at) > d
}

// reset rewinds the window to the last ack: nothing in flight, nothing
// queued, no gap, the timer stopped; the next batch starts at lastAck+1.
// The timeout keeps its backoff: only an ack that advances resets it.
func (w *window) reset() {
	w.sent, w.inflight, w.queued, w.gap = w.lastAck, nil, nil, false
	w.newest, w.deadline = message{}, time.Time{}
}
