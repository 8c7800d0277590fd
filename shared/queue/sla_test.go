package queue_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ticketero/ticketero/shared/queue"
)

func TestJudge(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	m := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	target := 10 * time.Minute
	var zero time.Time
	for _, tc := range []struct {
		name                    string
		queued, called, ended   time.Time
		now                     time.Time
		wait                    time.Duration
		isCalled, decided, with bool
	}{
		{"called within", m(0), m(5), m(20), m(60), 5 * time.Minute, true, true, true},
		{"called late", m(0), m(12), m(20), m(60), 12 * time.Minute, true, true, false},
		{"waiting under target", m(0), zero, zero, m(4), 4 * time.Minute, false, false, false},
		{"waiting past target", m(0), zero, zero, m(30), 30 * time.Minute, false, true, false},
		{"left uncalled early", m(0), zero, m(3), m(60), 3 * time.Minute, false, false, false},
		{"abandoned past target", m(0), zero, m(45), m(60), 45 * time.Minute, false, true, false},
		{"called before a transfer", m(20), m(5), zero, m(25), 5 * time.Minute, false, false, false},
	} {
		r := queue.Judge(tc.queued, tc.called, tc.ended, tc.now, target)
		assert.Equal(t, queue.WaitRule{Wait: tc.wait, Called: tc.isCalled, Decided: tc.decided, Within: tc.with}, r, tc.name)
	}
	var f queue.WaitFigures
	f.Add(queue.Judge(m(0), m(5), zero, m(30), target))
	f.Add(queue.Judge(m(0), zero, zero, m(30), target))
	f.Add(queue.Judge(m(25), zero, zero, m(30), target))
	assert.Equal(t, 50.0, f.SLAPct())
	assert.Equal(t, 2, f.Decided)
	assert.Equal(t, (5+30+5)*time.Minute/3, f.MeanWait())
	assert.Equal(t, 30*time.Minute, f.P90Wait())
	assert.Equal(t, 33.3, queue.Percent(1, 3))
	assert.Equal(t, 0.0, queue.Percent(1, 0))
}
