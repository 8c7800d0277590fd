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
// several branches) into one call. Each worker's queue is bounded: Dispatch
// blocks while it is full, which is the source's backpressure.
type Dispatcher[T any] struct {
	queues []chan T
	group  int
}

// NewDispatcher builds a dispatcher of workers queues, each holding up to
// queue items, whose workers take up to group items per call (≤ 0: the
// defaults).
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
	d := &Dispatcher[T]{queues: make([]chan T, workers), group: group}
	for i := range d.queues {
		d.queues[i] = make(chan T, queue)
	}
	return d
}

// Worker is the index of the worker that owns branch.
func (d *Dispatcher[T]) Worker(branch string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(branch))
	return int(h.Sum32() % uint32(len(d.queues)))
}

// Dispatch queues item on the worker owning branch, waiting while that
// worker's queue is full; it reports false when ctx ended first (the item
// was not queued).
func (d *Dispatcher[T]) Dispatch(ctx context.Context, branch string, item T) bool {
	select {
	case d.queues[d.Worker(branch)] <- item:
		return true
	case <-ctx.Done():
		return false
	}
}

// Run runs the workers until ctx ends, each calling work with the items it
// took (in dispatch order); it returns once every worker has returned. Items
// still queued when ctx ends are dropped: the sources' redelivery covers
// them (the agent's resend, the SQS visibility timeout).
func (d *Dispatcher[T]) Run(ctx context.Context, work func(ctx context.Context, worker int, items []T)) {
	var wg sync.WaitGroup
	for i, q := range d.queues {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case it := <-q:
					items := []T{it}
				more:
					for len(items) < d.group {
						select {
						case it := <-q:
							items = append(items, it)
						default:
							break more
						}
					}
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
