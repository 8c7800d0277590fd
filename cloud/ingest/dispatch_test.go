package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/ingest"
)

type job struct {
	branch string
	n      int
}

// A branch's items all reach one worker, in the order they were dispatched,
// never in two calls at once; a call groups what was queued, bounded.
func TestDispatcherOneBranchOneWorkerInOrder(t *testing.T) {
	const workers, group, per = 3, 5, 40
	d := ingest.NewDispatcher[job](workers, 4, group)
	var mu sync.Mutex
	owner := map[string]int{}
	seen := map[string][]int{}
	inFlight := map[string]int{}
	overlap, most := 0, 0
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx, func(_ context.Context, w int, items []job) {
			in := map[string]bool{}
			mu.Lock()
			most = max(most, len(items))
			for _, it := range items {
				if o, ok := owner[it.branch]; ok && o != w {
					t.Errorf("%s on workers %d and %d", it.branch, o, w)
				}
				owner[it.branch] = w
				seen[it.branch] = append(seen[it.branch], it.n)
				in[it.branch] = true
			}
			for b := range in {
				if inFlight[b]++; inFlight[b] > 1 {
					overlap++
				}
			}
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			for b := range in {
				inFlight[b]--
			}
			mu.Unlock()
		})
	}()
	branches := []string{"D-1", "D-2", "D-3", "D-4", "D-5", "D-6", "D-7"}
	var wg sync.WaitGroup
	for _, b := range branches {
		wg.Go(func() { // one producer per branch: its dispatch order is known
			for n := range per {
				require.True(t, d.Dispatch(ctx, b, job{b, n}))
			}
		})
	}
	wg.Wait()
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		total := 0
		for _, s := range seen {
			total += len(s)
		}
		return total == len(branches)*per
	}, 10*time.Second, 5*time.Millisecond)
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	for _, b := range branches {
		want := make([]int, per)
		for i := range want {
			want[i] = i
		}
		assert.Equal(t, want, seen[b], "%s in dispatch order", b)
		assert.Equal(t, d.Worker(b), owner[b])
	}
	assert.Zero(t, overlap)
	assert.LessOrEqual(t, most, group)
	assert.Greater(t, most, 1, "queued items handed together")
}

// A full queue makes Dispatch wait (backpressure) until the worker takes
// from it, or until ctx ends.
func TestDispatcherBlocksWhenFull(t *testing.T) {
	d := ingest.NewDispatcher[int](1, 2, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range 2 {
		require.True(t, d.Dispatch(ctx, "B", i))
	}
	short, stop := context.WithTimeout(ctx, 100*time.Millisecond)
	defer stop()
	assert.False(t, d.Dispatch(short, "B", 2), "queue full, no worker: waits until ctx ends")

	release := make(chan struct{})
	got := make(chan int, 8)
	go d.Run(ctx, func(_ context.Context, _ int, items []int) {
		<-release
		for _, i := range items {
			got <- i
		}
	})
	queued := make(chan bool, 1)
	go func() { queued <- d.Dispatch(ctx, "B", 3) }()
	// The worker holds item 0; 1 and 3 fit in the queue; 4 must wait.
	blocked := make(chan bool, 1)
	go func() {
		require.True(t, <-queued)
		blocked <- d.Dispatch(ctx, "B", 4)
	}()
	select {
	case <-blocked:
		t.Fatal("dispatched past a full queue")
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	require.True(t, <-blocked)
	for _, want := range []int{0, 1, 3, 4} {
		select {
		case i := <-got:
			assert.Equal(t, want, i)
		case <-time.After(5 * time.Second):
			t.Fatalf("item %d not handled", want)
		}
	}
}

// The bound is the dispatcher's, not a worker's: a stuck worker's branch
// may take the whole replica's room, and until it does, another worker's
// branches are still delivered (one bound per worker stopped every branch's
// delivery behind the first full queue: head-of-line blocking).
func TestDispatcherSlowWorkerDoesNotHoldTheOthers(t *testing.T) {
	const workers, queue = 2, 4
	d := ingest.NewDispatcher[job](workers, queue, 1)
	slow, other := "A", ""
	for i := range 100 {
		if b := fmt.Sprintf("B%d", i); d.Worker(b) != d.Worker(slow) {
			other = b
			break
		}
	}
	require.NotEmpty(t, other)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	release := make(chan struct{})
	handled := make(chan job, 32)
	go d.Run(ctx, func(_ context.Context, _ int, items []job) {
		for _, it := range items {
			if it.branch == slow {
				<-release
			}
			handled <- it
		}
	})
	// The slow branch: one item in its worker's call, then more than one
	// worker's share (queue) waiting, all within the replica's room.
	for n := range queue + 2 {
		short, stop := context.WithTimeout(ctx, 2*time.Second)
		ok := d.Dispatch(short, slow, job{slow, n})
		stop()
		require.True(t, ok, "item %d of the slow branch refused before the replica is full", n)
	}
	require.True(t, d.Dispatch(ctx, other, job{other, 0}))
	select {
	case it := <-handled:
		assert.Equal(t, other, it.branch, "only the other worker's branch can be handled")
	case <-time.After(5 * time.Second):
		t.Fatal("the other worker's branch waited for the slow one")
	}
	// Full: the replica's room (workers × queue) is taken; the next waits.
	for n := queue + 2; n < workers*queue+1; n++ {
		require.True(t, d.Dispatch(ctx, slow, job{slow, n}))
	}
	short, stop := context.WithTimeout(ctx, 200*time.Millisecond)
	defer stop()
	assert.False(t, d.Dispatch(short, other, job{other, 1}), "the replica is full: Dispatch waits")
	close(release)
	for n := range workers*queue + 1 {
		select {
		case it := <-handled:
			assert.Equal(t, job{slow, n}, it)
		case <-time.After(5 * time.Second):
			t.Fatalf("slow item %d not handled", n)
		}
	}
}

func TestFailedBranches(t *testing.T) {
	db := errors.New("database down")
	names, ok := ingest.FailedBranches(errors.Join(&ingest.BranchError{Branch: "A", Err: db},
		fmt.Errorf("wrapped: %w", &ingest.BranchError{Branch: "B", Err: db})))
	assert.True(t, ok)
	assert.Equal(t, []string{"A", "B"}, names)
	assert.ErrorIs(t, &ingest.BranchError{Branch: "A", Err: db}, db)

	_, ok = ingest.FailedBranches(errors.Join(&ingest.BranchError{Branch: "A", Err: db}, db))
	assert.False(t, ok, "an error naming no branch: unknown")
	names, ok = ingest.FailedBranches(nil)
	assert.True(t, ok)
	assert.Empty(t, names)
}
