package booking_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/booking"
	"github.com/ticketero/ticketero/shared/clientip"
)

// BenchmarkBookingPage1000: 1,000 customers at once on the booking page of
// a real server over a seeded PostgreSQL book (5 branches, a popular day):
// each loads the day's slots (the HTML page: bookable branches and the
// day's slots with their free places), opens one slot's form and books it
// (the form POST with its CSRF token: the slot's row lock, the capacity
// count, the booking and its command in one transaction), from its own address (the default per-address
// budgets apply, read through a trusted proxy's X-Forwarded-For). It reports
// the p50 and p99 of each request kind. One iteration is one wave of 1,000
// customers: run with -benchtime 1x (docs/performance.md "Booking page").
// The store has the cloud's RUT keys, as in production: a booking keeps the
// keyed HMAC of the RUT and the RUT sealed to the cloud's key; the check-in
// hash (argon2id, ~20 ms of CPU) is computed when the command is first
// published (postgres/appt commands.go), off the request path, and is not
// part of these figures.
func BenchmarkBookingPage1000(b *testing.B) {
	// About 4 minutes: not part of make bench's 10-minute budget.
	if os.Getenv("TICKETERO_BENCH_BOOKING") == "" {
		b.Skip("set TICKETERO_BENCH_BOOKING=1 (about 4 minutes; docs/performance.md, \"Booking page\")")
	}
	// burst: all 1,000 at the same instant; over-20s and over-1m40s: they
	// arrive evenly over 20 s (50 a second) or 100 s (10 a second) and go
	// through without pause.
	for _, spread := range []time.Duration{0, 20 * time.Second, 100 * time.Second} {
		name := "burst"
		if spread > 0 {
			name = "over-" + spread.String()
		}
		b.Run(name, func(b *testing.B) { benchBooking(b, spread) })
	}
}

func benchBooking(b *testing.B, spread time.Duration) {
	const customers, branches = 1000, 5
	e := newEnv(b, envOpt{executives: 10, branches: branches})
	// The production handler: default budgets, client address from one proxy.
	h, err := booking.New(booking.Config{Appointments: e.store, Proxy: clientip.Proxy{Hops: 1}})
	require.NoError(b, err)
	e.srv.Config.Handler = h
	day := e.tomorrow()
	tr := &http.Transport{MaxIdleConns: customers, MaxIdleConnsPerHost: customers, MaxConnsPerHost: customers}
	defer tr.CloseIdleConnections()
	slotRE := regexp.MustCompile(`reservar\?inicio=([0-9]+)`)
	tokRE := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	var rutBase int
	b.ResetTimer()
	for n := range b.N {
		var mu sync.Mutex
		var slotsLat, bookLat []time.Duration
		fails := 0
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for i := range customers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				jar, _ := cookiejar.New(nil)
				c := &http.Client{Transport: tr, Jar: jar, Timeout: 30 * time.Second,
					CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				ip := fmt.Sprintf("10.%d.%d.%d", n%250, i/250, i%250+1)
				branch := fmt.Sprintf("B-%04d", i%branches+1)
				do := func(req *http.Request) (int, string, time.Duration) {
					req.Header.Set("X-Forwarded-For", ip)
					t0 := time.Now()
					res, err := c.Do(req)
					if err != nil {
						return 0, "", time.Since(t0)
					}
					body, _ := io.ReadAll(res.Body)
					res.Body.Close()
					return res.StatusCode, string(body), time.Since(t0)
				}
				<-gate
				time.Sleep(spread * time.Duration(i) / customers)
				req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/agenda/sucursal/"+branch+"/C?dia="+day, nil)
				st, page, d1 := do(req)
				slots := slotRE.FindAllStringSubmatch(page, -1)
				var tok []string
				if st == 200 && len(slots) > 0 {
					// The slot's form (RUT and note) carries the CSRF token.
					slot := slots[(i/branches)%len(slots)][1]
					req, _ = http.NewRequest(http.MethodGet, e.srv.URL+"/agenda/sucursal/"+branch+"/C/reservar?inicio="+slot, nil)
					if st, page, _ = do(req); st == 200 {
						tok = tokRE.FindStringSubmatch(page)
					}
				}
				if tok == nil {
					mu.Lock()
					if fails == 0 {
						b.Logf("first failure: status %d: %.300s", st, page)
					}
					fails++
					slotsLat = append(slotsLat, d1)
					mu.Unlock()
					return
				}
				form := url.Values{"csrf": {tok[1]}, "inicio": {slots[(i/branches)%len(slots)][1]},
					"rut": {rutOf(10_000_000 + rutBase + i)}}
				req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/agenda/sucursal/"+branch+"/C/reservar",
					strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				st, page, d2 := do(req)
				mu.Lock()
				defer mu.Unlock()
				if st != http.StatusSeeOther && fails == 0 {
					b.Logf("first failed booking: status %d after %s: %.200s", st, d2, page)
				}
				slotsLat, bookLat = append(slotsLat, d1), append(bookLat, d2)
				if st != http.StatusSeeOther {
					fails++
				}
			}()
		}
		close(gate)
		wg.Wait()
		rutBase += customers
		if fails > 0 {
			b.Logf("wave %d: %d customers not booked (full slots after earlier waves, or errors)", n, fails)
		}
		b.ReportMetric(pct(slotsLat, 50), "slots-p50-ms")
		b.ReportMetric(pct(slotsLat, 99), "slots-p99-ms")
		b.ReportMetric(pct(bookLat, 50), "book-p50-ms")
		b.ReportMetric(pct(bookLat, 99), "book-p99-ms")
		b.ReportMetric(float64(len(bookLat)-fails), "booked")
	}
	b.StopTimer()
	b.Logf("bookings stored: %d", e.count(`SELECT count(*) FROM appt_bookings`))
}

// pct is the p-th percentile of ds in milliseconds.
func pct(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := min(len(s)-1, (len(s)*p+99)/100-1)
	return float64(s[max(0, i)].Microseconds()) / 1000
}
