package openapitest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sample = `{"openapi": "3.1.0", "paths": {
  "/items/{id}": {"get": {"responses": {
    "200": {"description": "ok", "content": {"application/json": {}}},
    "404": {"$ref": "#/components/responses/Problem"}}}},
  "/items/stats": {"get": {"responses": {"200": {"description": "plain"}}}},
  "/assets/{path}": {"get": {"responses": {"2XX": {"description": "a file", "content": {"text/*": {}}}, "default": {"description": "any"}}}}
},
"components": {"responses": {"Problem": {"description": "problem", "content": {"application/problem+json": {}}}}}}`

func TestCheck(t *testing.T) {
	d, err := Parse([]byte(sample))
	require.NoError(t, err)
	for _, ok := range []struct {
		method, path string
		status       int
		ctype        string
		n            int64
	}{
		{"GET", "/items/7", 200, "application/json; charset=utf-8", 2},
		{"GET", "/items/7", 404, "application/problem+json", 50},
		{"GET", "/items/stats", 200, "text/plain", 3},
		{"GET", "/items/stats", 200, "", 0},
		{"GET", "/assets/css/app.css", 200, "text/css", 10},
		{"GET", "/assets/x", 500, "text/plain", 10},
	} {
		assert.NoError(t, d.Check(ok.method, ok.path, ok.status, ok.ctype, ok.n), "%+v", ok)
	}
	for _, bad := range []struct {
		method, path string
		status       int
		ctype        string
		n            int64
	}{
		{"POST", "/items/7", 200, "application/json", 2},          // no such operation
		{"GET", "/nowhere", 200, "application/json", 2},           // no such path
		{"GET", "/items/7", 400, "application/problem+json", 2},   // status not documented
		{"GET", "/items/7", 404, "text/plain; charset=utf-8", 10}, // wrong type
		{"GET", "/items/7", 200, "", 2},                           // no type at all
		{"GET", "/items/stats", 200, "application/json", 2},       // JSON where none is documented
		{"GET", "/assets/a.css", 200, "application/json", 2},      // outside the text/* range
	} {
		assert.Error(t, d.Check(bad.method, bad.path, bad.status, bad.ctype, bad.n), "%+v", bad)
	}
	assert.Empty(t, d.Unexercised(), "every operation above was checked at least once")
	d2 := MustParse(t, []byte(sample))
	assert.Len(t, d2.Unexercised(), 3)
}
