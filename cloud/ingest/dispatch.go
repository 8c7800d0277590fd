package ingest

import (
	"context"
	"errors"
	"hash/fnv"
	"sync"
)

// Dispatcher defaults, the shape both sources run with unless told otherwise.
const (
	// DefaultWorkers is how many workers a source runs.
	DefaultWorkers = 8
	// DefaultQueue is how many items wait on one worker before Dispatch blocks.
	DefaultQueue = 256
	// DefaultGroup bounds the items one worker takes into one call.
	DefaultGroup = 64
)

// Dispatcher hands a source's inbound items to workers by branch: a branch
// always goes to the same worker (fnv-1a of its ID), which handles its items
// one call after another in the order they were dispatched, so two
// transactions never hold one branch's batches at once. A worker takes the
// next item and what else is queued behind it (up to the group size, items of
// several branches) into one call.
//
// What waits is bounded for the dispatcher as a whole (workers × queue
// items), not per worker: Dispatch blocks only while that many wait, which is
// the source's backpressure. A worker slower than the others (a bigger group,
// a branch's lock wait) thus does not stop the delivery to the other workers
// until the whole replica is full: with one bound per worker, the MQTT
// source's one delivery goroutine waited on the slowest worker's full queue
// while the others ran dry (head-of-line blocking), and a 5,000-branch storm
// took minutes to drain instead of seconds (docs/performance.md, "MQTT at
// 5,000 branches: one bound for the replica").
type Dispatcher[T any] struct {
	slots chan struct{} // one per waiting item: full means Dispatch waits
	mu    sync.Mutex
	queue [][]T           // per worker, in dispatch order
	wake  []chan struct{} // per worker, capacity 1: items arrived
	group int
}

// NewDispatcher builds a dispatcher of workers workers, holding up to
// workers × queue waiting items in all, whose workers take up to group
// items per call (≤ 0: the defaults).
func NewDispatcher[T any](workers, queue, group int) *Dispatcher[T] {
	if workers <= 0 {
		workers = DefaultWorkers
	}
	if queue <= 0 {
		queue = DefaultQueue
	}
	if group <= 0 {
		group = DefaultGroup
	}
	d := &Dispatcher[T]{slots: make(chan struct{}, workers*queue), queue: make([][]T, workers),
		wake: make([]chan struct{}, workers), group: group}
	for i := range d.wake {
		d.wake[i] = make(chan struct{}, 1)
	}
	return d
}

// Worker is the index of the worker that owns branch.
func (d *Dispatcher[T]) Worker(branch string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(branch))
	return int(h.Sum32() % uint32(len(d.queue)))
}

// Dispatch queues item on the worker owning branch, waiting while the
// dispatcher is full; it reports false when ctx ended first (the item was
// not queued).
func (d *Dispatcher[T]) Dispatch(ctx context.Context, branch string, item T) bool {
	select {
	case d.slots <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	i := d.Worker(branch)
	d.mu.Lock()
	d.queue[i] = append(d.queue[i], item)
	d.mu.Unlock()
	select {
	case d.wake[i] <- struct{}{}:
	default: // already woken
	}
	return true
}

// take removes up to group items from worker i's queue and frees their slots.
func (d *Dispatcher[T]) take(i int) []T {
	d.mu.Lock()
	q := d.queue[i]
	n := min(len(q), d.group)
	items := make([]T, n)
	copy(items, q)
	clear(q[:n])
	if n == len(q) {
		d.queue[i] = q[:0] // keep the array: the next items reuse it
	} else {
		d.queue[i] = q[n:]
	}
	more := len(d.queue[i]) > 0
	d.mu.Unlock()
	for range n {
		<-d.slots
	}
	if more {
		select {
		case d.wake[i] <- struct{}{}:
		default:
		}
	}
	return items
}

// Run runs the workers until ctx ends, each calling work with the items it
// took (in dispatch order); it returns once every worker has returned. Items
// still queued when ctx ends are dropped: the sources' redelivery covers
// them (the agent's resend, the SQS visibility timeout).
func (d *Dispatcher[T]) Run(ctx context.Context, work func(ctx context.Context, worker int, items []T)) {
	var wg sync.WaitGroup
	for i := range d.queue {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-d.wake[i]:
				}
				if items := d.take(i); len(items) > 0 {
					work(ctx, i, items)
				}
			}
		})
	}
	wg.Wait()
}

// BranchError is a branch's storage failure as Handle reports it: the
// branch's batches were not stored (the other branches' outcome is apart).
type BranchError struct {
	Branch string
	Err    error
}

func (e *BranchError) Error() string { return "branch " + e.Branch + ": " + e.Err.Error() }

func (e *BranchError) Unwrap() error { return e.Err }

// FailedBranches names the branches an error from Handle says were not
// stored; ok is false when err holds an error that names no branch (the
// caller cannot tell which branches failed).
func FailedBranches(err error) (branches []string, ok bool) {
	if err == nil {
		return nil, true
	}
	var walk func(error) bool
	walk = func(e error) bool {
		if be, isBranch := e.(*BranchError); isBranch {
			branches = append(branches, be.Branch)
			return true
		}
		if j, isJoin := e.(interface{ Unwrap() []error }); isJoin {
			for _, x := range j.Unwrap() {
				if !walk(x) {
					return false
				}
			}
			return true
		}
		if next := errors.Unwrap(e); next != nil {
			return walk(next)
		}
		return false
	}
	if !walk(err) {
		return nil, false
	}
	return branches, true
}
