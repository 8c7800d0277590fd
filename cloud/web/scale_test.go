package web_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
	"github.com/ticketero/ticketero/cloud/web"
)

// fleetBranches is HQ's network at the scale (issue 18).
const fleetBranches = 5000

// msAt is the p-th percentile (0..1) of sorted durations, in milliseconds.
func msAt(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	return float64(d[min(len(d)-1, int(float64(len(d))*p))].Microseconds()) / 1000
}

// timed runs f b.N times and reports p50 and p99 of its durations.
func timed(b *testing.B, unit string, f func()) {
	var lat []time.Duration
	for b.Loop() {
		t0 := time.Now()
		f()
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	b.ReportMetric(msAt(lat, 0.5), "p50-ms/"+unit)
	b.ReportMetric(msAt(lat, 0.99), "p99-ms/"+unit)
}

// BenchmarkOverview5000 is HQ's overview at 5,000 branches (300,000 tickets
// today, 20,000 executives): the full read the hub makes at start and every
// RefreshEvery ("refresh"), the overview page of an admin ("page": totals,
// search, the first 48 tiles from the tile cache), a window of tiles as
// app.js fetches it while scrolling ("window"), chromium's first contentful
// paint ("paint"), 1,000 live browsers seeing a change ("live"), the CPU of
// the alert loop and the refresh ("upkeep"), and the page again with the
// alerts those passes opened ("page-alerts").
func BenchmarkOverview5000(b *testing.B) {
	b.Logf("%s seeding", time.Now().Format(time.TimeOnly))
	store, h, stop := benchEnv(b, fleetBranches)
	defer stop()
	b.Logf("%s seeded, tile cache ready", time.Now().Format(time.TimeOnly))
	ctx := context.Background()
	admin := sessionCookie(b, store, "bench-admin@bank.cl", "admin", nil)
	get := func(b *testing.B, path, cookie, want string) int {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Cookie", cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
			b.Fatalf("%s: %d %.300s", path, rec.Code, rec.Body.String())
		}
		return rec.Body.Len()
	}
	b.Run("refresh", func(b *testing.B) {
		timed(b, "read", func() {
			tiles, err := store.Overview(ctx, hq.AllBranches, hq.OverviewFilter{})
			if err != nil || len(tiles) < fleetBranches {
				b.Fatalf("overview: %d tiles, %v", len(tiles), err)
			}
		})
	})
	b.Run("page", func(b *testing.B) {
		var size int
		timed(b, "page", func() { size = get(b, "/", admin, `id="tile-PB-0048"`) })
		b.ReportMetric(float64(size)/1024, "KB/page")
	})
	b.Run("window", func(b *testing.B) {
		timed(b, "window", func() { get(b, "/tiles?offset=4800&limit=60", admin, `tile-PB-4801`) })
	})
	b.Run("search", func(b *testing.B) {
		timed(b, "search", func() { get(b, "/?q=sucursal+4999", admin, `id="tile-PB-4999"`) })
	})
	b.Run("paint", func(b *testing.B) { paintAtScale(b, h) })
	b.Run("live", func(b *testing.B) { liveAtScale(b, store, h, admin) })
	// Last: the alert passes open thousands of alerts (every seeded branch
	// has people waiting past target); the page then lists 500 of them.
	b.Run("upkeep", func(b *testing.B) { upkeepAtScale(b) })
	b.Run("page-alerts", func(b *testing.B) {
		var size int
		timed(b, "page", func() { size = get(b, "/", admin, `id="tile-PB-0048"`) })
		b.ReportMetric(float64(size)/1024, "KB/page")
	})
}

