package hq_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

func ptr[T any](v T) *T { return &v }

// sentConfigs records what a publication sends (the broker's side is the
// e2e test's).
type sentConfigs struct{ got []event.Config }

func (p *sentConfigs) PublishConfig(_ context.Context, c event.Config) error {
	p.got = append(p.got, c)
	return nil
}

// A template for a region: two branches set up locally (imported), one of
// them with people waiting for Plataforma and keeping its own hours. The
// preview shows what changes where and refuses the branch whose waiting
// customers the template would strand; the staged publication publishes
// the first branch, then the rest on confirmation, refusing that branch the
// way its own publication would and writing nothing there; once it keeps
// Plataforma as its own, it gets the template with its hours and service.
func TestTemplateRegionStagedPublish(t *testing.T) {
	s, f, c := newStore(t)
	forget(t, f, "TA-001", "TA-002", "TA-003")
	ctx := context.Background()
	es := postgres.NewEventStore(f.Pool, nil)
	day := c.t.In(mustSantiago(t)).Format(time.DateOnly)
	ingest(t, es, "TA-001", 1, c.t, branchReport())
	evs := append([]any{branchReport()}, waitingTickets("TA-002", "P", day, 1, 3, c.t)...)
	ingest(t, es, "TA-002", 1, c.t, evs...)
	ingest(t, es, "TA-003", 1, c.t, branchReport())
	for _, b := range []hq.BranchInput{
		{ID: "TA-001", Name: "Antofagasta Centro", Region: "Norte Grande", TimeZone: "America/Santiago"},
		{ID: "TA-002", Name: "Antofagasta Mall", Region: "Norte Grande", TimeZone: "America/Santiago"},
		{ID: "TA-003", Name: "Temuco", Region: "Araucanía", TimeZone: "America/Santiago"},
	} {
		require.NoError(t, s.PutBranch(ctx, b))
	}
	require.NoError(t, s.SetTags(ctx, "TA-002", []string{"Mall", "piloto", "mall"}))
	tags, err := s.Tags(ctx, "TA-002")
	require.NoError(t, err)
	assert.Equal(t, []string{"mall", "piloto"}, tags, "lower case, once each")
	assert.Equal(t, queue.CodeInvalid, code(s.SetTags(ctx, "TA-002", []string{"con espacio"})))
	tagged, err := s.TaggedBranches(ctx)
	require.NoError(t, err)
	assert.Contains(t, tagged, cloud.TaggedBranch{ID: "TA-002", Name: "Antofagasta Mall", Region: "Norte Grande", Tags: []string{"mall", "piloto"}})

	tpl, err := s.PutTemplate(ctx, hq.Template{Name: "Norte estándar", TargetKind: hq.TargetRegion, TargetValue: "Norte Grande",
		Services: []queue.Service{
			{Code: "E", Name: "Empresas", TargetWaitS: 1200, MeanServiceS: 900, Priority: 2},
			{Code: "C", Name: "Caja", TargetWaitS: 720, MeanServiceS: 240, Priority: 1},
		},
		Rules:        &event.Rules{PreferentialRatio: 3, RecallLimit: 2, PreNoticeAhead: 4, PreNoticeByService: map[string]int{"E": 1, "P": 2}},
		OpeningHours: ptr("08:30-14:00"),
		Outcomes:     []queue.Outcome{{Code: "resuelto", Name: "Resuelto"}},
	}, "admin@banco.cl")
	require.NoError(t, err)
	assert.Equal(t, 1, tpl.Version)
	_, err = s.PutTemplate(ctx, hq.Template{Name: "Norte estándar", TargetKind: hq.TargetTag, TargetValue: "mall"}, "admin@banco.cl")
	assert.Equal(t, "hq.template.name_taken", queue.ErrorReason(err))
	require.NoError(t, s.SetOverride(ctx, tpl.ID, "TA-002", hq.OverrideHours, true))
	assert.Equal(t, queue.CodeInvalid, code(s.SetOverride(ctx, tpl.ID, "TA-002", "pin", true)))

	// Resolution: the region's two branches; TA-002 keeps its hours.
	_, rs, err := s.ResolveTemplate(ctx, tpl.ID)
	require.NoError(t, err)
	require.Len(t, rs, 2)
	assert.Equal(t, "TA-001", rs[0].Branch.ID)
	assert.Equal(t, "08:30-14:00", rs[0].Draft.OpeningHours)
	assert.Equal(t, "09:00-14:00", rs[1].Draft.OpeningHours, "TA-002 keeps its own hours")
	assert.Equal(t, []string{hq.OverrideHours}, rs[1].Kept)
	assert.Equal(t, map[string]int{"E": 1}, rs[0].Draft.Rules.PreNoticeByService, "no pre-notice for a service the branch does not get")
	assert.Equal(t, []string{"C", "E"}, codes(rs[0].Draft.Services))
	assert.Equal(t, []string{"C"}, rs[0].Draft.Executives[0].Services, "E01 no longer serves P, which goes")
	assert.Empty(t, rs[0].Draft.Executives[1].Services)

	// The preview: what changes where, and the guard per branch.
	p, err := s.PreviewTemplate(ctx, tpl.ID, i18n.ES)
	require.NoError(t, err)
	assert.Equal(t, 1, p.Changing)
	assert.Equal(t, 1, p.Refused)
	assert.Equal(t, 1, p.WithOverrides)
	assert.Equal(t, 2, p.ServicesAdded)
	assert.Equal(t, 2, p.ServicesRemoved)
	assert.Equal(t, 2, p.ServicesChanged)
	a, b := p.Branches[0], p.Branches[1]
	assert.Equal(t, []hq.DiffItem{
		{Kind: "changed", Key: "C", Before: "Caja · meta 10 min · atención media 4 min · prioridad 1", After: "Caja · meta 12 min · atención media 4 min · prioridad 1"},
		{Kind: "added", Key: "E", After: "Empresas · meta 20 min · atención media 15 min · prioridad 2"},
		{Kind: "removed", Key: "P", Before: "Plataforma · meta 15 min · atención media 10 min · prioridad 1"},
	}, a.Diff.Services)
	assert.Equal(t, []hq.DiffItem{{Kind: "changed", Key: "opening_hours", Before: "sin horario (abierta todo el día)", After: "08:30-14:00"}}, a.Diff.Hours)
	assert.Equal(t, []hq.DiffItem{{Kind: "added", Key: "resuelto", After: "Resuelto"}}, a.Outcomes)
	require.Len(t, a.Rules, 1)
	assert.False(t, a.Refused())
	assert.True(t, b.Refused())
	assert.Contains(t, i18n.T(i18n.ES, "hq.config.strands_service", b.Stranded[0].Code, b.Stranded[0].Name, b.Stranded[0].Waiting), "quita el servicio P (Plataforma), con 3 en espera")
	assert.Equal(t, "09:00-14:00", b.Diff.Hours[0].After, "TA-002's own hours")

	// Stage one: one branch, at once.
	sent := &sentConfigs{}
	opts := hq.PublishOptions{By: "admin@banco.cl", IP: "10.0.0.1", Publisher: sent, FirstStage: 1}
	ro, err := s.StartTemplateRollout(ctx, tpl.ID, opts)
	require.NoError(t, err)
	assert.Equal(t, hq.RolloutFirstStage, ro.Status)
	assert.Equal(t, []string{"TA-001"}, ro.FirstStage)
	assert.Equal(t, []string{"TA-002"}, ro.Rest)
	require.Len(t, ro.Results, 1)
	assert.Equal(t, hq.StageResult{Branch: "TA-001", Stage: 1, Outcome: hq.ResultPublished, Version: 1,
		Summary: "services +1 -1 ~1, counters +0 -0 ~0, executives +0 -0 ~2"}, ro.Results[0])
	require.Len(t, sent.got, 1)
	cfg := sent.got[0]
	assert.Equal(t, "TA-001", cfg.Branch)
	assert.Equal(t, []string{"C", "E"}, codes(cfg.Services))
	assert.Equal(t, "08:30-14:00", cfg.OpeningHours)
	assert.Equal(t, 3, cfg.Rules.PreferentialRatio)
	assert.Equal(t, []queue.Outcome{{Code: "resuelto", Name: "Resuelto"}}, cfg.Outcomes)
	_, err = s.LatestConfig(ctx, "TA-002")
	assert.Equal(t, queue.CodeNotFound, code(err), "the rest waits for HQ's confirmation")
	_, err = s.StartTemplateRollout(ctx, tpl.ID, opts)
	assert.Equal(t, "hq.template.rollout_open", queue.ErrorReason(err))

	// Confirmed: TA-002 is refused like its own publication; its draft is
	// untouched.
	ro, err = s.ContinueTemplateRollout(ctx, ro.ID, opts)
	require.NoError(t, err)
	assert.Equal(t, hq.RolloutDone, ro.Status)
	require.Len(t, ro.Results, 2)
	assert.Equal(t, hq.ResultRefused, ro.Results[1].Outcome)
	assert.Equal(t, "hq.config.strands_service", ro.Results[1].Reason)
	got, err := s.TemplateRollout(ctx, ro.ID)
	require.NoError(t, err)
	assert.Contains(t, got.Results[1].Message(i18n.ES), "quita el servicio P (Plataforma), con 3 en espera", "the refusal survives storage")
	d2, err := s.BranchConfig(ctx, "TA-002")
	require.NoError(t, err)
	assert.Equal(t, []string{"C", "P"}, codes(d2.Services), "nothing written at a refused branch")
	assert.Len(t, sent.got, 1)
	_, err = s.ContinueTemplateRollout(ctx, ro.ID, opts)
	assert.Equal(t, "hq.template.rollout_closed", queue.ErrorReason(err))
	entries, err := s.AuditLog(ctx, hq.AuditFilter{Action: hq.AuditConfigPublish, Actor: "admin@banco.cl"})
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "branch:TA-001", entries[0].Target)
	assert.Contains(t, entries[0].Detail, `version 1: template "Norte estándar" v1 stage 1`)
	entries, err = s.AuditLog(ctx, hq.AuditFilter{Action: hq.AuditConfigTemplate})
	require.NoError(t, err)
	assert.Len(t, entries, 2, "each stage")

	// TA-002 keeps Plataforma as its own: published with its hours and P;
	// TA-001 runs the template already: unchanged, nothing sent.
	require.NoError(t, s.SetOverride(ctx, tpl.ID, "TA-002", hq.OverrideServicePrefix+"P", true))
	ro, err = s.StartTemplateRollout(ctx, tpl.ID, hq.PublishOptions{By: "admin@banco.cl", Publisher: sent})
	require.NoError(t, err)
	assert.Equal(t, hq.RolloutDone, ro.Status, "no first stage: all at once")
	assert.Equal(t, hq.ResultUnchanged, ro.Results[0].Outcome)
	assert.Equal(t, hq.ResultPublished, ro.Results[1].Outcome, "%+v", ro.Results[1])
	require.Len(t, sent.got, 2)
	cfg = sent.got[1]
	assert.Equal(t, []string{"C", "E", "P"}, codes(cfg.Services))
	assert.Equal(t, "09:00-14:00", cfg.OpeningHours)
	assert.Equal(t, map[string]int{"E": 1, "P": 2}, cfg.Rules.PreNoticeByService)

	// The version report: both published, neither runs it yet.
	rows, err := s.ConfigVersions(ctx, hq.VersionFilter{Region: "Norte Grande"})
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, int64(1), rows[0].Published)
	assert.True(t, rows[0].Lagging())
	assert.Equal(t, "Norte estándar", rows[1].Template)
	rows, err = s.ConfigVersions(ctx, hq.VersionFilter{Tag: "mall"})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, "TA-002", rows[0].ID)
	assert.Equal(t, []string{"mall", "piloto"}, rows[0].Tags)
	_, err = f.Pool.Exec(ctx, `UPDATE branch_sync SET config_version = 1 WHERE branch = 'TA-001'`)
	require.NoError(t, err)
	rows, err = s.ConfigVersions(ctx, hq.VersionFilter{Region: "Norte Grande", Lagging: true})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, "TA-002", rows[0].ID)

	// A template changed between the stages: the second is refused.
	ro, err = s.StartTemplateRollout(ctx, tpl.ID, hq.PublishOptions{By: "admin@banco.cl", FirstPercent: 50})
	require.NoError(t, err)
	assert.Len(t, ro.FirstStage, 1)
	tpl.OpeningHours = ptr("08:00-14:00")
	tpl, err = s.PutTemplate(ctx, tpl, "admin@banco.cl")
	require.NoError(t, err)
	assert.Equal(t, 2, tpl.Version)
	_, err = s.ContinueTemplateRollout(ctx, ro.ID, hq.PublishOptions{By: "admin@banco.cl"})
	assert.Equal(t, "hq.template.changed", queue.ErrorReason(err))
	require.NoError(t, s.CancelTemplateRollout(ctx, ro.ID, hq.PublishOptions{By: "admin@banco.cl"}))
	rows, err = s.ConfigVersions(ctx, hq.VersionFilter{Region: "Norte Grande"})
	require.NoError(t, err)
	assert.True(t, rows[0].TemplateBehind(), "applied v1, the template is at v2")
}

