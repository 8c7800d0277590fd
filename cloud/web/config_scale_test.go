package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkConfig5000 is HQ's configuration list (/config: every branch
// with the version it runs and the latest published) at 5,000 branches,
// seeded as BenchmarkOverview5000: the store's read alone and the page; and
// the version report (/config/versions: every branch's versions, tags and
// template).
func BenchmarkConfig5000(b *testing.B) {
	store, h, stop := benchEnv(b, fleetBranches)
	defer stop()
	admin := sessionCookie(b, store, "bench-admin@bank.cl", "admin", nil)
	b.Run("read", func(b *testing.B) {
		timed(b, "read", func() {
			if rows, err := store.ConfigList(context.Background()); err != nil || len(rows) < fleetBranches {
				b.Fatalf("config list: %d rows, %v", len(rows), err)
			}
		})
	})
	b.Run("page", func(b *testing.B) { configPage(b, h, admin, "/config", `href="/config/branches/PB-4999"`) })
	b.Run("versions", func(b *testing.B) { configPage(b, h, admin, "/config/versions", `id="v-PB-4999"`) })
}

// configPage times an admin's GET of path, which must contain want.
func configPage(b *testing.B, h http.Handler, admin, path, want string) {
	var size int
	timed(b, "page", func() {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Cookie", admin)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
			b.Fatalf("%s: %d %.300s", path, rec.Code, rec.Body.String())
		}
		size = rec.Body.Len()
	})
	b.ReportMetric(float64(size)/1024, "KB/page")
}