// upkeepAtScale is the CPU of the cloud's periodic work at 5,000 branches,
// whatever the traffic: one alert pass (cmd/ticketero-cloud runAlerts, every
// TICKETERO_ALERT_EVERY, 5 s: every tile read, then hq.Store.EvaluateAlerts)
// and the HQ web's full refresh read (every RefreshEvery, 30 s; its
// rendering is BenchmarkTileCacheRefresh). It counts this process's CPU
// (getrusage) and the PostgreSQL backend's (/proc/<pid>/stat of the one
// connection the pool holds), and reports the alert loop's share of one
// core at its 5 s interval: reading every branch each pass ("full"), and as
// it runs (every branch a minute, 1,000 announced branches and the
// evaluation each pass).
func upkeepAtScale(b *testing.B) {
	cfg, err := pgxpool.ParseConfig(dsn)
	require.NoError(b, err)
	cfg.MaxConns, cfg.MinConns = 1, 1
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(b, err)
	defer pool.Close()
	ctx := context.Background()
	var pid int
	require.NoError(b, pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
	store := hq.New(pool, time.Now)
	cpu := func() (self, pg time.Duration) {
		var ru syscall.Rusage
		require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
		self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil { // PostgreSQL on another host: its share is not counted
			return self, 0
		}
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
		ut, _ := strconv.ParseInt(f[11], 10, 64) // utime and stime, fields 14 and 15, in clock ticks (100 Hz)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		return self, time.Duration(ut+st) * 10 * time.Millisecond
	}
	measure := func(f func()) (self, pg time.Duration) {
		s0, p0 := cpu()
		f()
		s1, p1 := cpu()
		return s1 - s0, p1 - p0
	}
	// Per pass: the alert loop's read, its evaluation (raises, clears and
	// backlog samples in one transaction), and the web's full refresh read.
	var sums [4][2]time.Duration
	add := func(i int, f func()) {
		self, pg := measure(f)
		sums[i][0] += self
		sums[i][1] += pg
	}
	for b.Loop() {
		var tiles []hq.Tile
		add(0, func() {
			tiles, err = store.AlertTiles(ctx)
			require.NoError(b, err)
			require.GreaterOrEqual(b, len(tiles), fleetBranches)
		})
		add(1, func() {
			_, err := store.EvaluateAlerts(ctx, tiles, cloud.DefaultAlertRules())
			require.NoError(b, err)
		})
		add(3, func() { // a pass after 1,000 branches announced changes (a fifth of the network in 5 s)
			changed := make([]string, 1000)
			for i := range changed {
				changed[i] = benchBranch(1 + (i*5+b.N)%fleetBranches)
			}
			some, err := store.AlertTiles(ctx, changed...)
			require.NoError(b, err)
			require.Len(b, some, len(changed))
		})
		add(2, func() {
			all, err := store.Overview(ctx, hq.AllBranches, hq.OverviewFilter{})
			require.NoError(b, err)
			require.GreaterOrEqual(b, len(all), fleetBranches)
		})
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	var alerts float64
	cost := func(i int) float64 { return ms(sums[i][0]) + ms(sums[i][1]) }
	for i, name := range []string{"alert-read", "alert-evaluate", "refresh-read", "alert-read-1000"} {
		b.ReportMetric(ms(sums[i][0]), "go-cpu-ms/"+name)
		b.ReportMetric(ms(sums[i][1]), "pg-cpu-ms/"+name)
	}
	alerts = cost(0) + cost(1)
	b.ReportMetric(alerts/5000*100, "%core-alerts-full@5s")
	// The loop as it runs (cmd/ticketero-cloud alertfacts.go): a full read
	// a minute, the announced branches each pass, the evaluation each pass.
	b.ReportMetric((cost(0)/60000+(cost(3)+cost(1))/5000)*100, "%core-alerts@5s")
	b.ReportMetric((ms(sums[2][0])+ms(sums[2][1]))/30000*100, "%core-refresh-read@30s")
}

// liveAtScale connects 1,000 browsers the way the overview page does
// (/live?snapshot=0: totals, then changes): 500 admins and 500 supervisors
// of the changed branch's region (312 branches). Each iteration issues a
// ticket at a branch (rows + NOTIFY, as the ingest) and waits until every
// browser has the new tile; it reports p50 and p99 over changes of the
// time to the last browser, and over every delivery.
func liveAtScale(b *testing.B, store *hq.Store, h *web.Handler, admin string) {
	const clients = 1000
	srv := httptest.NewServer(h)
	defer srv.Close()
	sup := sessionCookie(b, store, "bench-sup@bank.cl", "supervisor", []string{"R02"})
	addr := strings.TrimPrefix(srv.URL, "http://")
	const branch = "PB-0001" // region R02
	type got struct {
		n  int
		at time.Time
	}
	seen := make(chan got, clients*4)
	ready := make(chan struct{}, clients)
	var wg sync.WaitGroup
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	}()
	for i := range clients {
		cookie := admin
		if i%2 == 1 {
			cookie = sup
		}
		c := dialLive(b, addr, "/live?snapshot=0", cookie, &conns)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := bufio.NewReaderSize(c, 16<<10)
			first := true
			for {
				line, err := r.ReadSlice('\n')
				if err != nil {
					return
				}
				s := string(line)
				if first && strings.HasPrefix(s, "event: totals") {
					first = false
					ready <- struct{}{}
					continue
				}
				n, ok := tileWaiting(s, branch)
				if !ok {
					continue
				}
				seen <- got{n, time.Now()}
			}
		}()
	}
	for range clients {
		select {
		case <-ready:
		case <-time.After(60 * time.Second):
			b.Fatal("clients did not get their totals")
		}
	}
	require.Equal(b, clients, h.Hub().Clients())
	pool := store.Pool()
	ctx := context.Background()
	var waiting, num int
	require.NoError(b, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'waiting'), coalesce(max(number), 0) FROM tickets WHERE branch = $1`, branch).Scan(&waiting, &num))
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	day := time.Now().In(mustLocTB(b)).Format(time.DateOnly)
	var last, each []time.Duration
	for b.Loop() {
		num++
		waiting++
		start := time.Now()
		_, err := pool.Exec(ctx, `WITH t AS (INSERT INTO tickets (branch, id, day, origin_service, number, service, priority, status, queued_at, created_at, last_seq)
			VALUES ($1, $2, $3, 'C', $4, 'C', 'normal', 'waiting', now(), now(), 0)) SELECT pg_notify('ticketero_changes', $1)`,
			branch, "live-"+run+"-"+strconv.Itoa(num), day, num)
		require.NoError(b, err)
		n := 0
		timeout := time.After(30 * time.Second)
		var end time.Time
		for n < clients {
			select {
			case g := <-seen:
				if g.n == waiting {
					n++
					each = append(each, g.at.Sub(start))
					end = g.at
				}
			case <-timeout:
				b.Fatalf("only %d of %d browsers got the change (%d connected, %d messages pushed)", n, clients, h.Hub().Clients(), h.Hub().Pushed.Load())
			}
		}
		last = append(last, end.Sub(start))
	}
	slices.Sort(last)
	slices.Sort(each)
	b.ReportMetric(msAt(last, 0.5), "p50-ms/change-to-all")
	b.ReportMetric(msAt(last, 0.99), "p99-ms/change-to-all")
	b.ReportMetric(msAt(each, 0.5), "p50-ms/delivery")
	b.ReportMetric(msAt(each, 0.99), "p99-ms/delivery")
	b.ReportMetric(clients, "browsers")
}

// paintAtScale signs an admin in with chromium and loads the overview of
// 5,000 branches b.N times: first contentful paint, the tiles in the DOM
// (the page must not hold 5,000), and a scroll to the end, which must
// bring the last branch's tile.
func paintAtScale(b *testing.B, h *web.Handler) {
	srv := httptest.NewServer(h)
	ctx := newBrowser(b)
	defer func() { // chromium's live stream stays open: leave the page first
		_ = chromedp.Do(ctx, chromedp.Navigate("about:blank"))
		srv.CloseClientConnections()
		srv.Close()
	}()
	b.Logf("%s chromium started", time.Now().Format(time.TimeOnly))
	require.NoError(b, chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`#email`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), "bench-admin@bank.cl"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "benchmark-pass"),
		chromedp.Click(chromedp.CSS(`#signin`)),
		chromedp.WaitVisible(chromedp.CSS(`#tile-PB-0001`))))
	var fcp, fp, doc, server, floor []float64
	var nodes int
	load := func(path string) map[string]float64 {
		lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(lctx, chromedp.Navigate(srv.URL+path), chromedp.WaitVisible(chromedp.CSS(`#tile-PB-0001`))); err != nil {
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({url: location.href, ready: document.readyState,
				tiles: [...document.querySelectorAll(".tile")].slice(0, 5).map(t => t.id), alerts: document.querySelectorAll("#alerts li").length,
				top: (document.getElementById("tiles") || {getBoundingClientRect: () => ({})}).getBoundingClientRect().top, ih: innerHeight})`))
			b.Fatalf("load %s: %v (%s)", path, err, state)
		}
		m, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`(() => {
			const p = n => (performance.getEntriesByName(n)[0] || {startTime: -1}).startTime;
			const nav = performance.getEntriesByType('navigation')[0];
			return {fcp: p('first-contentful-paint'), fp: p('first-paint'), doc: nav.responseEnd - nav.requestStart,
				server: ((nav.serverTiming || []).find(e => e.name === 'app') || {duration: -1}).duration,
				tiles: document.querySelectorAll('.tile').length};
		})()`))
		require.NoError(b, err)
		return m
	}
	for b.Loop() {
		m := load("/")
		fcp, fp, doc, server = append(fcp, m["fcp"]), append(fp, m["fp"]), append(doc, m["doc"]), append(server, m["server"])
		nodes = max(nodes, int(m["tiles"]))
		// The floor: the same page with one tile (a search for one branch).
		floor = append(floor, load("/?q=PB-0001")["fcp"])
	}
	// The rest of the network is there when scrolled to.
	load("/")
	deadline := time.Now().Add(30 * time.Second)
	for {
		last, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(window.scrollTo(0, document.body.scrollHeight), document.querySelectorAll("#tile-PB-5000").length)`))
		require.NoError(b, err)
		if last == 1 {
			break
		}
		if time.Now().After(deadline) {
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({sh: document.body.scrollHeight, y: scrollY, ih: innerHeight,
				sp: [...document.querySelectorAll(".tiles .spacer")].map(s => s.style.height), total: document.getElementById("tiles").getAttribute("data-total"),
				ids: [...document.querySelectorAll(".tile")].map(t => t.id).join(" "), cols: getComputedStyle(document.getElementById("tiles")).gridTemplateColumns})`))
			b.Fatalf("scrolled to the end: no tile of the last branch (%s)", state)
		}
		time.Sleep(100 * time.Millisecond)
	}
	after, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.tile').length`))
	require.NoError(b, err)
	if nodes >= 200 || after >= 200 {
		b.Fatalf("%d tiles in the DOM on load, %d after scrolling: not virtualised", nodes, after)
	}
	for _, s := range []struct {
		v    []float64
		unit string
	}{{fcp, "fcp"}, {fp, "first-paint"}, {doc, "document"}, {server, "server"}, {floor, "fcp-one-tile"}} {
		slices.Sort(s.v)
		b.ReportMetric(s.v[len(s.v)/2], "p50-ms/"+s.unit)
		b.ReportMetric(s.v[min(len(s.v)-1, len(s.v)*99/100)], "p99-ms/"+s.unit)
	}
	b.ReportMetric(float64(nodes), "tiles-in-DOM")
}

