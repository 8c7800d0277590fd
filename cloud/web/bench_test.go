package web_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
	"github.com/ticketero/ticketero/cloud/web"
)

const (
	benchBranches = 500
	benchRegions  = 16
	benchTickets  = 60 // per branch today: 12 waiting, 4 being served, the rest done
)

func benchBranch(i int) string { return fmt.Sprintf("PB-%04d", i) }

// seedNetwork writes size branches (PB-0001...) with a busy day each (60
// tickets, 4 executives: 30,000 tickets and 2,000 executives at 500) with
// COPY, adding to those a previous call wrote.
func seedNetwork(tb testing.TB, store *hq.Store, size int) {
	tb.Helper()
	ctx := context.Background()
	pool := store.Pool()
	var n int
	require.NoError(tb, pool.QueryRow(ctx, `SELECT count(*) FROM branches WHERE id LIKE 'PB-%'`).Scan(&n))
	if n >= size {
		return
	}
	now := time.Now()
	day := now.In(mustLocTB(tb)).Format(time.DateOnly)
	var branches, syncs, tickets, execs [][]any
	for i := n + 1; i <= size; i++ {
		b := benchBranch(i)
		branches = append(branches, []any{b, "Sucursal " + strconv.Itoa(i), fmt.Sprintf("R%02d", i%benchRegions+1)})
		syncs = append(syncs, []any{b, int64(benchTickets * 4), int64(benchTickets * 4), now, now, true, int64(0), int64(1)})
		for e := 1; e <= 4; e++ {
			state := "available"
			if e == 4 {
				state = "paused"
			}
			execs = append(execs, []any{b, fmt.Sprintf("E%d", e), "Ejecutivo", e, state, now.Add(-time.Hour)})
		}
		for k := 1; k <= benchTickets; k++ {
			q := now.Add(-time.Duration(benchTickets-k+1) * 3 * time.Minute)
			status := "done"
			var called, started, ended *time.Time
			c, s, en := q.Add(time.Duration(k%15)*time.Minute), q.Add(time.Duration(k%15)*time.Minute+30*time.Second), q.Add(time.Duration(k%15+6)*time.Minute)
			switch {
			case k > benchTickets-12:
				status = "waiting"
			case k > benchTickets-16:
				status, called, started = "serving", &c, &s
			default:
				called, started, ended = &c, &s, &en
			}
			tickets = append(tickets, []any{b, fmt.Sprintf("t%d", k), day, "C", k, "C", "normal", status, 1, "E1",
				q, q, called, started, ended, int64(k), 600, 900})
		}
	}
	_, err := pool.CopyFrom(ctx, pgx.Identifier{"branches"}, []string{"id", "name", "region"}, pgx.CopyFromRows(branches))
	require.NoError(tb, err)
	_, err = pool.CopyFrom(ctx, pgx.Identifier{"branch_sync"}, []string{"branch", "applied_seq", "max_seq", "last_event_at", "last_ingest_at", "online", "backlog", "config_version"}, pgx.CopyFromRows(syncs))
	require.NoError(tb, err)
	_, err = pool.CopyFrom(ctx, pgx.Identifier{"executive_sessions"}, []string{"branch", "executive", "name", "counter", "state", "since"}, pgx.CopyFromRows(execs))
	require.NoError(tb, err)
	_, err = pool.CopyFrom(ctx, pgx.Identifier{"tickets"}, []string{"branch", "id", "day", "origin_service", "number", "service", "priority", "status", "counter", "executive",
		"queued_at", "created_at", "called_at", "started_at", "ended_at", "last_seq", "quoted_typical_s", "quoted_upper_s"}, pgx.CopyFromRows(tickets))
	require.NoError(tb, err)
	_, err = pool.Exec(ctx, `ANALYZE`)
	require.NoError(tb, err)
}

func mustLocTB(tb testing.TB) *time.Location {
	l, err := time.LoadLocation("America/Santiago")
	require.NoError(tb, err)
	return l
}

