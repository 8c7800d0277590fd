package queue

import (
	"math"
	"sort"
	"time"
)

// The service-level rule, one for the branch page and HQ (HQ runs the same
// rule in SQL: cloud/postgres/hq waitRuleSQL):
//
//   - A ticket's wait runs from its arrival in its current queue (queued_at)
//     to its call in that queue; while it waits, to now; if it left uncalled
//     (cancelled, abandoned at the day's close), to when it left. A call made
//     before the ticket's latest arrival (it was then transferred) does not
//     count as a call in its current queue.
//   - Its target is the target wait of the service it is in, as the branch
//     runs it.
//   - It is within target when called with wait ≤ target. It is out of target
//     once its wait passes the target, called or not: a ticket waiting 30
//     minutes against a 10-minute target counts now, not only when called.
//     A ticket not called and not yet past its target is undecided and left
//     out of the service level.
//   - The mean and 90th percentile wait include every ticket's wait as above,
//     the current waits of waiting tickets included.

// WaitRule is how one ticket counts in the service-level figures.
type WaitRule struct {
	Wait    time.Duration
	Called  bool // called in its current queue
	Decided bool // counts in the service level
	Within  bool // called within target
}

// Judge applies the rule to a ticket: queued is its arrival in its current
// queue, called its (last) call or zero, ended when it ended or zero, now the
// branch's clock, target its service's target wait.
func Judge(queued, called, ended, now time.Time, target time.Duration) WaitRule {
	var r WaitRule
	end := now
	switch {
	case !called.IsZero() && !called.Before(queued):
		r.Called, end = true, called
	case !ended.IsZero():
		end = ended
	}
	r.Wait = end.Sub(queued)
	r.Within = r.Called && r.Wait <= target
	r.Decided = r.Called || r.Wait > target
	return r
}

// WaitFigures accumulate tickets judged by the rule.
type WaitFigures struct {
	Decided, Within int
	waits           []time.Duration
}

// Add counts a judged ticket.
func (f *WaitFigures) Add(r WaitRule) {
	f.waits = append(f.waits, max(r.Wait, 0))
	if r.Decided {
		f.Decided++
	}
	if r.Within {
		f.Within++
	}
}

// SLAPct is the share of decided tickets within target, in percent with one
// decimal, 0 when none is decided.
func (f *WaitFigures) SLAPct() float64 { return Percent(f.Within, f.Decided) }

// MeanWait is the mean wait of every ticket added.
func (f *WaitFigures) MeanWait() time.Duration {
	if len(f.waits) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range f.waits {
		sum += d
	}
	return sum / time.Duration(len(f.waits))
}

// P90Wait is the 90th percentile wait (nearest rank) of every ticket added.
func (f *WaitFigures) P90Wait() time.Duration {
	if len(f.waits) == 0 {
		return 0
	}
	c := append([]time.Duration(nil), f.waits...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	return c[(len(c)*9+9)/10-1]
}

// Percent is n of d in percent rounded to one decimal (0 when d is 0).
func Percent(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return math.Round(float64(n)*1000/float64(d)) / 10
}
