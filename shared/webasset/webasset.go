// Package webasset serves a directory of embedded static files under
// content-hashed URLs ("/assets/app.1a2b3c4d5e6f.js"): a browser may cache
// them forever and a new build can never show a stale script. The agent's UI
// and the HQ web both use it.
package webasset

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// file is one static file.
type file struct {
	url   string // "/assets/kiosk.1a2b3c4d5e6f.js"
	ctype string
	body  []byte
	etag  string
}

// Set is the hashed files of one directory.
type Set struct {
	// NotFound answers a name that is not a hashed file of the set; nil:
	// net/http's plain 404.
	NotFound http.HandlerFunc

	prefix   string
	byName   map[string]*file // logical name: "kiosk.js"
	byHashed map[string]*file // "kiosk.1a2b3c4d5e6f.js"
}

// Load reads every file of fsys's top directory (subdirectories are
// skipped) and hashes it; URLs are prefix + hashed name (prefix "/assets/").
func Load(fsys fs.FS, prefix string) (*Set, error) {
	s := &Set{prefix: prefix, byName: map[string]*file{}, byHashed: map[string]*file{}}
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
		f := &file{url: prefix + hashed, ctype: ctype, body: body, etag: `"` + hash + `"`}
		s.byName[e.Name()] = f
		s.byHashed[hashed] = f
	}
	return s, nil
}

// URL returns the hashed URL of a logical name; an unknown name is an error,
// so a template that names a missing file fails at start-up.
func (s *Set) URL(name string) (string, error) {
	f, ok := s.byName[name]
	if !ok {
		return "", fmt.Errorf("unknown asset %q", name)
	}
	return f.url, nil
}

// Has reports whether the set holds the logical name.
func (s *Set) Has(name string) bool {
	_, ok := s.byName[name]
	return ok
}

// ServeHTTP serves prefix + hashed name. Only hashed names exist: the
// content behind a URL never changes, so it is cached as immutable and
// revalidated by its hash.
func (s *Set) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, _ := strings.CutPrefix(r.URL.Path, s.prefix)
	f, ok := s.byHashed[name]
	if !ok {
		if s.NotFound != nil {
			s.NotFound(w, r)
		} else {
			http.NotFound(w, r)
		}
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", f.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Header.Get("If-None-Match") == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(f.body)
}
