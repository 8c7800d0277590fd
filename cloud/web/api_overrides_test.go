package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
)

// A template's per-branch overrides through the configuration API, as the
// template page's form sets them: a branch keeps exactly the fields sent
// (the template's preview shows them kept), an empty
// list gives all up; the form's validation and guards refuse the rest with
// stable codes and Spanish (or English) messages, writing nothing; every
// change is audited with the token as actor; the form refuses what the API
// refuses.
func TestAPITemplateOverrides(t *testing.T) {
	a := newAPIEnv(t)
	admin := a.token("overrides", cloud.RoleAdmin, nil, nil)
	viewer := a.token("overrides-lector", cloud.RoleViewer, nil, nil)
	for _, b := range []struct{ id, region string }{{"OV-001", "OV"}, {"OV-002", "OV"}, {"OV-003", "OW"}} {
		require.Equal(t, 201, a.call(admin, "PUT", "/api/v1/config/branches/"+b.id,
			map[string]any{"name": "Propios " + b.id, "region": b.region, "time_zone": "America/Santiago", "opening_hours": "08:00-13:00"}).Status)
		require.Equal(t, 200, a.call(admin, "PUT", "/api/v1/config/branches/"+b.id+"/services/C",
			map[string]any{"name": "Caja", "target_wait_s": 600, "mean_service_s": 300}).Status)
	}
	var tpl struct{ ID int64 }
	res := a.call(admin, "POST", "/api/v1/config/templates", map[string]any{"name": "Región OV", "target_kind": "region", "target_value": "OV",
		"services":      []map[string]any{{"code": "C", "name": "Caja OV", "target_wait_s": 480, "mean_service_s": 240, "priority": 1}},
		"opening_hours": "09:00-15:00"})
	require.Equal(t, 201, res.Status, "%s", res.Body)
	res.decode(t, &tpl)
	base := "/api/v1/config/templates/" + strconv.FormatInt(tpl.ID, 10) + "/overrides/"
	type answer struct {
		ID        int64
		Overrides map[string][]string
	}
	overrides := func() map[string][]string {
		t.Helper()
		var got answer
		a.call(viewer, "GET", "/api/v1/config/templates/"+strconv.FormatInt(tpl.ID, 10), nil).decode(t, &got)
		return got.Overrides
	}

	// OV-001 keeps its hours and its Caja (sent twice, unsorted).
	res = a.call(admin, "PUT", base+"OV-001", map[string]any{"fields": []string{"service:C", "opening_hours", "service:C"}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var got answer
	res.decode(t, &got)
	assert.Equal(t, tpl.ID, got.ID)
	assert.Equal(t, map[string][]string{"OV-001": {"opening_hours", "service:C"}}, got.Overrides)
	var prev struct {
		Branches []struct {
			Branch     struct{ ID string }
			Overridden []string
			Kept       []string
		}
	}
	a.call(viewer, "GET", "/api/v1/config/templates/"+strconv.FormatInt(tpl.ID, 10)+"/preview", nil).decode(t, &prev)
	require.Len(t, prev.Branches, 2)
	assert.Equal(t, "OV-001", prev.Branches[0].Branch.ID)
	assert.Equal(t, []string{"opening_hours", "service:C"}, prev.Branches[0].Overridden)
	assert.ElementsMatch(t, []string{"opening_hours", "service:C"}, prev.Branches[0].Kept, "the publication leaves them alone")
	assert.Empty(t, prev.Branches[1].Overridden, "OV-002 takes the template whole")

	// Replaced whole: Caja given up; then everything.
	res = a.call(admin, "PUT", base+"OV-001", map[string]any{"fields": []string{"opening_hours"}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, map[string][]string{"OV-001": {"opening_hours"}}, overrides())
	audit := a.audited(cloud.AuditConfigTemplate, "token:overrides")
	var details []string
	for _, e := range audit {
		details = append(details, e.Target+" "+e.Detail)
	}
	assert.Contains(t, details, fmt.Sprintf("template:%d overrides OV-001 keeps=opening_hours,service:C", tpl.ID))
	assert.Contains(t, details, fmt.Sprintf("template:%d overrides OV-001 keeps=opening_hours", tpl.ID))

	// Refusals: the form's validation and guards, each with its code and
	// message; nothing is written.
	for _, tc := range []struct {
		name, tok, path string
		body            any
		hdr             []string
		status          int
		code, detail    string
	}{
		{"not a field", admin, base + "OV-001", map[string]any{"fields": []string{"opening_hours", "pin"}}, nil, 400,
			"hq.template.override", "Campo desconocido: pin."},
		{"a part the template does not manage", admin, base + "OV-001", map[string]any{"fields": []string{"rules"}}, nil, 400,
			"hq.template.override_unmanaged", "La plantilla Región OV no administra rules: la sucursal no tiene nada propio que mantener ahí."},
		{"in English", admin, base + "OV-001", map[string]any{"fields": []string{"service:P"}}, []string{"Accept-Language", "en"}, 400,
			"hq.template.override_unmanaged", "Template Región OV does not manage service:P: there is nothing for the branch to keep as its own."},
		{"a branch the template does not target", admin, base + "OV-003", map[string]any{"fields": []string{"opening_hours"}}, nil, 409,
			"hq.template.not_target", "La plantilla Región OV no abarca la sucursal OV-003: solo una sucursal que abarca puede mantener campos propios."},
		{"no fields", admin, base + "OV-001", map[string]any{}, nil, 400, "hq.api.field_required", ""},
		{"null fields", admin, base + "OV-001", `{"fields": null}`, nil, 400, "hq.api.field_required", ""},
		{"an unknown member", admin, base + "OV-001", map[string]any{"fields": []string{}, "keep": true}, nil, 400, "hq.api.unknown_field", ""},
		{"not a list", admin, base + "OV-001", `{"fields": "opening_hours"}`, nil, 400, "", ""},
		{"no such branch", admin, base + "OV-999", map[string]any{"fields": []string{}}, nil, 404, "hq.branch.not_found", ""},
		{"no such template", admin, "/api/v1/config/templates/999999/overrides/OV-001", map[string]any{"fields": []string{}}, nil, 404, "hq.template.not_found", ""},
		{"not a template ID", admin, "/api/v1/config/templates/x/overrides/OV-001", map[string]any{"fields": []string{}}, nil, 404, "hq.template.not_found", ""},
		{"a read-only token", viewer, base + "OV-001", map[string]any{"fields": []string{}}, nil, 403, "hq.api.read_only", ""},
		{"no token", "", base + "OV-001", map[string]any{"fields": []string{}}, nil, 401, "hq.api.token_required", ""},
	} {
		res := a.call(tc.tok, "PUT", tc.path, tc.body, tc.hdr...)
		assert.Equal(t, tc.status, res.Status, "%s: %s", tc.name, res.Body)
		code, detail := res.problem(t)
		if tc.code != "" {
			assert.Equal(t, tc.code, code, tc.name)
		}
		if tc.detail != "" {
			assert.Equal(t, tc.detail, detail, tc.name)
		}
	}
	assert.Equal(t, map[string][]string{"OV-001": {"opening_hours"}}, overrides(), "nothing written by the refusals")
	// Giving up is always allowed, targeted or not.
	require.Equal(t, http.StatusOK, a.call(admin, "PUT", base+"OV-003", map[string]any{"fields": []string{}}).Status)

	// The form refuses what the API refuses, with the same message.
	a.user("admin@overrides.cl", "admin", nil, nil)
	c, csrf := a.login("admin@overrides.cl")
	r, page := a.post(c, fmt.Sprintf("/config/templates/%d/overrides", tpl.ID), url.Values{"csrf": {csrf}, "branch": {"OV-003"}, "field": {"opening_hours"}})
	assert.Equal(t, http.StatusConflict, r.StatusCode)
	assert.Contains(t, page, "no abarca la sucursal OV-003")
	r, _ = a.post(c, fmt.Sprintf("/config/templates/%d/overrides", tpl.ID), url.Values{"csrf": {csrf}, "branch": {"OV-002"}, "field": {"service:C"}})
	assert.Equal(t, http.StatusSeeOther, r.StatusCode)
	assert.Equal(t, map[string][]string{"OV-001": {"opening_hours"}, "OV-002": {"service:C"}}, overrides())
}
