package http_test

import (
	"context"
	"encoding/json"
	"errors"
	nethttp "net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	cloudhttp "github.com/ticketero/ticketero/cloud/http"
	"github.com/ticketero/ticketero/shared/queue"
)

type syncs map[string]cloud.BranchSync

func (s syncs) BranchSync(_ context.Context, id string) (cloud.BranchSync, error) {
	if id == "BOOM" {
		return cloud.BranchSync{}, errors.New("connection refused")
	}
	b, ok := s[id]
	if !ok {
		return b, queue.Errorf(queue.CodeNotFound, "sync.branch_unknown", id)
	}
	return b, nil
}

func TestRoutes(t *testing.T) {
	ui := nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) { w.Write([]byte("ui:" + r.URL.Path)) })
	enroll := nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Write([]byte("enroll:" + r.URL.Path + ":" + r.PathValue("id")))
	})
	srv := &cloudhttp.Server{
		Sync:   syncs{"SCL-001": {Branch: "SCL-001", LastSeq: 9, Gaps: []cloud.SeqRange{}}},
		UI:     ui,
		Enroll: enroll,
		Public: nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) { w.Write([]byte("public:" + r.URL.Path)) }),
		Ready:  map[string]cloudhttp.Check{"database": func(context.Context) error { return errors.New("down") }},
	}
	h := srv.Handler()
	get := func(path, lang string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		if lang != "" {
			req.Header.Set("Accept-Language", lang)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	assert.Equal(t, "ui:/", get("/", "").Body.String(), "the dashboard is mounted at /")
	assert.Equal(t, "ui:/branches/SCL-001", get("/branches/SCL-001", "").Body.String())
	assert.Equal(t, 200, get("/healthz", "").Code)
	assert.Equal(t, 503, get("/readyz", "").Code)
	assert.Equal(t, 200, get("/metrics", "").Code)
	do := func(method, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec
	}
	assert.Equal(t, "ok\n", do("HEAD", "/healthz").Body.String(), "a probe's HEAD is the API's, not the UI's")
	assert.Equal(t, "ui:/logout", do("POST", "/logout").Body.String(), "the UI takes every method outside the API")
	for _, p := range []string{"/agenda", "/agenda/sucursal/SCL-001", "/api/v1/public/bookings"} {
		assert.Equal(t, "public:"+p, do("POST", p).Body.String(), "the booking page and its API")
	}
	assert.Equal(t, "enroll:/api/v1/branches/SCL-001/enroll-codes:SCL-001", do("POST", "/api/v1/branches/SCL-001/enroll-codes").Body.String())
	assert.Equal(t, "ui:/api/v1/config/branches/SCL-001/services/C", do("PATCH", "/api/v1/config/branches/SCL-001/services/C").Body.String(),
		"the HQ web's configuration API is the UI's")
	assert.Equal(t, "ui:/api/v1/config", do("GET", "/api/v1/config").Body.String())
	for _, mp := range [][2]string{{"GET", "/api/v1/enroll"}, {"POST", "/api/v1/branches/SCL-001/sync"}, {"GET", "/api"}, {"GET", "/api/v1/configuration"}} {
		rec := do(mp[0], mp[1])
		assert.Equal(t, 404, rec.Code, mp)
		assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"), mp)
	}

	rec := get("/api/v1/branches/SCL-001/sync", "")
	require.Equal(t, 200, rec.Code)
	var b cloud.BranchSync
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &b))
	assert.Equal(t, uint64(9), b.LastSeq)

	for _, tc := range []struct {
		path, lang, code string
		status           int
		title            string
	}{
		{"/api/v1/branches/NOPE/sync", "", "sync.branch_unknown", 404, "La sucursal NOPE no ha enviado eventos a la nube."},
		{"/api/v1/branches/NOPE/sync", "en-US", "sync.branch_unknown", 404, "Branch NOPE has not sent any event to the cloud."},
		{"/api/v1/branches/BOOM/sync", "", "sync.unavailable", 503, "El servicio no está disponible por ahora."},
		{"/api/v1/nothing", "", "sync.not_found", 404, "No existe el recurso solicitado."},
		// The one rule for branch IDs (queue.ParseBranchID), as the broker and agent use.
		{"/api/v1/branches/scl_001/sync", "", "sync.branch_invalid", 400, "El identificador de sucursal \"scl_001\" no es válido."},
	} {
		rec := get(tc.path, tc.lang)
		assert.Equal(t, tc.status, rec.Code, tc.path)
		assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
		var p map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
		assert.Equal(t, tc.code, p["code"])
		assert.Equal(t, tc.title, p["title"])
	}
}
