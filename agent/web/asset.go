package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/go-chi/chi/v5"
)

// asset is one embedded static file, served under a content-hashed URL so a
// browser may cache it forever and a new build can never show a stale script.
type asset struct {
	name  string // logical name, "kiosk.js"
	url   string // "/assets/kiosk.1a2b3c4d5e6f.js"
	ctype string
	body  []byte
	etag  string
}

// assets maps logical names and hashed file names to embedded files.
type assets struct {
	// notFound answers an unknown name (problem+json, like every other 404
	// of the agent); nil: net/http's plain text.
	notFound http.HandlerFunc
	byName   map[string]*asset
	byHashed map[string]*asset
}

// loadAssets reads every file of fsys (flat directory) and hashes it.
func loadAssets(fsys fs.FS) (*assets, error) {
	a := &assets{byName: map[string]*asset{}, byHashed: map[string]*asset{}}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read assets: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		body, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read asset %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])[:12]
		ext := path.Ext(e.Name())
		hashed := strings.TrimSuffix(e.Name(), ext) + "." + hash + ext
		ctype := mime.TypeByExtension(ext)
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		as := &asset{name: e.Name(), url: "/assets/" + hashed, ctype: ctype, body: body, etag: `"` + hash + `"`}
		a.byName[e.Name()] = as
		a.byHashed[hashed] = as
	}
	return a, nil
}

// URL returns the hashed URL of a logical asset name; an unknown name is an
// error so a template that names a missing file fails at start-up.
func (a *assets) URL(name string) (string, error) {
	as, ok := a.byName[name]
	if !ok {
		return "", fmt.Errorf("unknown asset %q", name)
	}
	return as.url, nil
}

// ServeHTTP serves /assets/{hashed name}. Only hashed names exist: the content
// behind a URL never changes, so it is cached as immutable.
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	as, ok := a.byHashed[chi.URLParam(r, "file")]
	if !ok {
		if a.notFound != nil {
			a.notFound(w, r)
		} else {
			http.NotFound(w, r)
		}
		return
	}
	h := w.Header()
	h.Set("Content-Type", as.ctype)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", as.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Header.Get("If-None-Match") == as.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(as.body)
}
