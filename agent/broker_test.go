package agent_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
)

func TestBrokerFansOutAndDropsSlowSubscribers(t *testing.T) {
	b := agent.NewBroker()
	b.SetSeq(7)
	fast, seq, cancelFast := b.Subscribe(8)
	defer cancelFast()
	assert.Equal(t, uint64(7), seq)
	slow, _, cancelSlow := b.Subscribe(1)
	defer cancelSlow()
	assert.Equal(t, 2, b.Subscribers())

	b.Publish([]agent.Notice{{Seq: 8, Type: event.TicketIssued}, {Seq: 9, Type: event.TicketCalled}})
	assert.Equal(t, uint64(8), (<-fast).Seq)
	assert.Equal(t, uint64(9), (<-fast).Seq)
	// The slow one got the first, then was dropped (closed) instead of blocking.
	n, ok := <-slow
	require.True(t, ok)
	assert.Equal(t, uint64(8), n.Seq)
	_, ok = <-slow
	assert.False(t, ok, "dropped")
	assert.Equal(t, 1, b.Subscribers())
	cancelSlow() // cancelling a dropped subscription is harmless

	_, seq, cancel := b.Subscribe(1)
	defer cancel()
	assert.Equal(t, uint64(9), seq, "new subscribers learn the last seq")
}
