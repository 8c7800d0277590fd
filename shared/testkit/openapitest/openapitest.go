// Package openapitest checks real HTTP responses against an OpenAPI 3.x
// document: the operation (path template and method) is documented, the
// status code is one of its responses (exact, "4XX"-style range or
// "default"), and the Content-Type is one the document lists for that
// response (none listed: no body). It also counts which documented
// operations a test exercised, so a test can require all of them.
//
// It checks what drifts silently — statuses and media types — not bodies
// against schemas (`npx @stoplight/prism-cli proxy` does that by hand).
package openapitest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

type response struct {
	Ref     string                     `json:"$ref"`
	Content map[string]json.RawMessage `json:"content"`
}

type operation struct {
	Responses map[string]response `json:"responses"`
}

type document struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Responses map[string]response `json:"responses"`
	} `json:"components"`
}

// Op is one documented operation.
type Op struct {
	Method, Path string // "GET", "/api/v1/tickets/{id}"
	re           *regexp.Regexp
	responses    map[string]response
}

func (o Op) String() string { return o.Method + " " + o.Path }

// Doc is a parsed document and what was checked against it.
type Doc struct {
	ops []Op

	mu   sync.Mutex
	seen map[string]map[int]bool // op → statuses seen
}

var methods = []string{"get", "put", "post", "delete", "patch", "head", "options"}

// Parse reads an OpenAPI 3.0/3.1 document (JSON).
func Parse(raw []byte) (*Doc, error) {
	var d document
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("openapitest: %w", err)
	}
	doc := &Doc{seen: map[string]map[int]bool{}}
	for path, item := range d.Paths {
		pat := regexp.MustCompile(`\\\{[^}/]+\\\}`).ReplaceAllString(regexp.QuoteMeta(path), `[^/]+`)
		if strings.HasSuffix(path, "{path}") { // a catch-all asset path
			pat = strings.TrimSuffix(pat, `[^/]+`) + `.+`
		}
		re := regexp.MustCompile("^" + pat + "$")
		for _, m := range methods {
			raw, ok := item[m]
			if !ok {
				continue
			}
			var op operation
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("openapitest: %s %s: %w", m, path, err)
			}
			for code, r := range op.Responses {
				if name, ok := strings.CutPrefix(r.Ref, "#/components/responses/"); ok {
					r, ok = d.Components.Responses[name]
					if !ok {
						return nil, fmt.Errorf("openapitest: %s %s %s: no components/responses/%s", m, path, code, name)
					}
					op.Responses[code] = r
				}
			}
			doc.ops = append(doc.ops, Op{Method: strings.ToUpper(m), Path: path, re: re, responses: op.Responses})
		}
	}
	// Literal paths before templated ones (/api/v1/tickets/stats before /{id}).
	sort.Slice(doc.ops, func(i, j int) bool {
		ci, cj := strings.Count(doc.ops[i].Path, "{"), strings.Count(doc.ops[j].Path, "{")
		if ci != cj {
			return ci < cj
		}
		return doc.ops[i].String() < doc.ops[j].String()
	})
	return doc, nil
}

// MustParse is Parse for tests.
func MustParse(tb testing.TB, raw []byte) *Doc {
	tb.Helper()
	d, err := Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// Ops returns the documented operations.
func (d *Doc) Ops() []Op { return append([]Op(nil), d.ops...) }

func (d *Doc) find(method, path string) (Op, bool) {
	for _, o := range d.ops {
		if o.Method == method && o.re.MatchString(path) {
			return o, true
		}
	}
	return Op{}, false
}

// Check returns what is wrong with a response of status and Content-Type
// ctype (empty: none) with a body of n bytes to method path; nil when the
// document describes it.
func (d *Doc) Check(method, path string, status int, ctype string, n int64) error {
	op, ok := d.find(method, path)
	if !ok {
		return fmt.Errorf("%s %s: no such operation in the document", method, path)
	}
	d.mu.Lock()
	if d.seen[op.String()] == nil {
		d.seen[op.String()] = map[int]bool{}
	}
	d.seen[op.String()][status] = true
	d.mu.Unlock()
	code := fmt.Sprint(status)
	r, ok := op.responses[code]
	if !ok {
		r, ok = op.responses[code[:1]+"XX"]
	}
	if !ok {
		r, ok = op.responses["default"]
	}
	if !ok {
		return fmt.Errorf("%s (%s %s): status %d not documented (documented: %s)", op, method, path, status, keys(op.responses))
	}
	if len(r.Content) == 0 {
		if n > 0 && status != http.StatusNoContent {
			// A documented response without content may still carry a body
			// the document does not describe (plain text such as "ok");
			// that is only wrong when the type claims a structured one.
			if mt, _, _ := mime.ParseMediaType(ctype); strings.Contains(mt, "json") {
				return fmt.Errorf("%s: status %d documents no content but the answer is %s", op, status, ctype)
			}
		}
		return nil
	}
	mt, _, err := mime.ParseMediaType(ctype)
	if err != nil {
		return fmt.Errorf("%s: status %d: Content-Type %q: %v (documented: %s)", op, status, ctype, err, keys(r.Content))
	}
	for want := range r.Content {
		if want == mt || want == "*/*" || (strings.HasSuffix(want, "/*") && strings.HasPrefix(mt, strings.TrimSuffix(want, "*"))) {
			return nil
		}
	}
	return fmt.Errorf("%s (%s %s): status %d answered %s, documented %s", op, method, path, status, mt, keys(r.Content))
}

func keys[V any](m map[string]V) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// Response checks res (and drains its body) against the document,
// reporting a mismatch as a test error.
func (d *Doc) Response(t testing.TB, res *http.Response) {
	t.Helper()
	n, _ := io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	if err := d.Check(res.Request.Method, res.Request.URL.Path, res.StatusCode, res.Header.Get("Content-Type"), n); err != nil {
		t.Error(err)
	}
}

// Unexercised returns the documented operations no checked response came from.
func (d *Doc) Unexercised() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, o := range d.ops {
		if d.seen[o.String()] == nil {
			out = append(out, o.String())
		}
	}
	return out
}

// Transport checks every response that passes through it.
type Transport struct {
	Doc  *Doc
	T    testing.TB
	Base http.RoundTripper // nil: http.DefaultTransport
}

// RoundTrip implements http.RoundTripper: the body is read, checked and
// handed on unchanged.
func (tr Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := tr.Base
	if base == nil {
		base = http.DefaultTransport
	}
	res, err := base.RoundTrip(req)
	if err != nil {
		return res, err
	}
	if strings.Contains(res.Header.Get("Content-Type"), "text/event-stream") {
		// A stream never ends: check the head only.
		if err := tr.Doc.Check(req.Method, req.URL.Path, res.StatusCode, res.Header.Get("Content-Type"), 1); err != nil {
			tr.T.Error(err)
		}
		return res, nil
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		return nil, err
	}
	if err := tr.Doc.Check(req.Method, req.URL.Path, res.StatusCode, res.Header.Get("Content-Type"), int64(len(body))); err != nil {
		tr.T.Error(err)
	}
	res.Body = io.NopCloser(strings.NewReader(string(body)))
	return res, nil
}