// TestOverviewVirtualised opens the overview of 150 branches (a supervisor's
// region) from the tile cache in chromium: the page holds only the tiles in
// view, scrolling brings the last branch, the search box narrows to one
// branch as one types and says so, and a change reaches the tile and the
// totals. Without JavaScript the same page is paged with links.
func TestOverviewVirtualised(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.OverviewFromStore = false; c.SecureCookies = true })
	const n = 150
	for i := 1; i <= n; i++ {
		e.f.Branch(fmt.Sprintf("VT-%03d", i), fmt.Sprintf("Sucursal Virtual %d", i), "VTR", true)
	}
	e.user("sup@virtual.cl", "supervisor", []string{"VTR"}, nil)
	require.Eventually(t, e.h.Hub().CacheReady, 5*time.Second, 10*time.Millisecond)
	e.f.Notify("") // every tile re-read into the cache, as after a reconnect
	c, _ := e.login("sup@virtual.cl")
	require.Eventually(t, func() bool {
		_, body := e.get(c, "/tiles?limit=1")
		return strings.Contains(body, `"total":150`)
	}, 5*time.Second, 20*time.Millisecond, "cache holds the new branches")

	// Without JavaScript: pages of 48 with links, and the count.
	_, body := e.get(c, "/?page=2")
	has(t, body, `id="tile-VT-049"`)
	has(t, body, `id="tile-VT-096"`)
	assert.NotContains(t, body, `id="tile-VT-048"`)
	assert.NotContains(t, body, `id="tile-VT-097"`)
	has(t, body, `<span>Página 2 de 4</span>`)
	has(t, body, `href="/?page=3"`)
	has(t, body, `<p id="tiles-status" role="status">150 sucursales</p>`)
	_, body = e.get(c, "/?q=virtual+77")
	has(t, body, `id="tile-VT-077"`)
	has(t, body, "1 de 150 sucursales coinciden con «virtual 77»")
	res, body := e.get(c, "/tiles?offset=x")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	has(t, body, "El tramo de sucursales")

	ctx := newBrowser(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	step := func(name string, a ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, a...); err != nil {
			html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.documentElement.outerHTML`))
			t.Fatalf("%s: %v\n%.3000s", name, err, html)
		}
	}
	count := func() int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#tiles .tile").length`))
		require.NoError(t, err)
		return n
	}
	step("sign in",
		chromedp.Navigate(e.srv.URL+"/"),
		chromedp.WaitVisible(css(`#email`)),
		chromedp.SendKeys(css(`#email`), "sup@virtual.cl"),
		chromedp.SendKeys(css(`#password`), "password-sup@virtual.cl"),
		chromedp.Click(css(`#signin`)),
		chromedp.WaitVisible(css(`#tile-VT-001`)),
		chromedp.WaitReady(css(`#tiles[data-virtual="on"]`)),
		chromedp.WaitReady(css(`body[data-live="on"]`)))
	assert.Less(t, count(), n, "only the tiles in view")
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("tiles-pager").hidden`))
	require.NoError(t, err)
	assert.True(t, hidden, "no pager with JavaScript")

	// Scrolled to the end (again while the measured rows move the end).
	require.Eventually(t, func() bool {
		last, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(window.scrollTo(0, document.body.scrollHeight), document.querySelectorAll("#tile-VT-150").length)`))
		return err == nil && last == 1
	}, 10*time.Second, 100*time.Millisecond, "the last branch's tile")
	step("scrolled to the end", chromedp.WaitVisible(css(`#tile-VT-150`)))
	assert.Less(t, count(), n)
	gone, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#tile-VT-001").length`))
	require.NoError(t, err)
	assert.Zero(t, gone, "the first rows left the page")

	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`(window.scrollTo(0, 0), true)`))
	require.NoError(t, err)
	step("search", chromedp.SendKeys(css(`#branch-search`), "virtual 77"),
		chromedp.WaitVisible(css(`#tile-VT-077`)))
	require.Eventually(t, func() bool { return count() == 1 }, 5*time.Second, 20*time.Millisecond)
	status, err := chromedp.Run(ctx, chromedp.Text(css(`#tiles-status`)))
	require.NoError(t, err)
	assert.Equal(t, "1 de 150 sucursales coinciden con «virtual 77»", status)

	e.f.Ticket(hqtest.Ticket{Day: today(t), Branch: "VT-077", ID: "vt1", Service: "C", Number: 1, QueuedAt: time.Now()})
	e.f.Notify("VT-077")
	step("live tile", chromedp.WaitVisible(css(`#tile-VT-077[data-waiting="1"]`)))
	require.Eventually(t, func() bool {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#totals tbody tr td[data-k=waiting]")].map(td => td.textContent)`))
		return err == nil && slices.Equal(got, []string{"1", "1"})
	}, 5*time.Second, 20*time.Millisecond, "national and regional totals follow")
}
