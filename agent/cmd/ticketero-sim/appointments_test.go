package main

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFlagsCloud(t *testing.T) {
	cfg, err := parseFlags([]string{"--agent", "A=http://x"})
	require.NoError(t, err)
	assert.Empty(t, cfg.Cloud, "no bookings without --cloud")
	cfg, err = parseFlags([]string{"--agent", "A=http://x", "--cloud", "http://127.0.0.1:8090/", "--appointments", "6"})
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8090", cfg.Cloud)
	assert.Equal(t, 6, cfg.Appointments)
	_, err = parseFlags([]string{"--agent", "A=http://x", "--appointments", "-1"})
	assert.Error(t, err)
}

// TestPlanArrivals: one customer never comes, some are late past the
// default grace (10 min) but within the check-in window (start+grace+60),
// the others come within check-in's opening (30 min early).
func TestPlanArrivals(t *testing.T) {
	plan := planArrivals(6, rand.New(rand.NewPCG(1, 2)))
	var absent, late, early int
	for _, a := range plan {
		switch {
		case a.Absent:
			absent++
		case a.Offset > 10*time.Minute:
			late++
			assert.Less(t, a.Offset, 70*time.Minute)
		default:
			early++
			assert.True(t, a.Offset < 0 && a.Offset >= -30*time.Minute, a.Offset)
		}
	}
	assert.Equal(t, []int{1, 1, 4}, []int{absent, late, early})
	assert.True(t, plan[5].Absent, "the last one")
	assert.Empty(t, planArrivals(0, rand.New(rand.NewPCG(1, 2))))
}

func TestPickSlots(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var slots []publicSlot
	for i := range 12 {
		slots = append(slots, publicSlot{Start: t0.Add(time.Duration(i) * 10 * time.Minute), Free: i % 3})
	}
	got := pickSlots(slots, t0.Add(5*time.Minute), t0.Add(90*time.Minute), 10, rand.New(rand.NewPCG(3, 4)))
	require.Len(t, got, 6, "free slots in the span: 10:10 10:20 10:40 10:50 11:10 11:20")
	for i, s := range got {
		assert.Positive(t, s.Free)
		assert.False(t, s.Start.Before(t0.Add(5*time.Minute)) || s.Start.After(t0.Add(90*time.Minute)))
		if i > 0 {
			assert.True(t, got[i-1].Start.Before(s.Start), "in order")
		}
	}
	assert.Len(t, pickSlots(slots, t0, t0.Add(2*time.Hour), 2, rand.New(rand.NewPCG(3, 4))), 2)
}
