package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	"github.com/chromedp/chromedp"
	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
)

// mqttFloor is Mosquitto's QoS 1 publish → receipt time through the same
// broker (mTLS), 300 messages one at a time.
func mqttFloor(b *mqtttest.Broker) (p50, p99 float64, err error) {
	connect := func(id string, c mqtttest.Cert) (paho.Client, error) {
		tc, err := b.PKI.TLSConfig(c)
		if err != nil {
			return nil, err
		}
		cl := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID(id).SetTLSConfig(tc))
		if t := cl.Connect(); !t.WaitTimeout(10*time.Second) || t.Error() != nil {
			return nil, fmt.Errorf("connect %s: %v", id, t.Error())
		}
		return cl, nil
	}
	sub, err := connect("floor-sub", b.Cloud)
	if err != nil {
		return 0, 0, err
	}
	defer sub.Disconnect(100)
	bc, err := b.BranchCert("FLOOR-1")
	if err != nil {
		return 0, 0, err
	}
	pub, err := connect("FLOOR-1", bc)
	if err != nil {
		return 0, 0, err
	}
	defer pub.Disconnect(100)
	got := make(chan time.Time, 1)
	topic := "ticketero/v1/branches/FLOOR-1/events"
	if t := sub.Subscribe(topic, 1, func(paho.Client, paho.Message) { got <- time.Now() }); !t.WaitTimeout(10*time.Second) || t.Error() != nil {
		return 0, 0, fmt.Errorf("subscribe: %v", t.Error())
	}
	var d []float64
	for range 300 {
		t0 := time.Now()
		pub.Publish(topic, 1, false, []byte(`{}`))
		select {
		case t1 := <-got:
			d = append(d, float64(t1.Sub(t0).Microseconds())/1000)
		case <-time.After(5 * time.Second):
			return 0, 0, fmt.Errorf("message lost")
		}
	}
	sort.Float64s(d)
	return d[len(d)/2], d[len(d)*99/100], nil
}

// pgFloor is PostgreSQL's single-row autocommit insert rate (2,000 rows).
func pgFloor(ctx context.Context, pool *pgxpool.Pool) (float64, error) {
	if _, err := pool.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS floor (id int, v text)`); err != nil {
		return 0, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS fleet_floor (id int, v text)`); err != nil {
		return 0, err
	}
	defer conn.Exec(context.Background(), `DROP TABLE fleet_floor`) //nolint:errcheck
	const n = 2000
	t0 := time.Now()
	for i := range n {
		if _, err := conn.Exec(ctx, `INSERT INTO fleet_floor VALUES ($1, 'x')`, i); err != nil {
			return 0, err
		}
	}
	return n / time.Since(t0).Seconds(), nil
}

// overview times HQ's overview for an admin at this many branches: the
// server's whole HTML answer (median of 5), and Chromium's first contentful
// paint of the page.
func overview(ctx context.Context, addr string, pool *pgxpool.Pool, chromium string) (htmlMS float64, size int, fcpMS float64, err error) {
	tok, err := hq.New(pool, time.Now).CreateToken(ctx, "fleet-bench", cloud.RoleAdmin, nil, nil)
	if err != nil {
		return 0, 0, 0, err
	}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}}}
	var ds []float64
	for range 5 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		t0 := time.Now()
		res, err := c.Do(req)
		if err != nil {
			return 0, 0, 0, err
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return 0, 0, 0, fmt.Errorf("overview: HTTP %d", res.StatusCode)
		}
		ds = append(ds, float64(time.Since(t0).Microseconds())/1000)
		size = len(b)
	}
	sort.Float64s(ds)
	htmlMS = ds[len(ds)/2]
	if chromium == "" {
		return htmlMS, size, 0, nil
	}
	email, pw := "fleet@bench.cl", "fleet-bench-password-1" // #nosec G101 -- a bench user of the simulator's own database, not a secret
	if _, err := hq.New(pool, time.Now).CreateUser(ctx, cloud.NewUser{Email: email, Password: pw, Role: cloud.RoleAdmin}); err != nil {
		return htmlMS, size, 0, err
	}
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(chromium), chromedp.Flag("headless", true), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true)}
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelA()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(bctx); err != nil {
		return htmlMS, size, 0, err
	}
	tctx, cancelT := context.WithTimeout(bctx, 90*time.Second)
	defer cancelT()
	if err := chromedp.Do(tctx, chromedp.Navigate("http://"+addr+"/login"), chromedp.WaitVisible(chromedp.CSS(`#email`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), email), chromedp.SendKeys(chromedp.CSS(`#password`), pw),
		chromedp.Click(chromedp.CSS(`#signin`)), chromedp.WaitVisible(chromedp.CSS(`#totals`))); err != nil {
		return htmlMS, size, 0, fmt.Errorf("sign in: %w", err)
	}
	// A fresh navigation to the overview, signed in: its first contentful paint.
	if err := chromedp.Do(tctx, chromedp.Navigate("http://"+addr+"/"), chromedp.WaitVisible(chromedp.CSS(`#totals`))); err != nil {
		return htmlMS, size, 0, err
	}
	fcp, err := chromedp.Run(tctx, chromedp.Evaluate[float64](
		`(() => { const e = performance.getEntriesByName('first-contentful-paint')[0];
			return e ? e.startTime : performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd })()`))
	return htmlMS, size, fcp, err
}
