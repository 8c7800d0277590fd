package hq_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// A template manages appointment rules as a part of its own: validated as
// the branch's appointments page validates them (hq.appt.invalid), remote
// joining only for services a branch has, a branch may keep its own, the
// preview shows the change per branch, the publication writes the drafts
// (audited in the book's history) and sends them; a template that manages
// only the calling rules leaves them alone.
func TestTemplateAppointmentRules(t *testing.T) {
	s, f, c := newStore(t)
	forget(t, f, "TC-001", "TC-002", "TC-003")
	ctx := context.Background()
	t.Cleanup(func() { // the tests share the audit and the template names
		_, err := f.Pool.Exec(ctx, `DELETE FROM hq_audit WHERE actor = 'citas@banco.cl'`)
		require.NoError(t, err)
		_, err = f.Pool.Exec(ctx, `DELETE FROM hq_templates WHERE name IN ('Citas sur', 'Llamado sur')`)
		require.NoError(t, err)
	})
	es := postgres.NewEventStore(f.Pool, nil)
	onlyCaja := branchReport()
	onlyCaja.Services = onlyCaja.Services[:1]
	ingest(t, es, "TC-001", 1, c.t, branchReport())
	ingest(t, es, "TC-002", 1, c.t, branchReport())
	ingest(t, es, "TC-003", 1, c.t, onlyCaja)
	for _, id := range []string{"TC-001", "TC-002", "TC-003"} {
		require.NoError(t, s.PutBranch(ctx, hq.BranchInput{ID: id, Name: "Citas " + id, Region: "Citas Sur", TimeZone: "America/Santiago"}))
	}
	// TC-002's own rules, set on its appointments page (or the config API).
	require.NoError(t, s.PutRules(ctx, "TC-002", event.Rules{PreferentialRatio: 2, RecallLimit: 3, PreNoticeAhead: 3,
		Appointments: event.AppointmentRules{RunMax: 3}}))

	for _, bad := range []*event.AppointmentRules{
		{RunMax: 99},
		{HoldMin: -1},
		{Remote: map[string]event.RemoteRule{"caja": {Open: true}}},
		{Remote: map[string]event.RemoteRule{"C": {Open: true, Cap: 100000}}},
	} {
		_, err := s.PutTemplate(ctx, hq.Template{Name: "x", TargetKind: hq.TargetRegion, TargetValue: "Citas Sur", Appointments: bad}, "admin")
		assert.Equal(t, "hq.appt.invalid", queue.ErrorReason(err), "%+v", bad)
	}

	rules := event.AppointmentRules{RunMax: 1, HoldMin: 20, SlideBy: 2,
		Remote: map[string]event.RemoteRule{"C": {Open: true, Cap: 5}, "P": {Open: true}}}
	tpl, err := s.PutTemplate(ctx, hq.Template{Name: "Citas sur", TargetKind: hq.TargetRegion, TargetValue: "Citas Sur", Appointments: &rules}, "citas@banco.cl")
	require.NoError(t, err)
	got, err := s.Template(ctx, tpl.ID)
	require.NoError(t, err)
	require.NotNil(t, got.Appointments)
	assert.Equal(t, rules, *got.Appointments)
	assert.Nil(t, got.Rules, "the calling rules are not managed")
	require.NoError(t, s.SetOverride(ctx, tpl.ID, "TC-002", hq.OverrideAppointments, true))

	_, rs, err := s.ResolveTemplate(ctx, tpl.ID)
	require.NoError(t, err)
	require.Len(t, rs, 3)
	assert.Equal(t, rules, rs[0].Draft.Rules.Appointments)
	assert.Equal(t, 3, rs[1].Draft.Rules.Appointments.RunMax, "TC-002 keeps its own")
	assert.Equal(t, []string{hq.OverrideAppointments}, rs[1].Kept)
	assert.Equal(t, map[string]event.RemoteRule{"C": {Open: true, Cap: 5}}, rs[2].Draft.Rules.Appointments.Remote,
		"no remote joining for a service TC-003 does not have")

	p, err := s.PreviewTemplate(ctx, tpl.ID, i18n.ES)
	require.NoError(t, err)
	assert.Equal(t, 3, p.Changing)
	assert.Equal(t, []hq.DiffItem{
		{Kind: "changed", Key: "appointments",
			Before: "citas: llegada desde 30 min antes, tolerancia 10 min, hasta 2 seguidas · fila remota: espera 15 min, retrocede 3 lugares",
			After:  "citas: llegada desde 30 min antes, tolerancia 10 min, hasta 1 seguidas · fila remota: espera 20 min, retrocede 2 lugares"},
		{Kind: "added", Key: "remote:C", After: "fila remota abierta, hasta 5 sin llegar"},
		{Kind: "added", Key: "remote:P", After: "fila remota abierta"},
	}, p.Branches[0].Rules)
	require.Len(t, p.Branches[1].Rules, 1)
	assert.Contains(t, p.Branches[1].Rules[0].After, "hasta 3 seguidas", "TC-002's own")
	assert.Len(t, p.Branches[2].Rules, 2, "TC-003: appointments and remote:C")

	sent := &sentConfigs{}
	ro, err := s.StartTemplateRollout(ctx, tpl.ID, hq.PublishOptions{By: "citas@banco.cl", Publisher: sent})
	require.NoError(t, err)
	for _, res := range ro.Results {
		assert.Equal(t, hq.ResultPublished, res.Outcome, "%+v", res)
	}
	require.Len(t, sent.got, 3)
	assert.Equal(t, rules, sent.got[0].Rules.Appointments)
	assert.Equal(t, event.AppointmentRules{RunMax: 3}, sent.got[1].Rules.Appointments)
	assert.Equal(t, map[string]event.RemoteRule{"C": {Open: true, Cap: 5}}, sent.got[2].Rules.Appointments.Remote)
	d, err := s.BranchConfig(ctx, "TC-001")
	require.NoError(t, err)
	assert.Equal(t, rules, d.Rules.Appointments, "the draft holds them")
	var saved int
	require.NoError(t, f.Pool.QueryRow(ctx, `SELECT count(*) FROM appt_audit WHERE branch = ANY($1) AND action = 'rules.saved' AND actor = 'citas@banco.cl'`,
		[]string{"TC-001", "TC-002", "TC-003"}).Scan(&saved))
	assert.Equal(t, 2, saved, "TC-001 and TC-003 changed, in the book's history; TC-002 kept its own")

	// Published again: nothing changes anywhere.
	ro, err = s.StartTemplateRollout(ctx, tpl.ID, hq.PublishOptions{By: "citas@banco.cl", Publisher: sent})
	require.NoError(t, err)
	for _, res := range ro.Results {
		assert.Equal(t, hq.ResultUnchanged, res.Outcome, "%+v", res)
	}

	// A template of the calling rules alone leaves the appointment rules.
	calling, err := s.PutTemplate(ctx, hq.Template{Name: "Llamado sur", TargetKind: hq.TargetBranches, TargetBranches: []string{"TC-001"},
		Rules: &event.Rules{PreferentialRatio: 4, RecallLimit: 1, PreNoticeAhead: 2, Appointments: event.AppointmentRules{RunMax: 9}}}, "citas@banco.cl")
	require.NoError(t, err)
	assert.Zero(t, calling.Rules.Appointments, "ignored in the calling rules")
	p, err = s.PreviewTemplate(ctx, calling.ID, i18n.ES)
	require.NoError(t, err)
	require.Len(t, p.Branches, 1)
	assert.Equal(t, rules, p.Branches[0].Draft.Rules.Appointments)
	require.Len(t, p.Branches[0].Rules, 1)
	assert.Equal(t, "calling", p.Branches[0].Rules[0].Key)
	ro, err = s.StartTemplateRollout(ctx, calling.ID, hq.PublishOptions{By: "citas@banco.cl", Publisher: sent})
	require.NoError(t, err)
	assert.Equal(t, hq.ResultPublished, ro.Results[0].Outcome)
	last := sent.got[len(sent.got)-1]
	assert.Equal(t, 4, last.Rules.PreferentialRatio)
	assert.Equal(t, rules, last.Rules.Appointments)
}
