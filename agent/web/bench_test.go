package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkPage measures rendering the kiosk page (template, catalogue JSON,
// headers) as a kiosk's browser asks for it.
func BenchmarkPage(b *testing.B) {
	h, err := Handler(Options{})
	require.NoError(b, err)
	req := httptest.NewRequest(http.MethodGet, "/kiosk", nil)
	req.Header.Set("Accept-Language", "es-CL,es;q=0.9")
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkQR measures one ticket's QR code (encode and SVG), done once per
// ticket issued at the kiosk. The endpoint serves a QR only when the bank's
// bot is configured (404 without one, TestNoBotNoQR), so the bench names one.
func BenchmarkQR(b *testing.B) {
	h, err := Handler(Options{BotName: "SucursalBot"})
	require.NoError(b, err)
	req := httptest.NewRequest(http.MethodGet, "/assets/qr/Ab3_x-9ZqLmN0pQrStUvWxYz01234567.svg", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkHandler measures the start-up cost: parsing every template and
// rendering each page in both languages once.
func BenchmarkHandler(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Handler(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
