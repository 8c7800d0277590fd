package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// latencies collects request latencies from many goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

func (l *latencies) p(q float64) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	sort.Slice(l.d, func(i, j int) bool { return l.d[i] < l.d[j] })
	i := int(float64(len(l.d))*q+0.999999) - 1
	return float64(l.d[max(i, 0)]) / float64(time.Millisecond)
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
}

func issue(c *http.Client, base, key string) (time.Duration, error) {
	start := time.Now()
	req, _ := http.NewRequest("POST", base+"/api/v1/tickets", strings.NewReader(`{"service":"C","rut":"12.345.678-5"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 201 {
		return 0, fmt.Errorf("status %d", res.StatusCode)
	}
	return time.Since(start), nil
}

// BenchmarkIssueHTTP: durable ticket issue over HTTP on loopback from 32
// concurrent kiosk connections (sustained throughput; group commit).
func BenchmarkIssueHTTP(b *testing.B) {
	m := MustMain(b)
	base := "http://" + m.Addr
	c := benchClient()
	var lat latencies
	var seq atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d, err := issue(c, base, strconv.FormatInt(seq.Add(1), 10))
			if err != nil {
				b.Error(err)
				return
			}
			lat.add(d)
		}
	})
	el := time.Since(start)
	b.ReportMetric(float64(b.N)/el.Seconds(), "tickets/s")
	b.ReportMetric(lat.p(0.50), "p50_ms")
	b.ReportMetric(lat.p(0.99), "p99_ms")
}

// BenchmarkIssueHTTPAt200: the same issue paced at 200 requests/s (each
// request on schedule in its own goroutine), for the latency at a steady load.
func BenchmarkIssueHTTPAt200(b *testing.B) {
	m := MustMain(b)
	base := "http://" + m.Addr
	c := benchClient()
	var lat latencies
	var wg sync.WaitGroup
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		<-tick.C
		wg.Go(func() {
			d, err := issue(c, base, "p"+strconv.Itoa(i))
			if err != nil {
				b.Error(err)
				return
			}
			lat.add(d)
		})
	}
	wg.Wait()
	b.ReportMetric(lat.p(0.50), "p50_ms")
	b.ReportMetric(lat.p(0.99), "p99_ms")
}

// BenchmarkCallNext500: call-next over HTTP with 500 tickets waiting (the
// called ticket is requeued after each call, outside the timing, so 500 keep
// waiting).
func BenchmarkCallNext500(b *testing.B) {
	m := MustMain(b)
	c := newClient(b, m.Addr)
	hc := benchClient()
	for i := range 500 {
		prio := "normal"
		if i%4 == 0 {
			prio = "preferential"
		}
		svc := []string{"C", "P"}[i%2]
		if r := c.do("POST", "/api/v1/tickets", `{"service":"`+svc+`","priority":"`+prio+`"}`); r.status != 201 {
			b.Fatal(r.status)
		}
	}
	ana := c.login("E01", 1)
	var lat latencies
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		req, _ := http.NewRequest("POST", c.base+"/api/v1/counters/1/call-next", nil)
		req.Header.Set("Authorization", "Bearer "+ana.tok)
		res, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var tk struct{ ID string }
		err = jsonDecode(res, &tk)
		res.Body.Close()
		lat.add(time.Since(start))
		if err != nil || res.StatusCode != 200 {
			b.Fatal(res.StatusCode, err)
		}
		b.StopTimer()
		if r := ana.do("POST", "/api/v1/tickets/"+tk.ID+"/requeue", ""); r.status != 200 {
			b.Fatal(r.status)
		}
		b.StartTimer()
	}
	b.ReportMetric(lat.p(0.50), "p50_ms")
	b.ReportMetric(lat.p(0.99), "p99_ms")
}

// BenchmarkStartup: Main.Run to listening, on a new data directory and on
// one with 5,000 tickets of today.
func BenchmarkStartup(b *testing.B) {
	for _, name := range []string{"new", "existing"} {
		b.Run(name, func(b *testing.B) {
			data := b.TempDir()
			if name == "existing" {
				m := NewMain()
				m.Config.Data, m.Config.HTTP, m.Stdout = data, "127.0.0.1:0", io.Discard
				if err := m.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
				c := benchClient()
				var wg sync.WaitGroup
				for k := range 10 {
					wg.Go(func() {
						for i := range 500 {
							if _, err := issue(c, "http://"+m.Addr, fmt.Sprintf("%d-%d", k, i)); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				_ = m.Close()
			}
			var total time.Duration
			b.ResetTimer()
			for i := range b.N {
				dir := data
				if name == "new" {
					dir = filepath.Join(data, strconv.Itoa(i))
				}
				m := NewMain()
				m.Config.Data, m.Config.HTTP, m.Stdout = dir, "127.0.0.1:0", io.Discard
				start := time.Now()
				if err := m.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
				b.StopTimer()
				_ = m.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(total)/float64(b.N)/float64(time.Millisecond), "startup_ms")
		})
	}
}

// BenchmarkIdleRSS: resident memory of the real binary, idle after start-up
// and after serving 2,000 tickets.
func BenchmarkIdleRSS(b *testing.B) {
	bin := MustBinary(b)
	for range b.N {
		data := b.TempDir()
		cmd, addr := startAgent(b, bin, data)
		time.Sleep(500 * time.Millisecond)
		idle := rssMB(b, cmd.Process.Pid)
		c := benchClient()
		var wg sync.WaitGroup
		for k := range 8 {
			wg.Go(func() {
				for i := range 250 {
					if _, err := issue(c, "http://"+addr, fmt.Sprintf("%d-%d", k, i)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		time.Sleep(500 * time.Millisecond)
		after := rssMB(b, cmd.Process.Pid)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		b.ReportMetric(idle, "idle_rss_MB")
		b.ReportMetric(after, "rss_after_2000_MB")
	}
}

func rssMB(tb testing.TB, pid int) float64 {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	tb.Fatal("no VmRSS")
	return 0
}
