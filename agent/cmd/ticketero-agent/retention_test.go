package main

import (
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRetentionRealProgram: serve anonymises tickets older than
// --retention-days at start, and keeps recent ones.
func TestRetentionRealProgram(t *testing.T) {
	data := t.TempDir()
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 2, 14, 0, 0, 0, time.UTC).UnixNano())
	start := func() *Main {
		m := NewMain()
		m.Config.Data, m.Config.HTTP, m.Config.LogLevel, m.Stdout = data, "127.0.0.1:0", "warn", io.Discard
		m.Now = func() time.Time { return time.Unix(0, now.Load()).UTC() }
		require.NoError(t, m.Run(context.Background()))
		return m
	}
	m := start()
	c := newClient(t, m.Addr)
	require.Equal(t, 201, c.do("POST", "/api/v1/tickets", `{"service":"C","rut":"12.345.678-5"}`).status)
	require.NoError(t, m.Close())

	now.Add(int64(10 * 24 * time.Hour)) // 10 days later, within the retention
	m = start()
	c = newClient(t, m.Addr)
	require.Equal(t, 201, c.do("POST", "/api/v1/tickets", `{"service":"C","rut":"12.345.678-5"}`).status)
	require.NoError(t, m.Close())

	now.Add(int64(25 * 24 * time.Hour)) // the first day is now 35 days old, the second 25
	m = start()
	t.Cleanup(func() { assert.NoError(t, m.Close()) })
	withRUT := func() (days []string) {
		rows, err := m.Store.DB().Query("SELECT day FROM tickets WHERE rut_enc IS NOT NULL OR rut_hash <> '' ORDER BY day")
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			var d string
			require.NoError(t, rows.Scan(&d))
			days = append(days, d)
		}
		return days
	}
	require.Eventually(t, func() bool { return len(withRUT()) == 1 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, []string{"2026-11-12"}, withRUT())
	var n int
	require.NoError(t, m.Store.DB().QueryRow("SELECT count(*) FROM tickets").Scan(&n))
	assert.Equal(t, 2, n, "tickets stay")
}

func TestRetentionConfig(t *testing.T) {
	c := DefaultConfig()
	assert.Equal(t, 30, c.Retention.Days)
	require.NoError(t, c.Parse(nil, func(k string) string {
		return map[string]string{"TICKETERO_RETENTION_DAYS": "90"}[k]
	}, io.Discard))
	assert.Equal(t, 90, c.Retention.Days)
	for _, bad := range []struct{ args, env []string }{
		{args: []string{"--retention-days", "0"}}, {args: []string{"--retention-days", "x"}},
		{env: []string{"TICKETERO_RETENTION_DAYS", "soon"}}, {args: []string{"--retention-days", "5000"}},
	} {
		c := DefaultConfig()
		err := c.Parse(bad.args, func(k string) string {
			if len(bad.env) == 2 && k == bad.env[0] {
				return bad.env[1]
			}
			return ""
		}, io.Discard)
		require.Error(t, err, bad)
		assert.True(t, strings.Contains(err.Error(), "retention-days"), err.Error())
	}
}
