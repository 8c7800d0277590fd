package mqtt

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/ticketero/ticketero/cloud"
)

// statusGather is how long the statuses that arrive are gathered before they
// are recorded together; statusChunk bounds one transaction.
const (
	statusGather = 100 * time.Millisecond
	statusChunk  = 500
	// statusMaxPending bounds what waits while the database is slow or
	// down (four statuses for each of 5,000 branches): past it the oldest
	// are dropped, as a branch publishes its status again every 30 s and
	// its retained one on every reconnect.
	statusMaxPending = 20000
)

// statusBatcher records the statuses the broker delivers in one transaction
// per statusGather, on one goroutine (so one database connection), instead of
// one commit per status on a goroutine per message. Every replica receives
// every branch's status (the status subscription is not shared: a replica
// that starts must get the retained ones): at 5,000 branches that is about
// 170 a second per replica, and at a connect storm thousands at once, which
// one at a time took the ingest's connections and doubled its commits with a
// second replica. A status waits at most statusGather plus one write.
type statusBatcher struct {
	rec  cloud.StatusBatchRecorder
	log  *slog.Logger
	mu   sync.Mutex
	pend []cloud.StatusUpdate
	max  int // statusMaxPending
	lost int // dropped since the last write, for its log line
	wake chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func newStatusBatcher(rec cloud.StatusBatchRecorder, log *slog.Logger) *statusBatcher {
	b := &statusBatcher{rec: rec, log: log, max: statusMaxPending, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go b.run()
	return b
}

// add queues u for the next write.
func (b *statusBatcher) add(u cloud.StatusUpdate) {
	b.mu.Lock()
	if len(b.pend) >= b.max {
		// Reslice, not copy: this runs on paho's router goroutine, for
		// every status while the database is behind; append moves what is
		// left to a new array once the old one's tail is used up.
		n := len(b.pend) - b.max + 1
		clear(b.pend[:n])
		b.pend = b.pend[n:]
		b.lost += n
	}
	b.pend = append(b.pend, u)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// close records what is pending and stops the goroutine.
func (b *statusBatcher) close() {
	b.once.Do(func() { close(b.stop) })
	<-b.done
}

func (b *statusBatcher) run() {
	defer close(b.done)
	for {
		select {
		case <-b.wake:
			select { // gather what else arrives, unless stopping
			case <-time.After(statusGather):
			case <-b.stop:
			}
			b.flush()
		case <-b.stop:
			b.flush()
			return
		}
	}
}

// flush records everything pending, statusChunk at a time. When a chunk
// fails (one status the database refuses, a deadlock), its statuses are
// recorded one by one; what still fails is logged and dropped: the branch
// publishes its status again within its status interval (30 s), and the
// retained one on every reconnect.
func (b *statusBatcher) flush() {
	b.mu.Lock()
	pend, lost := b.pend, b.lost
	b.pend, b.lost = nil, 0
	b.mu.Unlock()
	if lost > 0 {
		b.log.Warn("statuses dropped while the database was behind; the branches publish theirs again", "dropped", lost)
	}
	for len(pend) > 0 {
		n := min(len(pend), statusChunk)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := b.rec.RecordStatuses(ctx, pend[:n]); err != nil && n > 1 {
			for _, u := range pend[:n] {
				if err := b.rec.RecordStatuses(ctx, []cloud.StatusUpdate{u}); err != nil {
					b.log.Warn("status not recorded", "branch", u.Status.Branch, "err", err)
				}
			}
		} else if err != nil {
			b.log.Warn("status not recorded", "branch", pend[0].Status.Branch, "err", err)
		}
		cancel()
		pend = pend[n:]
	}
}
