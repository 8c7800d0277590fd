package web

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	svgViewBox = regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`)
	svgRun     = regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`)
)

// svgBitmap reads back the modules qrSVG drew.
func svgBitmap(tb testing.TB, svg string) [][]bool {
	tb.Helper()
	m := svgViewBox.FindStringSubmatch(svg)
	require.NotNil(tb, m)
	n, _ := strconv.Atoi(m[1])
	bm := make([][]bool, n)
	for i := range bm {
		bm[i] = make([]bool, n)
	}
	for _, r := range svgRun.FindAllStringSubmatch(svg, -1) {
		x, _ := strconv.Atoi(r[1])
		y, _ := strconv.Atoi(r[2])
		w, _ := strconv.Atoi(r[3])
		for i := x; i < x+w; i++ {
			bm[y][i] = true
		}
	}
	return bm
}

func TestQRSVGDrawsEveryModule(t *testing.T) {
	link := telegramLink("TicketeroBot", "tok_123-ABC")
	assert.Equal(t, "https://t.me/TicketeroBot?start=tok_123-ABC", link)
	svg, err := qrSVG(link)
	require.NoError(t, err)
	q, err := qrcode.New(link, qrcode.Medium)
	require.NoError(t, err)
	assert.Equal(t, q.Bitmap(), svgBitmap(t, string(svg)))
}

func TestQREndpoint(t *testing.T) {
	srv := MustServer(t, Options{BotName: "SucursalBot"})
	token := strings.Repeat("aZ0_-", 12) + "abcd" // 64 characters
	res, body := get(t, srv.URL+"/assets/qr/"+token+".svg", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "image/svg+xml", res.Header.Get("Content-Type"))
	want, err := qrSVG("https://t.me/SucursalBot?start=" + token)
	require.NoError(t, err)
	assert.Equal(t, string(want), body, "the QR carries the configured bot and the token")

	for _, bad := range []string{token + "x.svg", "abc.png", "abc", "a%20b.svg", "a.b.svg", ".svg"} {
		res, body := get(t, srv.URL+"/assets/qr/"+bad, nil)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, bad)
		var p map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &p), bad)
		assert.Equal(t, "ui.qr.invalid_token", p["code"])
		assert.Equal(t, "El código del número no es válido.", p["title"])
	}
}

// TestNoBotNoQR: without a bot the bank configured, the kiosk neither shows nor
// prints a QR and the QR endpoint has nothing to serve (no default bot).
func TestNoBotNoQR(t *testing.T) {
	srv := MustServer(t, Options{})
	_, page := get(t, srv.URL+"/kiosk", nil)
	assert.Contains(t, page, `id="result-qr-figure" hidden`)
	res, _ := get(t, srv.URL+"/assets/qr/abcd.svg", nil)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)

	srv = MustServer(t, Options{BotName: "SucursalBot"})
	_, page = get(t, srv.URL+"/kiosk", nil)
	assert.Contains(t, page, `id="result-qr-figure">`)
}
