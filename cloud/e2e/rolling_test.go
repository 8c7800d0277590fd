package e2e

import (
	"sync"
	"testing"
	"time"
)

// TestRollingUpgradeCloud (issue 8, upgrades): the cloud's replicas are
// replaced one by one while a branch issues and serves tickets, as an ECS
// rolling deployment does: each old replica gets SIGTERM during ingest and a
// new one starts. Nothing is lost or doubled: the sync invariant holds.
func TestRollingUpgradeCloud(t *testing.T) {
	parallel(t)
	e := newEnv(t, "E2E-ROLL")
	a := e.startCloud()
	b := e.startCloud()
	e.startAgent()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); e.day(10) }()
	time.Sleep(300 * time.Millisecond)
	a.stop()
	e.startCloud()
	time.Sleep(300 * time.Millisecond)
	b.stop()
	e.startCloud()
	wg.Wait()
	e.checkInvariant()
}
