package hq_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/shared/queue"
)

// The configuration list at network scale: a search on ID, name (accents
// and case ignored), region or tag, the region, version-state and template
// filters, and pages counted and cut in the database (a page past the last
// shows the last).
func TestConfigListFilterAndPages(t *testing.T) {
	s, f, _ := newStore(t)
	ctx := context.Background()
	var ids []string
	for i := 1; i <= 12; i++ {
		ids = append(ids, fmt.Sprintf("QL-%03d", i))
	}
	forget(t, f, ids...)
	for i, id := range ids {
		region, name := "QL Norte", fmt.Sprintf("Lista %d", i+1)
		if i >= 8 {
			region = "QL Sur"
		}
		if id == "QL-003" {
			name = "Concepción Centro"
		}
		require.NoError(t, s.PutBranch(ctx, hq.BranchInput{ID: id, Name: name, Region: region, TimeZone: "America/Santiago"}))
	}
	require.NoError(t, s.SetTags(ctx, "QL-010", []string{"qlmall"}))
	// QL-001 runs v1 of v2 (behind); QL-002 runs v1 of v1 (current); the
	// others were never published.
	for _, v := range []struct {
		branch  string
		version int
	}{{"QL-001", 1}, {"QL-001", 2}, {"QL-002", 1}} {
		_, err := f.Pool.Exec(ctx, `INSERT INTO hq_branch_configs (branch, version, snapshot, published_at, published_by)
			VALUES ($1, $2, '{}', now(), 'test')`, v.branch, v.version)
		require.NoError(t, err)
	}
	_, err := f.Pool.Exec(ctx, `INSERT INTO branch_sync (branch, online, config_version) VALUES ('QL-001', true, 1), ('QL-002', true, 1)`)
	require.NoError(t, err)

	list := func(fl cloud.ConfigListFilter) cloud.ConfigListPage {
		t.Helper()
		p, err := s.ConfigList(ctx, fl)
		require.NoError(t, err)
		return p
	}
	idsOf := func(p cloud.ConfigListPage) []string {
		var out []string
		for _, r := range p.Rows {
			out = append(out, r.ID)
		}
		return out
	}

	p := list(cloud.ConfigListFilter{Query: "ql-", Limit: 5})
	assert.Equal(t, 12, p.Total)
	assert.Equal(t, ids[:5], idsOf(p), "by ID, a page of 5")
	p = list(cloud.ConfigListFilter{Query: "QL-", Limit: 5, Offset: 10})
	assert.Equal(t, []string{"QL-011", "QL-012"}, idsOf(p))
	assert.Equal(t, 10, p.Offset)
	p = list(cloud.ConfigListFilter{Query: "QL-", Limit: 5, Offset: 500})
	assert.Equal(t, 10, p.Offset, "past the end: the last page")
	assert.Equal(t, []string{"QL-011", "QL-012"}, idsOf(p))
	assert.Len(t, list(cloud.ConfigListFilter{Query: "QL-"}).Rows, 12, "no limit: every match")

	assert.Equal(t, []string{"QL-003"}, idsOf(list(cloud.ConfigListFilter{Query: "concepcion"})), "accents and case ignored")
	assert.Equal(t, []string{"QL-003"}, idsOf(list(cloud.ConfigListFilter{Query: "CONCEPCIÓN"})))
	p = list(cloud.ConfigListFilter{Query: "qlmall"})
	assert.Equal(t, []string{"QL-010"}, idsOf(p), "a tag")
	assert.Equal(t, []string{"qlmall"}, p.Rows[0].Tags)
	assert.Equal(t, ids[8:], idsOf(list(cloud.ConfigListFilter{Query: "ql sur"})), "a region's name")
	assert.Equal(t, ids[8:], idsOf(list(cloud.ConfigListFilter{Region: "QL Sur"})))
	p = list(cloud.ConfigListFilter{Query: "QL_0%"})
	assert.Zero(t, p.Total, "LIKE's wildcards are the characters themselves")
	assert.Empty(t, p.Rows)

	p = list(cloud.ConfigListFilter{Query: "QL-", Version: cloud.ConfigBehind})
	require.Equal(t, []string{"QL-001"}, idsOf(p))
	assert.Equal(t, cloud.ConfigListRow{ID: "QL-001", Name: "Lista 1", Region: "QL Norte", Running: 1, Published: 2, Tags: []string{}}, p.Rows[0])
	assert.Equal(t, []string{"QL-002"}, idsOf(list(cloud.ConfigListFilter{Query: "QL-", Version: cloud.ConfigCurrent})))
	assert.Equal(t, 10, list(cloud.ConfigListFilter{Query: "QL-", Version: cloud.ConfigUnpublished}).Total)
	_, err = s.ConfigList(ctx, cloud.ConfigListFilter{Version: "v9"})
	assert.Equal(t, "hq.configlist.version_invalid", queue.ErrorReason(err))

	for _, tc := range []struct {
		tpl  hq.Template
		want []string
	}{
		{hq.Template{Name: "QL región", TargetKind: hq.TargetRegion, TargetValue: "QL Sur"}, ids[8:]},
		{hq.Template{Name: "QL etiqueta", TargetKind: hq.TargetTag, TargetValue: "qlmall"}, []string{"QL-010"}},
		{hq.Template{Name: "QL lista", TargetKind: hq.TargetBranches, TargetBranches: []string{"QL-002", "QL-005"}}, []string{"QL-002", "QL-005"}},
	} {
		tpl, err := s.PutTemplate(ctx, tc.tpl, "admin@banco.cl")
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.DeleteTemplate(context.Background(), tpl.ID) })
		assert.Equal(t, tc.want, idsOf(list(cloud.ConfigListFilter{Template: tpl.ID})), tc.tpl.Name)
	}
	assert.Zero(t, list(cloud.ConfigListFilter{Template: 1 << 40}).Total, "no such template: no branch")
}
