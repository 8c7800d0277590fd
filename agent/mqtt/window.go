package mqtt

import (
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
// the last seq acked and the last seq sent. Every resend goes through reset,
// which rewinds sent to the last ack; the cloud drops the duplicates.
//
// A window is used by one goroutine (the relay's session loop); its clock is
// injected so timeouts are testable without sleeping.
type window struct {
	max        int           // batches in flight at most
	ackTimeout time.Duration // the oldest batch in flight waits this long for its ack
	gapGrace   time.Duration // the oldest batch must be this old before a gap resends
	now        func() time.Time

	lastAck  uint64    // the cloud acked every seq up to here
	sent     uint64    // published up to here (≥ lastAck)
	inflight []flight  // oldest first
	queued   []message // encoded, not yet published, from sent+1
	gap      bool      // the newest ack at lastAck reported a gap after it
}

// newWindow starts a window at the outbox's last ack: a new session sends
// from lastAck+1 whatever the previous one had in flight.
func newWindow(lastAck uint64, max int, ackTimeout, gapGrace time.Duration, now func() time.Time) *window {
	return &window{max: max, ackTimeout: ackTimeout, gapGrace: gapGrace, now: now, lastAck: lastAck, sent: lastAck}
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
// caller checked open and filled the queue.
func (w *window) publish() message {
	m := w.queued[0]
	w.queued = w.queued[1:]
	w.sent = m.last
	w.inflight = append(w.inflight, flight{last: m.last, at: w.now()})
	return m
}

// advances reports whether an ack at seq moves the window (is newer than the
// last ack): only such an ack is recorded in the outbox.
func (w *window) advances(seq uint64) bool { return seq > w.lastAck }

// ack applies the cloud's ack once the outbox recorded it: an ack past the
// last one releases the batches it covers; an older one (a duplicate, or a
// late ack through another replica) releases nothing and says nothing about
// the gap. The newest ack says whether the cloud holds a gap after it; a gap
// resends from the last ack (reset) once the oldest batch in flight is older
// than the grace, and ack then reports true.
func (w *window) ack(a event.Ack) (resent bool) {
	if a.Seq > w.lastAck {
		w.lastAck = a.Seq
		w.sent = max(w.sent, a.Seq)
		i := 0
		for i < len(w.inflight) && w.inflight[i].last <= a.Seq {
			i++
		}
		w.inflight = w.inflight[i:]
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

// Reasons expire returns for a resend.
const (
	resendTimeout = "ack_timeout"
	resendGap     = "gap"
)

// expire resends from the last ack (reset) when the oldest batch in flight
// waited longer than the ack timeout, or when a gap reported while the
// batches were young still holds now they are older than the grace. It
// returns why ("" when nothing was resent).
func (w *window) expire() string {
	switch {
	case w.oldestOlderThan(w.ackTimeout):
		w.reset()
		return resendTimeout
	case w.gap && w.oldestOlderThan(w.gapGrace):
		w.reset()
		return resendGap
	}
	return ""
}

func (w *window) oldestOlderThan(d time.Duration) bool {
	return len(w.inflight) > 0 && w.now().Sub(w.inflight[0].at) > d
}

// reset rewinds the window to the last ack: nothing in flight, nothing
// queued, no gap; the next batch starts at lastAck+1.
func (w *window) reset() {
	w.sent, w.inflight, w.queued, w.gap = w.lastAck, nil, nil, false
}
