package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ticketero/ticketero/cloud"
)

// BenchmarkConfig5000 is HQ's configuration list (/config: a page of 100
// branches with the version each runs and the latest published, searched
// and filtered in the database) at 5,000 branches, seeded as
// BenchmarkOverview5000: the store's read of a page alone ("read", and
// "read-search" with a search matching 111 branches), the first page
// ("page"), the last of the PB- branches ("page-last"), a search
// ("page-search"), a region and version filter ("page-filtered"); and the
// version report (/config/versions: every branch's versions, tags and
// template).
func BenchmarkConfig5000(b *testing.B) {
	store, h, stop := benchEnv(b, fleetBranches)
	defer stop()
	admin := sessionCookie(b, store, "bench-admin@bank.cl", "admin", nil)
	read := func(name string, f cloud.ConfigListFilter, want int) {
		b.Run(name, func(b *testing.B) {
			timed(b, "read", func() {
				if p, err := store.ConfigList(context.Background(), f); err != nil || len(p.Rows) != want || p.Total < want {
					b.Fatalf("config list: %d rows of %d, %v", len(p.Rows), p.Total, err)
				}
			})
		})
	}
	read("read", cloud.ConfigListFilter{Limit: 100}, 100)
	read("read-search", cloud.ConfigListFilter{Query: "sucursal 49", Limit: 100}, 100)
	b.Run("page", func(b *testing.B) { configPage(b, h, admin, "/config", `id="config-pager"`) })
	b.Run("page-last", func(b *testing.B) {
		configPage(b, h, admin, "/config?q=PB-&page=50", `href="/config/branches/PB-4999"`)
	})
	b.Run("page-search", func(b *testing.B) { configPage(b, h, admin, "/config?q=4999", `href="/config/branches/PB-4999"`) })
	b.Run("page-filtered", func(b *testing.B) {
		configPage(b, h, admin, "/config?region=R07&version=unpublished", `href="/config/branches/PB-0006"`)
	})
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
