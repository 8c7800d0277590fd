package web_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
)

// The configuration list at network scale: 230 branches are three pages of
// 100 with numbered links that keep the search; the search (ID, name
// without accents, tag) and the region, version and template filters are
// the URL's query (a GET form: no JavaScript needed) and stay selected; a
// page past the last shows the last; a bad page or filter is a 400 page.
func TestConfigListSearchFiltersPages(t *testing.T) {
	e := newEnv(t)
	e.user("admin@cfglist.cl", "admin", nil, nil)
	c, _ := e.login("admin@cfglist.cl")
	ctx := context.Background()
	var rows [][]any
	for i := 1; i <= 230; i++ {
		region := "ZL Norte"
		if i > 150 {
			region = "ZL Sur"
		}
		rows = append(rows, []any{fmt.Sprintf("ZL-%03d", i), fmt.Sprintf("Lista %d", i), region})
	}
	rows[6][1] = "Ñuñoa Plaza Egaña"
	_, err := e.f.Pool.CopyFrom(ctx, pgx.Identifier{"branches"}, []string{"id", "name", "region"}, pgx.CopyFromRows(rows))
	require.NoError(t, err)
	require.NoError(t, e.store.SetTags(ctx, "ZL-200", []string{"zlpiloto"}))
	_, err = e.f.Pool.Exec(ctx, `INSERT INTO hq_branch_configs (branch, version, snapshot, published_at, published_by)
		VALUES ('ZL-003', 1, '{}', now(), 'test'), ('ZL-003', 2, '{}', now(), 'test')`)
	require.NoError(t, err)
	_, err = e.f.Pool.Exec(ctx, `INSERT INTO branch_sync (branch, online, config_version) VALUES ('ZL-003', true, 1)`)
	require.NoError(t, err)
	tpl, err := e.store.PutTemplate(ctx, cloud.Template{Name: "ZL lista", TargetKind: cloud.TargetBranches, TargetBranches: []string{"ZL-150", "ZL-151"}}, "admin@cfglist.cl")
	require.NoError(t, err)

	get := func(path string, hdr ...string) string {
		t.Helper()
		res, body := e.get(c, path, hdr...)
		require.Equal(t, http.StatusOK, res.StatusCode, "%s: %.500s", path, body)
		return body
	}
	listed := func(body string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`<tr[^>]*><td><a href="/config/branches/([^"]+)">`).FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}

	body := get("/config?q=zl-")
	assert.Contains(t, body, `<form method="get" action="/config" class="filters" id="config-filters" role="search"`)
	assert.Contains(t, body, `value="zl-"`, "the search stays in its field")
	ids := listed(body)
	require.Len(t, ids, 100)
	assert.Equal(t, "ZL-001", ids[0])
	assert.Equal(t, "ZL-100", ids[99])
	assert.Contains(t, body, `<p id="config-count">Sucursales 1 a 100 de 230</p>`)
	assert.Contains(t, body, `<a href="/config?page=2&amp;q=zl-" aria-label="Página 2">2</a>`, "page links keep the search")
	assert.Contains(t, body, `<a rel="next" href="/config?page=2&amp;q=zl-">`)
	assert.NotContains(t, body, `rel="prev"`)
	assert.Contains(t, body, `aria-current="page" aria-label="Página 1"><strong>1</strong>`)
	assert.Contains(t, body, `<a href="/config" id="config-clear">Quitar filtros</a>`)

	body = get("/config?q=zl-&page=2")
	assert.Equal(t, "ZL-101", listed(body)[0])
	assert.Contains(t, body, `<a rel="prev" href="/config?q=zl-">`)
	assert.Contains(t, body, `aria-current="page" aria-label="Página 2"><strong>2</strong>`)
	body = get("/config?q=zl-&page=99")
	assert.Equal(t, []string{"ZL-201", "ZL-230"}, []string{listed(body)[0], listed(body)[29]}, "past the last page: the last")
	assert.Contains(t, body, `Sucursales 201 a 230 de 230`)
	assert.NotContains(t, body, `rel="next"`)

	assert.Equal(t, []string{"ZL-007"}, listed(get("/config?q=nunoa+egana")), "accents and case ignored")
	body = get("/config?q=zlpiloto")
	assert.Equal(t, []string{"ZL-200"}, listed(body), "a tag")
	assert.Contains(t, body, `<small class="tags">(zlpiloto)</small>`)
	assert.NotContains(t, body, `id="config-pager"`, "one page: no pager")
	body = get("/config?region=ZL+Sur&q=zl")
	assert.Len(t, listed(body), 80)
	assert.Contains(t, body, `<option selected>ZL Sur</option>`)
	body = get("/config?q=zl-&version=behind")
	assert.Equal(t, []string{"ZL-003"}, listed(body))
	assert.Contains(t, body, `<tr class="late"><td><a href="/config/branches/ZL-003">ZL-003</a> Lista 3</td><td>ZL Norte</td><td>v1</td><td>v2</td></tr>`)
	assert.Contains(t, body, `<option value="behind" selected>Atrasadas</option>`)
	body = get(fmt.Sprintf("/config?template=%d", tpl.ID))
	assert.Equal(t, []string{"ZL-150", "ZL-151"}, listed(body))
	assert.Contains(t, body, fmt.Sprintf(`<option value="%d" selected>ZL lista</option>`, tpl.ID))
	body = get("/config?q=no-such-branch-anywhere")
	assert.Empty(t, listed(body))
	assert.Contains(t, body, `Ninguna sucursal coincide con la búsqueda y los filtros.`)

	body = get("/config?q=zl-&page=3", "Accept-Language", "en")
	assert.Contains(t, body, `Branches 201 to 230 of 230`)
	assert.Contains(t, body, `aria-current="page" aria-label="Page 3"><strong>3</strong>`)

	for _, bad := range []string{"/config?page=0", "/config?page=x", "/config?version=v2", "/config?template=abc"} {
		res, body := e.get(c, bad)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, bad)
		assert.Contains(t, body, "no es válid", bad)
	}
}