// Targets by tag and by list; a template's parts are validated; a part it
// does not manage stays the branch's.
func TestTemplateTargetsAndValidation(t *testing.T) {
	s, f, _ := newStore(t)
	forget(t, f, "TB-001", "TB-002")
	ctx := context.Background()
	for _, id := range []string{"TB-001", "TB-002"} {
		require.NoError(t, s.PutBranch(ctx, hq.BranchInput{ID: id, Name: id, Region: "Sur Test", TimeZone: "America/Santiago", OpeningHours: "10:00-13:00"}))
	}
	require.NoError(t, s.SetTags(ctx, "TB-002", []string{"piloto-b"}))
	for _, bad := range []hq.Template{
		{Name: "", TargetKind: hq.TargetTag, TargetValue: "piloto-b"},
		{Name: "x", TargetKind: "everyone"},
		{Name: "x", TargetKind: hq.TargetTag, TargetValue: "con espacio"},
		{Name: "x", TargetKind: hq.TargetBranches},
		{Name: "x", TargetKind: hq.TargetBranches, TargetBranches: []string{"no válida"}},
		{Name: "x", TargetKind: hq.TargetTag, TargetValue: "a", OpeningHours: ptr("25:00-26:00")},
		{Name: "x", TargetKind: hq.TargetTag, TargetValue: "a", Rules: &event.Rules{PreferentialRatio: 99}},
		{Name: "x", TargetKind: hq.TargetTag, TargetValue: "a", Services: []queue.Service{{Code: "C", Name: "Caja", TargetWaitS: 60, MeanServiceS: 60}, {Code: "C", Name: "Caja", TargetWaitS: 60, MeanServiceS: 60}}},
		{Name: "x", TargetKind: hq.TargetTag, TargetValue: "a", Outcomes: []queue.Outcome{{Code: "", Name: ""}}},
	} {
		_, err := s.PutTemplate(ctx, bad, "admin")
		assert.Equal(t, queue.CodeInvalid, code(err), "%+v", bad)
	}
	byTag, err := s.PutTemplate(ctx, hq.Template{Name: "Piloto B", TargetKind: hq.TargetTag, TargetValue: "PILOTO-B", Rules: &event.Rules{PreferentialRatio: 1}}, "admin")
	require.NoError(t, err)
	targets, err := s.TemplateTargets(ctx, byTag)
	require.NoError(t, err)
	require.Len(t, targets, 1)
	assert.Equal(t, "TB-002", targets[0].ID)
	byList, err := s.PutTemplate(ctx, hq.Template{Name: "Lista B", TargetKind: hq.TargetBranches, TargetBranches: []string{"TB-002", "TB-001", "ZZ-404", "TB-001"}}, "admin")
	require.NoError(t, err)
	assert.Equal(t, []string{"TB-001", "TB-002", "ZZ-404"}, byList.TargetBranches)
	targets, err = s.TemplateTargets(ctx, byList)
	require.NoError(t, err)
	assert.Len(t, targets, 2, "only branches that exist")
	counts, err := s.TemplateTargetCounts(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, counts[byTag.ID])
	assert.Equal(t, 2, counts[byList.ID], "the templates page's count is TemplateTargets'")

	_, rs, err := s.ResolveTemplate(ctx, byTag.ID)
	require.NoError(t, err)
	assert.Equal(t, "10:00-13:00", rs[0].Draft.OpeningHours, "hours not managed: the branch's")
	assert.Equal(t, 1, rs[0].Draft.Rules.PreferentialRatio)
	ro, err := s.StartTemplateRollout(ctx, byTag.ID, hq.PublishOptions{By: "admin"})
	require.NoError(t, err)
	assert.Equal(t, hq.ResultPublished, ro.Results[0].Outcome)
	cfg, err := s.LatestConfig(ctx, "TB-002")
	require.NoError(t, err)
	assert.Equal(t, 1, cfg.Rules.PreferentialRatio)
	assert.Equal(t, "10:00-13:00", cfg.OpeningHours)

	require.NoError(t, s.DeleteTemplate(ctx, byList.ID))
	_, err = s.Template(ctx, byList.ID)
	assert.Equal(t, queue.CodeNotFound, code(err))
	_, err = s.StartTemplateRollout(ctx, byTag.ID, hq.PublishOptions{FirstStage: -1})
	assert.Equal(t, queue.CodeInvalid, code(err))
}

func codes(svs []queue.Service) []string {
	out := []string{}
	for _, sv := range svs {
		out = append(out, sv.Code)
	}
	return out
}
