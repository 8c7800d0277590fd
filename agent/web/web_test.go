package web

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/i18n"
)

// MustServer starts the UI handler under httptest.
func MustServer(tb testing.TB, opts Options) *httptest.Server {
	tb.Helper()
	h, err := Handler(opts)
	require.NoError(tb, err)
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}

func get(tb testing.TB, url string, header map[string]string) (*http.Response, string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(tb, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(tb, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(tb, err)
	return res, string(b)
}

var (
	catalogueAttr = regexp.MustCompile(`data-catalogue="([^"]*)"`)
	assetRef      = regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`)
	htmlLang      = regexp.MustCompile(`<html lang="([^"]+)">`)
)

// catalogueOf decodes the JSON catalogue a page hands its scripts.
func catalogueOf(tb testing.TB, page string) map[string]string {
	tb.Helper()
	m := catalogueAttr.FindStringSubmatch(page)
	require.NotNil(tb, m, "page has no data-catalogue")
	var c map[string]string
	require.NoError(tb, json.Unmarshal([]byte(html.UnescapeString(m[1])), &c))
	return c
}

func TestPages(t *testing.T) {
	srv := MustServer(t, Options{})
	for _, path := range []string{"/", "/kiosk", "/terminal", "/display", "/branch"} {
		t.Run(path, func(t *testing.T) {
			res, body := get(t, srv.URL+path, nil)
			require.Equal(t, http.StatusOK, res.StatusCode)
			assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
			assert.Contains(t, res.Header.Get("Content-Security-Policy"), "script-src 'self'")
			assert.Equal(t, "es", res.Header.Get("Content-Language"))
			assert.Equal(t, "es-CL", htmlLang.FindStringSubmatch(body)[1])
			c := catalogueOf(t, body)
			assert.Equal(t, i18n.T(i18n.ES, "ui.kiosk.choose_service"), c["ui.kiosk.choose_service"])
			assert.Equal(t, "en espera", c["status.waiting"], "status names travel with the UI strings")
			// Every page loads only hashed, embedded assets: nothing from the internet.
			assert.NotRegexp(t, `(?:src|href)="(?:https?:)?//`, body)
			refs := assetRef.FindAllStringSubmatch(body, -1)
			require.NotEmpty(t, refs)
			for _, r := range refs {
				assert.Regexp(t, `^/assets/[a-z]+\.[0-9a-f]{12}\.(js|css)$`, r[1])
			}
			// Pages are rendered at start-up; a revalidation costs no body.
			etag := res.Header.Get("ETag")
			require.NotEmpty(t, etag)
			res, again := get(t, srv.URL+path, map[string]string{"If-None-Match": etag})
			assert.Equal(t, http.StatusNotModified, res.StatusCode)
			assert.Empty(t, again)
			res, en := get(t, srv.URL+path+"?lang=en", map[string]string{"If-None-Match": etag})
			assert.Equal(t, http.StatusOK, res.StatusCode, "another language is another page")
			assert.NotEmpty(t, en)
		})
	}
}

func TestLanguage(t *testing.T) {
	srv := MustServer(t, Options{})
	tests := []struct {
		name, query, accept string
		want                i18n.Lang
		wantHTML            string
	}{
		{"default", "", "", i18n.ES, "es-CL"},
		// The device's browser language is not the customer's (issue 15).
		{"accept en", "", "en-US,en;q=0.9", i18n.ES, "es-CL"},
		{"accept es", "", "es-CL,es;q=0.9,en;q=0.5", i18n.ES, "es-CL"},
		{"accept other", "", "fr-FR", i18n.ES, "es-CL"},
		{"query en", "?lang=en", "", i18n.EN, "en"},
		{"query wins", "?lang=es", "en-US", i18n.ES, "es-CL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := get(t, srv.URL+"/kiosk"+tc.query, map[string]string{"Accept-Language": tc.accept})
			require.Equal(t, http.StatusOK, res.StatusCode)
			assert.Equal(t, tc.wantHTML, htmlLang.FindStringSubmatch(body)[1])
			assert.Contains(t, body, html.EscapeString(i18n.T(tc.want, "ui.kiosk.choose_service")))
			assert.Equal(t, i18n.T(tc.want, "ui.kiosk.skip_rut"), catalogueOf(t, body)["ui.kiosk.skip_rut"])
		})
	}
	t.Run("every page ignores the browser language", func(t *testing.T) {
		for _, p := range []string{"/", "/kiosk", "/terminal", "/display", "/branch"} {
			res, body := get(t, srv.URL+p, map[string]string{"Accept-Language": "en-US,en;q=0.9"})
			assert.Equal(t, "es-CL", htmlLang.FindStringSubmatch(body)[1], p)
			assert.Equal(t, "es", res.Header.Get("Content-Language"), p)
			assert.NotContains(t, res.Header.Values("Vary"), "Accept-Language", p)
			_, body = get(t, srv.URL+p+"?lang=en", map[string]string{"Accept-Language": "es-CL"})
			assert.Equal(t, "en", htmlLang.FindStringSubmatch(body)[1], p)
		}
	})
	t.Run("links keep an explicit language", func(t *testing.T) {
		_, body := get(t, srv.URL+"/?lang=en", nil)
		assert.Contains(t, body, `href="/kiosk?lang=en"`)
		assert.Contains(t, body, `href="/?lang=es"`, "the switch leads to Spanish")
		_, body = get(t, srv.URL+"/", nil)
		assert.Contains(t, body, `href="/kiosk"`)
		assert.Contains(t, body, `href="/?lang=en"`)
	})
}

