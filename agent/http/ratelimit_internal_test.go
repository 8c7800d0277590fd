package http

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestLimiterMemoryBounded: idle addresses are evicted once their bucket
// has refilled, and the number of buckets of a class never passes
// MaxClients (shared/ratelimit tests the eviction itself).
func TestLimiterMemoryBounded(t *testing.T) {
	now := time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC)
	l := DefaultLimits()
	l.MaxClients = 100
	lm := newLimiter(l, func() time.Time { return now })
	for i := range 1000 {
		ok, _ := lm.allow(ClassSignIn, fmt.Sprintf("10.0.%d.%d", i/256, i%256))
		assert.True(t, ok)
		assert.LessOrEqual(t, lm.size(), 100)
	}
	// An address that was flooding keeps its state while it is not refilled.
	for range 11 {
		lm.allow(ClassSignIn, "10.9.9.9")
	}
	ok, wait := lm.allow(ClassSignIn, "10.9.9.9")
	assert.False(t, ok)
	assert.Equal(t, 6*time.Second, wait)
	now = now.Add(30 * time.Second) // sweep runs, the flooder is still 5 tokens short
	lm.allow(ClassSignIn, "10.1.1.1")
	ok, _ = lm.allow(ClassSignIn, "10.9.9.9")
	assert.True(t, ok)
	ok, _ = lm.allow(ClassSignIn, "10.9.9.9")
	assert.True(t, ok)
	// Once every bucket has refilled, a sweep empties each class's map.
	now = now.Add(2 * time.Minute)
	lm.allow(ClassSignIn, "10.1.1.2")
	lm.allow(ClassRead, "10.1.1.2")
	assert.Equal(t, 2, lm.size())
}

func TestClassOf(t *testing.T) {
	for _, c := range []struct {
		method, path string
		want         RouteClass
	}{
		{"POST", "/api/v1/tickets", ClassIssue},
		{"POST", "/api/v1/sessions", ClassSignIn},
		{"POST", "/api/v1/manager/sessions", ClassSignIn},
		{"PUT", "/api/v1/manager/display-message", ClassAction},
		{"POST", "/api/v1/tickets/T1/start", ClassAction},
		{"DELETE", "/api/v1/sessions/current", ClassAction},
		{"POST", "/api/v1/nowhere", ClassAction},
		{"GET", "/api/v1/tickets", ClassRead},
		{"GET", "/api/v1/stream", ClassRead},
		{"HEAD", "/kiosk", ClassRead},
	} {
		req, _ := http.NewRequest(c.method, c.path, nil)
		assert.Equal(t, c.want, classOf(req), c.method+" "+c.path)
	}
}

// BenchmarkLimiterAllow: one token taken per request, 1,000 client
// addresses, from all cores.
func BenchmarkLimiterAllow(b *testing.B) {
	l := DefaultLimits()
	l.Issue = Limit{Every: time.Nanosecond, Burst: 1 << 20}
	lm := newLimiter(l, time.Now)
	addrs := make([]string, 1000)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("10.0.%d.%d", i/256, i%256)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			lm.allow(ClassIssue, addrs[i%len(addrs)])
			i++
		}
	})
}