// benchEnv seeds size branches, then starts a handler (cache mode, as in
// production) and waits until its tile cache holds them.
func benchEnv(b *testing.B, size int) (*hq.Store, *web.Handler, func()) {
	pool := hqtest.MustPool(b, dsn)
	store := hq.New(pool, time.Now)
	store.BcryptCost = bcrypt.MinCost
	seedNetwork(b, store, size)
	h, err := web.New(web.Config{Store: store, Changes: &postgres.Listener{Pool: pool, Channel: cloud.ChangesChannel}, Boxes: postgres.Releases{Pool: pool}.Boxes, FlushEvery: 20 * time.Millisecond, RefreshEvery: time.Hour})
	require.NoError(b, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = h.Run(ctx); close(done) }()
	deadline := time.Now().Add(time.Minute)
	for !h.Hub().CacheReady() {
		if time.Now().After(deadline) {
			b.Fatal("tile cache not ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return store, h, func() { cancel(); <-done }
}

// sessionCookie signs a user in through the store and returns its cookie.
func sessionCookie(b *testing.B, store *hq.Store, email, role string, regions []string) string {
	ctx := context.Background()
	if _, err := store.CreateUser(ctx, cloud.NewUser{Email: email, Password: "benchmark-pass", Role: cloud.Role(role), Regions: regions}); err != nil && !strings.Contains(err.Error(), "hq.user.exists") {
		b.Fatal(err)
	}
	p, err := store.Authenticate(ctx, email, "benchmark-pass")
	require.NoError(b, err)
	tok, _, err := store.CreateSession(ctx, p.UserID, "127.0.0.1")
	require.NoError(b, err)
	return "ticketero_session=" + tok
}

// BenchmarkOverview500 measures the national overview for 500 branches
// (30,000 tickets today): the query alone and the rendered page (totals of
// all 500, the first page of 48 tiles from the tile cache; app.js fetches
// the rest from /tiles as they scroll into view, BenchmarkOverview5000).
func BenchmarkOverview500(b *testing.B) {
	store, h, stop := benchEnv(b, benchBranches)
	defer stop()
	ctx := context.Background()
	b.Run("query", func(b *testing.B) {
		for b.Loop() {
			tiles, err := store.Overview(ctx, cloud.AllBranches, cloud.OverviewFilter{})
			if err != nil || len(tiles) < benchBranches {
				b.Fatalf("overview: %d tiles, %v", len(tiles), err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/overview")
	})
	b.Run("page", func(b *testing.B) {
		cookie := sessionCookie(b, store, "bench-admin@bank.cl", "admin", nil)
		var size int
		for b.Loop() {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Cookie", cookie)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="tile-PB-0048"`) {
				b.Fatalf("page: %d %.300s", rec.Code, rec.Body.String())
			}
			size = rec.Body.Len()
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/page")
		b.ReportMetric(float64(size)/1024, "KB/page")
	})
}

// dialLive opens one raw SSE connection to path (the way a browser's
// EventSource does) and registers it for closing.
func dialLive(b *testing.B, addr, path, cookie string, conns *[]net.Conn) net.Conn {
	c, err := net.Dial("tcp", addr)
	require.NoError(b, err)
	*conns = append(*conns, c)
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nAccept: text/event-stream\r\n\r\n", path, addr, cookie)
	return c
}

// tileWaiting reads the waiting count of branch's tile from one SSE line;
// ok is false when the line is not that tile.
func tileWaiting(line, branch string) (n int, ok bool) {
	if !strings.HasPrefix(line, "data: ") || !strings.Contains(line, `"id":"`+branch+`"`) {
		return 0, false
	}
	k := strings.Index(line, `data-waiting=\"`)
	if k < 0 {
		return 0, false
	}
	line = line[k+len(`data-waiting=\"`):]
	n, _ = strconv.Atoi(line[:strings.IndexByte(line, '\\')])
	return n, true
}

// BenchmarkLive1000 connects 1,000 live browsers (SSE, supervisors of one
// region of ~31 branches) to one instance; each iteration issues a ticket at a
// branch (ingest rows + NOTIFY) and waits until every browser has the new
// tile. It reports the change-to-last-browser latency.
func BenchmarkLive1000(b *testing.B) {
	const clients = 1000
	store, h, stop := benchEnv(b, benchBranches)
	defer stop()
	srv := httptest.NewServer(h)
	defer srv.Close()
	cookie := sessionCookie(b, store, "bench-sup@bank.cl", "supervisor", []string{"R02"})
	addr := strings.TrimPrefix(srv.URL, "http://")
	const branch = "PB-0001" // region R02
	seen := make(chan int, clients*4)
	var wg sync.WaitGroup
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	}()
	ready := make(chan struct{}, clients)
	for i := 0; i < clients; i++ {
		c := dialLive(b, addr, "/live", cookie, &conns)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := bufio.NewReaderSize(c, 64<<10)
			first := true
			for {
				line, err := r.ReadSlice('\n')
				if err != nil {
					return
				}
				n, ok := tileWaiting(string(line), branch)
				if !ok {
					continue
				}
				if first {
					first = false
					ready <- struct{}{}
				}
				seen <- n
			}
		}()
	}
	for range clients {
		select {
		case <-ready:
		case <-time.After(60 * time.Second):
			b.Fatal("clients did not get their snapshot")
		}
	}
	for len(seen) > 0 {
		<-seen
	}
	require.Equal(b, clients, h.Hub().Clients())
	pool := store.Pool()
	ctx := context.Background()
	var waiting int
	require.NoError(b, pool.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE branch = $1 AND status = 'waiting'`, branch).Scan(&waiting))
	var lat []time.Duration
	var num int
	require.NoError(b, pool.QueryRow(ctx, `SELECT coalesce(max(number), 0) FROM tickets WHERE branch = $1`, branch).Scan(&num))
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	day := time.Now().In(mustLocTB(b)).Format(time.DateOnly)
	for b.Loop() {
		num++
		waiting++
		start := time.Now()
		_, err := pool.Exec(ctx, `WITH t AS (INSERT INTO tickets (branch, id, day, origin_service, number, service, priority, status, queued_at, created_at, last_seq)
			VALUES ($1, $2, $3, 'C', $4, 'C', 'normal', 'waiting', now(), now(), 0)) SELECT pg_notify('ticketero_changes', $1)`,
			branch, "live-"+run+"-"+strconv.Itoa(num), day, num)
		require.NoError(b, err)
		got := 0
		timeout := time.After(10 * time.Second)
		for got < clients {
			select {
			case n := <-seen:
				if n == waiting {
					got++
				}
			case <-timeout:
				b.Fatalf("only %d of %d browsers got the change", got, clients)
			}
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms/change-to-all")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms/change-to-all")
	b.ReportMetric(clients, "browsers")
	_ = url.Values{}
}
