package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/eventgen"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
	"github.com/ticketero/ticketero/shared/testkit/pgtest"
)

func TestConfigValidate(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	_, err := ParseServe(nil, env(nil))
	assert.ErrorContains(t, err, "db")
	_, err = ParseServe([]string{"--db", "postgres://x/y", "--mqtt", "tcp://h:1883"}, env(nil))
	assert.ErrorContains(t, err, "scheme")
	_, err = ParseServe([]string{"--db", "postgres://x/y", "--mqtt", "mqtts://h:8883"}, env(nil))
	assert.ErrorContains(t, err, "cert")
	c, err := ParseServe([]string{"--http", ":0"}, env(map[string]string{"TICKETERO_DB": "postgres://x/y",
		"TICKETERO_MQTT": "ssl://h:443", "TICKETERO_MQTT_CERT": "c", "TICKETERO_MQTT_KEY": "k", "TICKETERO_MQTT_CA": "a"}))
	require.NoError(t, err)
	assert.Equal(t, ":0", c.HTTP)
	assert.Equal(t, "ssl://h:443", c.MQTT)

	base := map[string]string{"TICKETERO_DB": "postgres://x/y", "TICKETERO_MQTT": "ssl://h:443", "TICKETERO_MQTT_CERT": "c",
		"TICKETERO_MQTT_KEY": "k", "TICKETERO_MQTT_CA": "a"}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for x, y := range base {
			m[x] = y
		}
		return m
	}
	for name, v := range map[string]string{"TICKETERO_LOG_LEVEL": "loud", "TICKETERO_LOG_FORMAT": "xml"} {
		_, err := ParseServe(nil, env(with(name, v)))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name)
		assert.Contains(t, err.Error(), v)
	}
	c, err = ParseServe([]string{"--log-format", "text"}, env(with("TICKETERO_LOG_LEVEL", "debug")))
	require.NoError(t, err)
	assert.Equal(t, "debug", c.LogLevel)
	assert.Equal(t, "text", c.LogFormat)
	assert.Equal(t, 8, c.SQSReceivers, "default receive loops")
	c, err = ParseServe(nil, env(with("TICKETERO_SQS_RECEIVERS", "3")))
	require.NoError(t, err)
	assert.Equal(t, 3, c.SQSReceivers)
	for _, v := range []string{"0", "65"} {
		_, err = ParseServe(nil, env(with("TICKETERO_SQS_RECEIVERS", v)))
		require.Error(t, err, v)
		assert.Contains(t, err.Error(), "TICKETERO_SQS_RECEIVERS")
	}
	assert.Equal(t, 30*time.Second, c.SQSVisibility, "default visibility timeout")
	c, err = ParseServe([]string{"--sqs-visibility", "2m"}, env(base))
	require.NoError(t, err)
	assert.Equal(t, 2*time.Minute, c.SQSVisibility)
	for _, v := range []string{"1s", "1500ms", "13h"} {
		_, err = ParseServe(nil, env(with("TICKETERO_SQS_VISIBILITY", v)))
		require.Error(t, err, v)
		assert.Contains(t, err.Error(), "TICKETERO_SQS_VISIBILITY")
	}

	// A _FILE that cannot be read, or a bad number, is an error naming the variable.
	good := map[string]string{"TICKETERO_MQTT": "ssl://h:443", "TICKETERO_MQTT_CERT": "c", "TICKETERO_MQTT_KEY": "k", "TICKETERO_MQTT_CA": "a"}
	for name, v := range map[string]string{"TICKETERO_DB_FILE": "/nonexistent/db-url", "TICKETERO_WORKERS": "many", "TICKETERO_NO_MIGRATE": "perhaps"} {
		m := map[string]string{"TICKETERO_DB": "postgres://x/y"}
		if name == "TICKETERO_DB_FILE" {
			delete(m, "TICKETERO_DB")
		}
		for k, x := range good {
			m[k] = x
		}
		m[name] = v
		_, err := ParseServe(nil, env(m))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name)
	}
}

func branchClient(t *testing.T, b *mqtttest.Broker, branch string) paho.Client {
	t.Helper()
	cfg, err := b.PKI.TLSConfig(b.MustBranchCert(t, branch))
	require.NoError(t, err)
	c := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID(branch).SetTLSConfig(cfg))
	tok := c.Connect()
	require.True(t, tok.WaitTimeout(10*time.Second))
	require.NoError(t, tok.Error())
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// testOpsToken is the ops token of the programs these tests start (metrics
// and the sync API need it or an HQ admin).
const testOpsToken = "test-ops-token"

// opsGet GETs url with the ops token: status and body.
func opsGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testOpsToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// getBody GETs url with the ops token and returns the body.
func getBody(t *testing.T, url string) string {
	t.Helper()
	_, b := opsGet(t, url)
	return string(b)
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	status, body := opsGet(t, url)
	if v != nil {
		_ = json.Unmarshal(body, v)
	}
	return status
}

