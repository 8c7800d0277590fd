package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

// TestBrowserLiveFromRunningAgent is the whole path: a real ticketero-agent
// (built here) issues a ticket over its LAN API, its relay publishes over
// Mosquitto (mTLS), the real cloud ingests it into PostgreSQL and NOTIFYs, and
// a supervisor's chromium sees the branch tile change.
func TestBrowserLiveFromRunningAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: skipped with -short")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not found")
		}
		t.Skip("chromium not found at /usr/bin/chromium")
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "./agent/cmd/ticketero-agent")
	build.Dir = filepath.Join("..", "..", "..")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	agentBin := filepath.Join(bin, "ticketero-agent")

	broker := mqtttest.Start(t)
	db := pgtest.New(t)
	m := NewMain(envConfig(t, Config{DB: db, MQTT: broker.URL(), Cert: broker.Cloud.CertFile, Key: broker.Cloud.KeyFile,
		CA: broker.PKI.CAFile, HTTP: "127.0.0.1:0", Workers: 2}), nil)
	require.NoError(t, m.Run(context.Background()))
	t.Cleanup(func() { _ = m.Close() })
	base := "http://" + m.HTTPAddr()

	ctx := context.Background()
	store := hq.New(m.Pool, time.Now)
	store.BcryptCost = bcrypt.MinCost
	require.NoError(t, store.PutBranch(ctx, cloud.BranchInput{ID: "E2E-001", Name: "Extremo", Region: "E2E", TimeZone: "America/Santiago"}))
	_, err = store.CreateUser(ctx, cloud.NewUser{Email: "sup@e2e.cl", Password: "e2e-password", Role: cloud.RoleSupervisor, Regions: []string{"E2E"}})
	require.NoError(t, err)

	data := t.TempDir()
	cert := broker.MustBranchCert(t, "E2E-001")
	agentCtx, stopAgent := context.WithCancel(ctx)
	agent := exec.CommandContext(agentCtx, agentBin, "serve", "--branch", "E2E-001", "--data", data, "--http", "127.0.0.1:0",
		"--mqtt", broker.URL(), "--cert", cert.CertFile, "--key", cert.KeyFile, "--ca", broker.PKI.CAFile)
	var agentLog bytes.Buffer
	agent.Stdout, agent.Stderr = &agentLog, &agentLog
	require.NoError(t, agent.Start())
	t.Cleanup(func() {
		stopAgent()
		_ = agent.Wait()
		if t.Failed() {
			t.Logf("agent log:\n%s", agentLog.String())
		}
	})
	var api string
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(filepath.Join(data, "http.addr"))
		api = "http://" + strings.TrimSpace(string(b))
		return err == nil && len(b) > 0
	}, 60*time.Second, 50*time.Millisecond, "agent did not start")

	actx, cancelA := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath("/usr/bin/chromium"), chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("accept-lang", "es-CL,es"))
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	require.NoError(t, chromedp.Do(bctx))
	step := func(within time.Duration, a ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(bctx, within)
		defer cancel()
		if err := chromedp.Do(sctx, a...); err != nil {
			html, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
			t.Fatalf("%v\n%s", err, html)
		}
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	step(20*time.Second,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(css(`#email`)),
		chromedp.SendKeys(css(`#email`), "sup@e2e.cl"),
		chromedp.SendKeys(css(`#password`), "e2e-password"),
		chromedp.Click(css(`#signin`)),
		chromedp.WaitVisible(css(`#tile-E2E-001[data-waiting="0"]`)),
		chromedp.WaitReady(css(`body[data-live="on"]`)))
	// The agent's status reaches the cloud: the tile shows it online.
	step(20*time.Second, chromedp.WaitReady(chromedp.Search(`//article[@id="tile-E2E-001"]//dd[@class="agent" and contains(., "en línea")]`)))

	start := time.Now()
	res, err := http.Post(api+"/api/v1/tickets", "application/json", strings.NewReader(`{"service":"C"}`))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode)
	step(10*time.Second, chromedp.WaitVisible(css(`#tile-E2E-001[data-waiting="1"]`)))
	t.Logf("ticket issued at the agent → tile changed in the browser: %v", time.Since(start))
}
