package http_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent/web"
)

// get asks ts for path with Accept-Encoding set by hand, so the client does
// not decompress behind the test's back.
func getEncoded(t *testing.T, ts *httptest.Server, path, accept string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", ts.URL+path, nil)
	require.NoError(t, err)
	if accept != "" {
		req.Header.Set("Accept-Encoding", accept)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err)
	defer res.Body.Close()
	if res.Header.Get("Content-Type") == "text/event-stream" {
		return res, nil
	}
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, b
}

func gunzip(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return string(out)
}

// TestCompression: pages, scripts, styles, JSON and problems are gzipped for
// a client that asks (Lighthouse's uses-text-compression), sent plain to one
// that does not; the live stream is never compressed (it must flush event by
// event); a revalidation still answers 304.
func TestCompression(t *testing.T) {
	ui, err := web.Handler(web.Options{BotName: "SucursalBot"})
	require.NoError(t, err)
	srv, _ := MustServer(t, ui)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	res, page := getEncoded(t, ts, "/kiosk", "gzip, deflate, br")
	require.Equal(t, 200, res.StatusCode)
	assert.Equal(t, "gzip", res.Header.Get("Content-Encoding"))
	assert.Contains(t, res.Header.Values("Vary"), "Accept-Encoding")
	html := gunzip(t, page)
	assert.Contains(t, html, `id="rut-input"`)
	assert.Less(t, len(page), len(html)/2, "the page shrinks")

	res, plain := getEncoded(t, ts, "/kiosk", "")
	assert.Empty(t, res.Header.Get("Content-Encoding"))
	assert.Equal(t, html, string(plain))

	// Every script and style the page names.
	urls := regexp.MustCompile(`/assets/[a-z]+\.[0-9a-f]+\.(?:js|css)`).FindAllString(html, -1)
	require.GreaterOrEqual(t, len(urls), 3)
	for _, u := range urls {
		res, b := getEncoded(t, ts, u, "gzip")
		require.Equal(t, 200, res.StatusCode, u)
		assert.Equal(t, "gzip", res.Header.Get("Content-Encoding"), u)
		assert.NotEmpty(t, gunzip(t, b), u)
		// A cached copy revalidates with its ETag: 304, no body.
		res, b = getEncoded(t, ts, u, "gzip", "If-None-Match", res.Header.Get("ETag"))
		assert.Equal(t, 304, res.StatusCode, u)
		assert.Empty(t, b, u)
	}

	for path, want := range map[string]string{
		"/api/v1/services":  `"services"`,
		"/api/v1/tickets/x": `"code":"`,
	} {
		res, b := getEncoded(t, ts, path, "gzip")
		assert.Equal(t, "gzip", res.Header.Get("Content-Encoding"), path)
		assert.Contains(t, gunzip(t, b), want, path)
	}

	// The stream stays plain and its first event arrives at once.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/v1/stream", nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Encoding", "gzip")
	sres, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err)
	defer sres.Body.Close()
	assert.Empty(t, sres.Header.Get("Content-Encoding"))
	line, err := bufio.NewReader(sres.Body).ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "retry: 2000\n", line)
	srv.Close()
}
