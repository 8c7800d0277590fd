package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/ticketero/ticketero/cloud"
)

// TestRoutes pins the routing of the explicit config and user routes: each
// change has its own path, anything else is the 404 page, and a GET route
// answers HEAD.
func TestRoutes(t *testing.T) {
	e := newEnv(t)
	e.user("admin@routes.cl", "admin", nil, nil)
	c, csrf := e.login("admin@routes.cl")
	post := func(path string, kv ...string) *http.Response {
		f := url.Values{"csrf": {csrf}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		res, _ := e.post(c, path, f)
		return res
	}
	require.Equal(t, http.StatusSeeOther, post("/config/branches", "id", "RT-001", "name", "Rutas", "region", "RT",
		"time_zone", "America/Santiago", "opening_hours", "09:00-14:00").StatusCode)
	require.Equal(t, http.StatusSeeOther, post("/config/branches/RT-001/services", "code", "C", "name", "Caja",
		"target_min", "10", "mean_min", "5", "priority", "1").StatusCode)
	require.Equal(t, http.StatusSeeOther, post("/config/branches/RT-001/counters", "number", "3", "name", "Módulo 3").StatusCode)

	for _, tc := range []struct {
		name, method, path string
		want               int
	}{
		{"unknown part", http.MethodPost, "/config/branches/RT-001/bogus", http.StatusNotFound},
		{"unknown op", http.MethodPost, "/config/branches/RT-001/services/C/rename", http.StatusNotFound},
		{"unknown branch", http.MethodPost, "/config/branches/NO-001/counters/3/delete", http.StatusNotFound},
		{"wrong method", http.MethodGet, "/config/branches/RT-001/services", http.StatusNotFound},
		{"unknown user op", http.MethodPost, "/admin/users/1/promote", http.StatusNotFound},
		{"counter delete", http.MethodPost, "/config/branches/RT-001/counters/3/delete", http.StatusSeeOther},
		{"service delete", http.MethodPost, "/config/branches/RT-001/services/C/delete", http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res *http.Response
			if tc.method == http.MethodPost {
				res = post(tc.path)
			} else {
				res, _ = e.get(c, tc.path)
			}
			assert.Equal(t, tc.want, res.StatusCode)
			assert.Equal(t, "DENY", res.Header.Get("X-Frame-Options"), "security headers on every answer")
		})
	}
	cfg, err := e.store.BranchConfig(context.Background(), "RT-001")
	require.NoError(t, err)
	assert.Empty(t, cfg.Counters, "the counter was deleted")
	assert.Empty(t, cfg.Services, "the service was deleted")
	assert.Len(t, e.audited(cloud.AuditConfigChange, "admin@routes.cl"), 5, "the branch, two changes and two deletions")

	t.Run("head", func(t *testing.T) {
		res, err := http.Head(e.srv.URL + "/login")
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusOK, res.StatusCode)
	})
	t.Run("self disable", func(t *testing.T) {
		p, err := e.store.Authenticate(context.Background(), "admin@routes.cl", "password-admin@routes.cl")
		require.NoError(t, err)
		res := post("/admin/users/" + strconv.FormatInt(p.UserID, 10) + "/disable")
		assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	})
}
