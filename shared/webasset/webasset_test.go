package webasset_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/shared/webasset"
)

func TestServe(t *testing.T) {
	s, err := webasset.Load(fstest.MapFS{
		"app.js":        {Data: []byte("console.log(1)")},
		"app.css":       {Data: []byte("body{}")},
		"blob.unknown1": {Data: []byte{1, 2}},
		"sub/x.js":      {Data: []byte("no")},
	}, "/assets/")
	require.NoError(t, err)
	u, err := s.URL("app.js")
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`^/assets/app\.[0-9a-f]{12}\.js$`), u)
	assert.True(t, s.Has("app.css"))
	assert.False(t, s.Has("x.js"), "subdirectories are not part of the set")
	_, err = s.URL("missing.js")
	assert.ErrorContains(t, err, "missing.js")

	get := func(path string, hdr ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, r)
		return rec
	}
	rec := get(u)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "console.log(1)", rec.Body.String())
	assert.Contains(t, rec.Header().Get("Content-Type"), "javascript")
	assert.Contains(t, rec.Header().Get("Cache-Control"), "immutable")
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	rec = get(u, "If-None-Match", rec.Header().Get("ETag"))
	assert.Equal(t, http.StatusNotModified, rec.Code)
	assert.Empty(t, rec.Body.String())

	bu, _ := s.URL("blob.unknown1")
	assert.Equal(t, "application/octet-stream", get(bu).Header().Get("Content-Type"))

	for _, bad := range []string{"/assets/app.js", "/assets/app.000000000000.js", "/assets/", "/assets/sub/x.js", "/elsewhere/" + filepath.Base(u)} {
		assert.Equal(t, http.StatusNotFound, get(bad).Code, bad)
	}
	s.NotFound = func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }
	assert.Equal(t, http.StatusTeapot, get("/assets/nope.js").Code, "the caller's 404")

	r := httptest.NewRequest(http.MethodHead, u, nil)
	head := httptest.NewRecorder()
	s.ServeHTTP(head, r)
	assert.Equal(t, http.StatusOK, head.Code)
	assert.Empty(t, head.Body.String())
}

func TestHashChangesWithContent(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.js"), []byte("one"), 0o600))
	a1, err := webasset.Load(os.DirFS(dir), "/assets/")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.js"), []byte("two"), 0o600))
	a2, err := webasset.Load(os.DirFS(dir), "/assets/")
	require.NoError(t, err)
	u1, err := a1.URL("a.js")
	require.NoError(t, err)
	u2, err := a2.URL("a.js")
	require.NoError(t, err)
	assert.NotEqual(t, u1, u2)
	rec := httptest.NewRecorder()
	a2.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u2, nil))
	b, _ := io.ReadAll(rec.Body)
	assert.Equal(t, "two", string(b))
}
