package web

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
)

func ids(ts []*shownTile) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Branch
	}
	return out
}

func TestSearchAndSortTiles(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	earlier := at.Add(-time.Hour)
	ts := wrapTiles([]hq.Tile{
		{Branch: "SC-003", Name: "Ñuñoa Centro", Region: "RM", Waiting: 2, OldestQueuedAt: &at, Decided: 4, WithinTarget: 1},
		{Branch: "SC-001", Name: "Valparaíso", Region: "V", Waiting: 7, OldestQueuedAt: &earlier, Decided: 2, WithinTarget: 2},
		{Branch: "SC-002", Name: "Concepción", Region: "BIO"},
	})
	sortTiles(ts, "")
	assert.Equal(t, []string{"SC-001", "SC-002", "SC-003"}, ids(ts))
	sortTiles(ts, "waiting")
	assert.Equal(t, []string{"SC-001", "SC-003", "SC-002"}, ids(ts))
	sortTiles(ts, "wait")
	assert.Equal(t, []string{"SC-001", "SC-003", "SC-002"}, ids(ts), "oldest waiting first, nobody waiting last")
	sortTiles(ts, "sla")
	assert.Equal(t, []string{"SC-003", "SC-001", "SC-002"}, ids(ts), "25 %, 100 %, none decided")

	sortTiles(ts, "")
	assert.Equal(t, []string{"SC-003"}, ids(searchTiles(ts, "nunoa")), "accents and case aside")
	assert.Equal(t, []string{"SC-001"}, ids(searchTiles(ts, " VALPARAÍSO ")))
	assert.Equal(t, []string{"SC-002"}, ids(searchTiles(ts, "sc-002")), "by ID")
	assert.Equal(t, []string{"SC-002"}, ids(searchTiles(ts, "bio")), "by region")
	assert.Len(t, searchTiles(ts, ""), 3)
	assert.Empty(t, searchTiles(ts, "zzz"))
}

func TestTileCacheReportsChangedTiles(t *testing.T) {
	var c tileCache
	_, ok := c.list(hq.AllBranches, "")
	require.False(t, ok, "not ready before a full read")
	a, b := hq.Tile{Branch: "A", Region: "R1"}, hq.Tile{Branch: "B", Region: "R2"}
	assert.Len(t, c.update([]hq.Tile{a, b}, true, true), 2)
	a.Waiting = 1
	changed := c.update([]hq.Tile{a, b}, true, true)
	require.Len(t, changed, 1, "only the tile whose markup changed")
	assert.Equal(t, "A", changed[0].Branch)
	assert.Empty(t, c.update([]hq.Tile{a}, false, false), "a branch re-read unchanged")
	got, ok := c.list(hq.Scope{Regions: []string{"R2"}}, "")
	require.True(t, ok)
	assert.Equal(t, []string{"B"}, ids(got), "scope applies")
	// A branch read alone (a change, or a new branch) keeps the branch order.
	c0, a0 := hq.Tile{Branch: "C", Region: "R1"}, hq.Tile{Branch: "0", Region: "R1"}
	assert.Len(t, c.update([]hq.Tile{c0, a0}, false, false), 2)
	b.Waiting = 3
	assert.Len(t, c.update([]hq.Tile{b}, false, false), 1)
	got, _ = c.list(hq.AllBranches, "")
	assert.Equal(t, []string{"0", "A", "B", "C"}, ids(got))
	assert.Equal(t, 3, got[2].Waiting, "the re-read tile replaces the old one")
	got, _ = c.list(hq.AllBranches, "R1")
	assert.Equal(t, []string{"0", "A", "C"}, ids(got), "region applies")
	c.invalidate()
	_, ok = c.list(hq.AllBranches, "")
	assert.False(t, ok, "stale while the LISTEN connection is down")
	c.update([]hq.Tile{a}, true, true)
	got, _ = c.list(hq.AllBranches, "")
	assert.Equal(t, []string{"A"}, ids(got), "a full read drops branches gone")
}

// BenchmarkTileCacheRefresh is the hub's CPU for a full refresh at 5,000
// branches once the tiles are read: rendering both languages and comparing
// with the cached markup (the read itself is BenchmarkOverview5000/refresh).
func BenchmarkTileCacheRefresh(b *testing.B) {
	at := time.Now()
	ts := make([]hq.Tile, 5000)
	for i := range ts {
		ts[i] = hq.Tile{Branch: fmt.Sprintf("PB-%04d", i+1), Name: "Sucursal", Region: fmt.Sprintf("R%02d", i%16+1), Waiting: 12,
			OldestQueuedAt: &at, LongestWaitS: 900, Decided: 40, WithinTarget: 30, Known: true, Online: true, LastIngestAt: &at, LastEventAt: &at,
			Queues: []cloud.ServiceWaiting{{Service: "C", Name: "Caja", Waiting: 8}, {Service: "P", Name: "Plataforma", Waiting: 4}}}
	}
	var c tileCache
	c.update(ts, true, true)
	for b.Loop() {
		if n := len(c.update(ts, true, true)); n != 0 {
			b.Fatalf("%d changed", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/refresh")
}