func TestAssets(t *testing.T) {
	srv := MustServer(t, Options{})
	_, body := get(t, srv.URL+"/kiosk", nil)
	refs := assetRef.FindAllStringSubmatch(body, -1)
	require.Len(t, refs, 4, "app.css, kiosk.css, common.js, kiosk.js")
	for _, r := range refs {
		res, content := get(t, srv.URL+r[1], nil)
		require.Equal(t, http.StatusOK, res.StatusCode, r[1])
		assert.Contains(t, res.Header.Get("Cache-Control"), "immutable")
		assert.NotEmpty(t, content)
		want := "text/css"
		if strings.HasSuffix(r[1], ".js") {
			want = "text/javascript"
		}
		assert.Contains(t, res.Header.Get("Content-Type"), want)
		// The ETag is the hash in the URL; a revalidation costs no body.
		res, content = get(t, srv.URL+r[1], map[string]string{"If-None-Match": res.Header.Get("ETag")})
		assert.Equal(t, http.StatusNotModified, res.StatusCode)
		assert.Empty(t, content)
	}
	for _, bad := range []string{"/assets/kiosk.js", "/assets/kiosk.000000000000.js", "/assets/../web.go", "/assets/"} {
		res, _ := get(t, srv.URL+bad, nil)
		assert.Equal(t, http.StatusNotFound, res.StatusCode, bad)
	}
}

func TestNotFound(t *testing.T) {
	srv := MustServer(t, Options{})
	res, body := get(t, srv.URL+"/nope", map[string]string{"Accept-Language": "en"})
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &p))
	assert.Equal(t, "ui.not_found", p["code"])
	assert.Equal(t, i18n.T(i18n.EN, "ui.not_found"), p["title"])
}

// TestMethods: pages and assets answer GET and HEAD; any other method is the
// same problem+json 404 as an unknown path (the UI has nothing to write).
func TestMethods(t *testing.T) {
	srv := MustServer(t, Options{})
	res, err := http.Head(srv.URL + "/kiosk")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	for _, path := range []string{"/kiosk", "/", "/assets/app.css"} {
		res, err := http.Post(srv.URL+path, "application/json", strings.NewReader("{}"))
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusNotFound, res.StatusCode, path)
		assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"), path)
	}
}

func TestOptions(t *testing.T) {
	for _, bad := range []string{"bot", "has space bot", "ñandú_bot", strings.Repeat("b", 33)} {
		_, err := Handler(Options{BotName: bad})
		assert.Error(t, err, bad)
	}
	_, err := Handler(Options{BotName: "Sucursal_Bot"})
	assert.NoError(t, err)
}

// jsKey matches catalogue keys named literally in the scripts: t('ui.x.y').
var jsKey = regexp.MustCompile(`\bt\('((?:ui|status|priority)\.[a-z0-9_.]+)'`)

// TestScriptKeysExist keeps the scripts and the catalogue in step: a key the JS
// names and the catalogue lacks would show up as a raw key on a customer's screen.
func TestScriptKeysExist(t *testing.T) {
	entries, err := assetFS.ReadDir("assets")
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".js") {
			continue
		}
		b, err := assetFS.ReadFile("assets/" + e.Name())
		require.NoError(t, err)
		for _, m := range jsKey.FindAllStringSubmatch(string(b), -1) {
			n++
			assert.True(t, i18n.Has(m[1]), "%s uses unknown key %s", e.Name(), m[1])
		}
	}
	assert.Greater(t, n, 50)
}
