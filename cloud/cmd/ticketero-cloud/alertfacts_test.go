package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
	"github.com/ticketero/ticketero/cloud/postgres/postgrestest"
)

// TestAlertLoopReadsWhatChanged runs the alert loop on a real database with
// its LISTEN connection: a branch announced as changed is re-read on the next
// pass, one whose rows change unannounced is not (until the minute's full
// read), and a wait crosses its target between reads.
func TestAlertLoopReadsWhatChanged(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool := postgrestest.MustPool(t)
	f := hqtest.Fixture{TB: t, Pool: pool}
	now := time.Now()
	santiago, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	day := now.In(santiago).Format(time.DateOnly) // the branches' day (it rolls at Santiago's midnight)
	for _, b := range []string{"AF-001", "AF-002", "AF-003"} {
		f.Branch(b, "Sucursal "+b, "AF", true)
	}
	// AF-003's one waiter reaches the 10 min target a second after the start.
	f.Ticket(hqtest.Ticket{Day: day, Branch: "AF-003", ID: "w0", Service: "C", Number: 1, QueuedAt: now.Add(-599 * time.Second)})
	store := hq.New(pool, time.Now)
	rules := cloud.DefaultAlertRules()
	rules.QueueOver = 2
	done := make(chan struct{})
	go func() {
		runAlerts(ctx, store, AlertConfig{Rules: rules, Every: 100 * time.Millisecond}, slog.New(slog.DiscardHandler),
			&postgres.Listener{Pool: pool, Channel: cloud.ChangesChannel})
		close(done)
	}()
	defer func() { cancel(); <-done }()
	open := func(branch, kind string) bool {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM hq_alerts WHERE branch = $1 AND kind = $2 AND cleared_at IS NULL`, branch, kind).Scan(&n))
		return n > 0
	}
	require.Eventually(t, func() bool { return open("AF-003", cloud.AlertWaitOver) }, 5*time.Second, 50*time.Millisecond,
		"the wait read at 9:59 crosses the target without a new read")
	time.Sleep(300 * time.Millisecond) // the LISTEN connection is up well before this

	for i := 1; i <= 3; i++ {
		f.Ticket(hqtest.Ticket{Day: day, Branch: "AF-001", ID: "a" + string(rune('0'+i)), Service: "C", Number: i, QueuedAt: now})
		f.Ticket(hqtest.Ticket{Day: day, Branch: "AF-002", ID: "b" + string(rune('0'+i)), Service: "C", Number: i, QueuedAt: now})
	}
	f.Notify("AF-001") // AF-002's rows change unannounced
	require.Eventually(t, func() bool { return open("AF-001", cloud.AlertQueueLong) }, 5*time.Second, 50*time.Millisecond,
		"the announced branch is re-read")
	time.Sleep(500 * time.Millisecond)
	assert.False(t, open("AF-002", cloud.AlertQueueLong), "an unannounced change waits for the minute's full read")
}
