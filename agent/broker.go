package agent

import (
	"sync"

	"github.com/ticketero/ticketero/shared/event"
)

// Notice is a committed change as the live stream pushes it: its outbox seq,
// its type and snapshots without personal data.
type Notice struct {
	Seq       uint64
	Type      event.Type
	Ticket    *Ticket
	Executive *ExecutiveState
	// Waiting is every queue's waiting count after the change, on ticket
	// and day events: the TV updates its counts from the stream (a delta)
	// instead of refetching the queues.
	Waiting map[string]int
}

// Broker fans committed notices out to live subscribers (displays and
// terminals). Publish never blocks: a subscriber that falls a full buffer
// behind is dropped (its channel closed) and reconnects to refetch state.
type Broker struct {
	mu   sync.Mutex
	subs map[chan Notice]struct{}
	seq  uint64
}

// NewBroker returns an empty broker.
func NewBroker() *Broker { return &Broker{subs: map[chan Notice]struct{}{}} }

// Subscribe returns a channel of notices and the seq of the last notice
// published before it, and a function that ends the subscription.
func (b *Broker) Subscribe(buf int) (<-chan Notice, uint64, func()) {
	ch := make(chan Notice, buf)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	seq := b.seq
	b.mu.Unlock()
	return ch, seq, func() {
		b.mu.Lock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
		b.mu.Unlock()
	}
}

// Publish sends notices to every subscriber, in order.
func (b *Broker) Publish(ns []Notice) {
	if len(ns) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, n := range ns {
		if n.Seq > b.seq {
			b.seq = n.Seq
		}
		for ch := range b.subs {
			select {
			case ch <- n:
			default:
				delete(b.subs, ch)
				close(ch)
			}
		}
	}
}

// SetSeq sets the seq reported to new subscribers before any publish.
func (b *Broker) SetSeq(seq uint64) {
	b.mu.Lock()
	if seq > b.seq {
		b.seq = seq
	}
	b.mu.Unlock()
}

// Subscribers is the number of live subscribers.
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
