package web_test

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// schemaDoc checks JSON response bodies against the schemas of an OpenAPI
// 3.1 document (openapitest checks statuses and media types; this checks
// what the configuration API's tooling reads): types (null included),
// enums, required members, and no member the document does not describe.
// It knows the subset api_openapi.json uses: $ref, allOf, oneOf/anyOf, type,
// enum, required, properties, items, additionalProperties.
type schemaDoc struct {
	raw   map[string]any
	paths []schemaPath
}

type schemaPath struct {
	re   *regexp.Regexp
	item map[string]any
}

func parseSchemaDoc(tb testing.TB, raw []byte) *schemaDoc {
	tb.Helper()
	d := &schemaDoc{}
	if err := json.Unmarshal(raw, &d.raw); err != nil {
		tb.Fatal(err)
	}
	for p, item := range d.raw["paths"].(map[string]any) {
		pat := regexp.MustCompile(`\\\{[^}/]+\\\}`).ReplaceAllString(regexp.QuoteMeta(p), `[^/]+`)
		d.paths = append(d.paths, schemaPath{re: regexp.MustCompile("^" + pat + "$"), item: item.(map[string]any)})
	}
	// Literal paths first (none of this document's overlap, but keep it exact).
	sort.Slice(d.paths, func(i, j int) bool {
		return strings.Count(d.paths[i].re.String(), "[^/]+") < strings.Count(d.paths[j].re.String(), "[^/]+")
	})
	return d
}

// resolve follows a local $ref.
func (d *schemaDoc) resolve(s map[string]any) map[string]any {
	for {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		var cur any = d.raw
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = cur.(map[string]any)[part]
		}
		s = cur.(map[string]any)
	}
}

// responseSchema is the JSON schema of method path's status answer (nil:
// none documented, or not JSON).
func (d *schemaDoc) responseSchema(method, path string, status int) map[string]any {
	for _, p := range d.paths {
		if !p.re.MatchString(path) {
			continue
		}
		op, ok := p.item[strings.ToLower(method)].(map[string]any)
		if !ok {
			continue
		}
		res, ok := op["responses"].(map[string]any)[fmt.Sprint(status)].(map[string]any)
		if !ok {
			return nil
		}
		res = d.resolve(res)
		content, _ := res["content"].(map[string]any)
		for _, mt := range []string{"application/json", "application/problem+json"} {
			if c, ok := content[mt].(map[string]any); ok {
				return d.resolve(c["schema"].(map[string]any))
			}
		}
		return nil
	}
	return nil
}

// check returns what is wrong with v against schema s, at where.
func (d *schemaDoc) check(where string, s map[string]any, v any) []string {
	s = d.resolve(s)
	for _, key := range []string{"oneOf", "anyOf"} {
		if alts, ok := s[key].([]any); ok {
			var first []string
			for i, alt := range alts {
				errs := d.check(where, alt.(map[string]any), v)
				if len(errs) == 0 {
					return nil
				}
				if i == 0 {
					first = errs
				}
			}
			return first
		}
	}
	var errs []string
	props, req := map[string]any{}, []string{}
	strict := false
	var extra map[string]any
	var parts []map[string]any
	if all, ok := s["allOf"].([]any); ok {
		for _, p := range all {
			parts = append(parts, d.resolve(p.(map[string]any)))
		}
	} else {
		parts = []map[string]any{s}
	}
	for _, p := range parts {
		if t, ok := p["type"]; ok && !typeMatches(t, v) {
			return []string{fmt.Sprintf("%s: %v is not %v", where, v, t)}
		}
		if e, ok := p["enum"].([]any); ok && !slices.Contains(e, v) {
			errs = append(errs, fmt.Sprintf("%s: %v not in %v", where, v, e))
		}
		if pr, ok := p["properties"].(map[string]any); ok {
			strict = true
			for k, ps := range pr {
				props[k] = ps
			}
		}
		for _, r := range asSlice(p["required"]) {
			req = append(req, r.(string))
		}
		switch ap := p["additionalProperties"].(type) {
		case map[string]any:
			extra, strict = ap, false
		case bool:
			strict = !ap
		}
		if it, ok := p["items"].(map[string]any); ok {
			for i, e := range asSlice(v) {
				errs = append(errs, d.check(fmt.Sprintf("%s[%d]", where, i), it, e)...)
			}
		}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return errs
	}
	for _, r := range req {
		if _, ok := obj[r]; !ok {
			errs = append(errs, fmt.Sprintf("%s: required member %q missing", where, r))
		}
	}
	for k, e := range obj {
		switch ps, ok := props[k]; {
		case ok:
			errs = append(errs, d.check(where+"."+k, ps.(map[string]any), e)...)
		case extra != nil:
			errs = append(errs, d.check(where+"."+k, extra, e)...)
		case strict:
			errs = append(errs, fmt.Sprintf("%s: member %q not in the document", where, k))
		}
	}
	return errs
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func typeMatches(t, v any) bool {
	if ts, ok := t.([]any); ok {
		for _, x := range ts {
			if typeMatches(x, v) {
				return true
			}
		}
		return false
	}
	switch t {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == math.Trunc(f)
	}
	return false
}

// checkBody reports a JSON body that does not fit the documented schema.
func (d *schemaDoc) checkBody(t testing.TB, method, path string, status int, body []byte) {
	t.Helper()
	s := d.responseSchema(method, path, status)
	if s == nil || len(body) == 0 {
		return
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("%s %s %d: body is not JSON: %v", method, path, status, err)
		return
	}
	for _, e := range d.check("body", s, v) {
		t.Errorf("%s %s %d: %s", method, path, status, e)
	}
}

// TestSchemaCheckCatchesDrift: the checker refuses what a drifted answer
// would look like (so a passing contract test means something).
func TestSchemaCheckCatchesDrift(t *testing.T) {
	d := parseSchemaDoc(t, []byte(`{"paths":{"/x/{id}":{"get":{"responses":{"200":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/A"}}}}}}}},
		"components":{"schemas":{"A":{"type":"object","required":["n","k"],"properties":{"n":{"type":"integer"},"k":{"type":"string","enum":["a","b"]},
		"t":{"type":["string","null"]},"l":{"type":"array","items":{"type":"integer"}}}}}}}`))
	s := d.responseSchema("GET", "/x/7", 200)
	if s == nil {
		t.Fatal("no schema found")
	}
	for body, want := range map[string]int{
		`{"n":1,"k":"a","t":null,"l":[1,2]}`: 0,
		`{"n":1.5,"k":"a"}`:                  1,
		`{"k":"c"}`:                          2,
		`{"n":1,"k":"a","extra":true}`:       1,
		`{"n":1,"k":"a","l":["x"]}`:          1,
		`{"n":1,"k":"a","t":3}`:              1,
	} {
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		if got := d.check("body", s, v); len(got) != want {
			t.Errorf("%s: %d errors %v, want %d", body, len(got), got, want)
		}
	}
}
