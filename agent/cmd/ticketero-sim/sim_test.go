package main

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/queue"
)

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"--agent", "SCL-001=http://127.0.0.1:8081/", "--agent", "VAL-001=http://127.0.0.1:8082",
		"--executives", "E01:1111,E02:2222", "--proxy", "VAL-001=127.0.0.1:0>127.0.0.1:8883", "--wan-outage", "VAL-001@2h+20m"})
	require.NoError(t, err)
	assert.Equal(t, []string{"SCL-001", "VAL-001"}, cfg.Order)
	assert.Equal(t, "http://127.0.0.1:8081", cfg.Agents["SCL-001"])
	assert.Equal(t, []Credential{{"E01", "1111"}, {"E02", "2222"}}, cfg.Executives)
	assert.Equal(t, Outage{Branch: "VAL-001", At: 2 * time.Hour, For: 20 * time.Minute}, cfg.WAN[0])

	for _, bad := range [][]string{
		{},
		{"--agent", "nourl"},
		{"--agent", "A=http://x", "--executives", "E01"},
		{"--agent", "A=http://x", "--speed", "0"},
		{"--agent", "A=http://x", "--wan-outage", "A@x+y"},
	} {
		_, err := parseFlags(bad)
		assert.Error(t, err, bad)
	}
}

func TestRandomRUTValid(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		s := randomRUT(rng)
		_, err := queue.ParseRUT(s)
		require.NoError(t, err, s)
	}
}

// TestArrivalShape checks the day has its two peaks above the quiet hours.
func TestArrivalShape(t *testing.T) {
	assert.Greater(t, intensity(1.5), 1.8*intensity(3.0), "morning peak")
	assert.Greater(t, intensity(4.5), 2.0*intensity(7.5), "lunch peak")
}

func TestProxyCut(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c) }()
		}
	}()
	free, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := free.Addr().String()
	free.Close()
	p := &Proxy{Branch: "VAL-001", Listen: addr, Upstream: echo.Addr().String()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = p.Serve(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))) }()

	var c net.Conn
	require.Eventually(t, func() bool { c, err = net.Dial("tcp", addr); return err == nil }, 2*time.Second, 10*time.Millisecond)
	_, err = c.Write([]byte("hola"))
	require.NoError(t, err)
	buf := make([]byte, 4)
	_, err = io.ReadFull(c, buf)
	require.NoError(t, err)
	assert.Equal(t, "hola", string(buf))

	p.SetDown(true)
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = c.Read(buf)
	assert.Error(t, err, "cut closes open connections")
	c2, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	_ = c2.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = c2.Read(buf)
	assert.Error(t, err, "new connections are refused while down")

	p.SetDown(false)
	c3, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	_, _ = c3.Write([]byte("back"))
	_ = c3.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = io.ReadFull(c3, buf)
	require.NoError(t, err)
	assert.Equal(t, "back", string(buf))
}