// The real program: consumes batches from the shared subscription, acks after
// commit, refuses bad messages without stopping, and serves the sync API.
func TestServe(t *testing.T) {
	broker := mqtttest.Start(t)
	db := pgtest.New(t)
	m := NewMain(envConfig(t, Config{DB: db, MQTT: broker.URL(), Cert: broker.Cloud.CertFile, Key: broker.Cloud.KeyFile,
		CA: broker.PKI.CAFile, HTTP: "127.0.0.1:0", Workers: 4, OpsToken: testOpsToken}), nil)
	require.NoError(t, m.Run(context.Background()))
	t.Cleanup(func() { _ = m.Close() })
	base := "http://" + m.HTTPAddr()
	require.Eventually(t, func() bool { return getJSON(t, base+"/readyz", nil) == 200 }, 10*time.Second, 50*time.Millisecond)

	c := branchClient(t, broker, "SRV-001")
	acks := make(chan event.Ack, 64)
	require.True(t, c.Subscribe(event.AckTopic("SRV-001"), 1, func(_ paho.Client, msg paho.Message) {
		var a event.Ack
		if event.DecodeMessage(msg.Topic(), msg.Payload(), &a) == nil {
			acks <- a
		}
	}).WaitTimeout(5*time.Second))

	evs := eventgen.New("SRV-001", 1).Take(30)
	publish := func(topic string, payload []byte) {
		require.True(t, c.Publish(topic, 1, false, payload).WaitTimeout(5*time.Second))
	}
	enc := func(branch string, evs []event.Event) []byte {
		b, err := event.EncodeBatch(branch, evs)
		require.NoError(t, err)
		return b
	}
	waitAck := func(seq uint64) event.Ack {
		t.Helper()
		for {
			select {
			case a := <-acks:
				if a.Seq == seq {
					return a
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no ack %d", seq)
			}
		}
	}

	// Bad messages first: refused, counted, nothing acked, the consumer goes on.
	publish(event.EventsTopic("SRV-001"), []byte(`{"v":1,`))
	publish(event.EventsTopic("SRV-001"), []byte(strings.Replace(string(enc("SRV-001", evs[:1])), `"v":1`, `"v":9`, 1)))
	publish(event.EventsTopic("SRV-001"), enc("SRV-999", evs[:1])) // branch differs from topic
	publish(event.EventsTopic("SRV-001"), make([]byte, event.MaxMessageBytes+10))

	publish(event.EventsTopic("SRV-001"), enc("SRV-001", evs[:10]))
	waitAck(10)
	publish(event.EventsTopic("SRV-001"), enc("SRV-001", evs[20:30])) // a gap
	a := waitAck(10)
	assert.Equal(t, uint64(11), a.Gap)
	publish(event.EventsTopic("SRV-001"), enc("SRV-001", evs[10:20]))
	waitAck(30)
	publish(event.EventsTopic("SRV-001"), enc("SRV-001", evs[5:15])) // duplicate: acked again
	waitAck(30)

	var st cloud.BranchSync
	require.Equal(t, 200, getJSON(t, base+"/api/v1/branches/SRV-001/sync", &st))
	assert.Equal(t, uint64(30), st.LastSeq)
	assert.Empty(t, st.Gaps)

	var rows int
	require.NoError(t, m.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE branch='SRV-001'`).Scan(&rows))
	assert.Equal(t, 30, rows)

	metrics := getBody(t, base+"/metrics")
	for _, want := range []string{
		`ticketero_cloud_batches_rejected_total{reason="malformed"} 1`,
		`ticketero_cloud_batches_rejected_total{reason="version"} 1`,
		`ticketero_cloud_batches_rejected_total{reason="branch_mismatch"} 1`,
		`ticketero_cloud_batches_rejected_total{reason="too_large"} 1`,
		`ticketero_cloud_events_ingested_total 30`,
		`ticketero_cloud_gaps_total 1`,
	} {
		assert.Contains(t, metrics, want)
	}

	var p map[string]any
	assert.Equal(t, 404, getJSON(t, base+"/api/v1/branches/NOPE/sync", &p))
	assert.Equal(t, "sync.branch_unknown", p["code"])
	assert.Equal(t, 400, getJSON(t, base+"/api/v1/branches/bad%20id/sync", &p))
	assert.Equal(t, "sync.branch_invalid", p["code"])
	assert.Equal(t, 200, getJSON(t, base+"/api/v1/openapi.json", &p))

	// Config published by HQ reaches the branch, retained.
	require.NoError(t, m.MQTT.PublishConfig(context.Background(), event.Config{Branch: "SRV-001", Version: 2,
		TimeZone: "America/Santiago", Rules: event.DefaultRules()}))
	cfgs := make(chan event.Config, 1)
	c.Subscribe(event.ConfigTopic("SRV-001"), 1, func(_ paho.Client, msg paho.Message) {
		var cf event.Config
		if event.DecodeMessage(msg.Topic(), msg.Payload(), &cf) == nil {
			cfgs <- cf
		}
	})
	select {
	case cf := <-cfgs:
		assert.Equal(t, int64(2), cf.Version)
	case <-time.After(5 * time.Second):
		t.Fatal("retained config not received")
	}
}

// TestAdminSubcommandHelp: --help on user create and token create lists their
// flags (it printed only "flag: help requested"), without touching a database.
func TestAdminSubcommandHelp(t *testing.T) {
	for name, cmd := range map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"user create": userCommand, "token create": tokenCommand} {
		var out, errb bytes.Buffer
		err := cmd(context.Background(), []string{"create", "--help"}, &out, &errb)
		require.ErrorIs(t, err, flag.ErrHelp, name)
		assert.Contains(t, errb.String(), "usage of ticketero-cloud "+name, name)
		assert.Contains(t, errb.String(), "-role", name)
		assert.Contains(t, errb.String(), "-branches", name)
		assert.Empty(t, out.String(), name)
	}
}
