package hq_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// branchReport is what a branch set up locally reports: the demo's services,
// counters and executives (no PINs travel).
func branchReport() event.ConfigReport {
	return event.ConfigReport{TimeZone: "America/Santiago",
		Services: []queue.Service{
			{Code: "C", Name: "Caja", TargetWaitS: 600, MeanServiceS: 240, Priority: 1},
			{Code: "P", Name: "Plataforma", TargetWaitS: 900, MeanServiceS: 600, Priority: 1},
		},
		Counters:   []queue.Counter{{Number: 1, Name: "Módulo 1"}, {Number: 2, Name: "Módulo 2"}},
		Executives: []queue.Executive{{ID: "E01", Name: "Ana Pérez", Services: []string{"C", "P"}}, {ID: "E02", Name: "Luis Soto", Services: []string{"P"}}},
	}
}

// ingest sends events through the real ingest (the cloud's projection) with
// consecutive seqs from seq.
func ingest(t testing.TB, es *postgres.EventStore, branch string, seq uint64, at time.Time, evs ...any) uint64 {
	t.Helper()
	var batch []event.Event
	for _, d := range evs {
		var typ event.Type
		switch d.(type) {
		case event.ConfigReport:
			typ = event.ConfigReported
		case event.Issued:
			typ = event.TicketIssued
		default:
			t.Fatalf("ingest: no type for %T", d)
		}
		e, err := event.New(seq, fmt.Sprintf("%s-%d", branch, seq), typ, at, d)
		require.NoError(t, err)
		batch = append(batch, e)
		seq++
	}
	_, err := es.Ingest(context.Background(), event.Batch{V: event.Version, Branch: branch, Events: batch})
	require.NoError(t, err)
	return seq
}

func waitingTickets(branch, service, day string, from, n int, at time.Time) []any {
	var out []any
	for i := range n {
		out = append(out, event.Issued{TicketRef: event.TicketRef{Ticket: fmt.Sprintf("%s-%s-%d", branch, service, from+i), Service: service,
			Number: from + i, Day: day}, Priority: "normal", QueuedAt: at})
	}
	return out
}

// forget removes every row of the branches when the test ends, so the tests
// that list all branches of the shared database do not see them.
func forget(t *testing.T, f hqtest.Fixture, ids ...string) {
	t.Cleanup(func() {
		ctx := context.Background()
		rows, err := f.Pool.Query(ctx, `SELECT table_name FROM information_schema.columns WHERE column_name = 'branch' AND table_schema = current_schema()`)
		require.NoError(t, err)
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		for _, tb := range tables {
			_, err := f.Pool.Exec(ctx, `DELETE FROM `+pgx.Identifier{tb}.Sanitize()+` WHERE branch = ANY($1)`, ids)
			require.NoError(t, err)
		}
		_, err = f.Pool.Exec(ctx, `DELETE FROM branches WHERE id = ANY($1)`, ids)
		require.NoError(t, err)
	})
}

func TestImportOnFirstContact(t *testing.T) {
	s, f, c := newStore(t)
	forget(t, f, "IM-001", "IM-002")
	ctx := context.Background()
	es := postgres.NewEventStore(f.Pool, nil)
	at := c.t

	// A branch HQ never configured reports its local setup on first contact.
	r0 := branchReport()
	r0.TimeZone = "America/Punta_Arenas"
	seq := ingest(t, es, "IM-001", 1, at, r0)
	cfg, err := s.BranchConfig(ctx, "IM-001")
	require.NoError(t, err)
	assert.Equal(t, "America/Punta_Arenas", cfg.TimeZone, "the branch's zone imported")
	assert.Equal(t, branchReport().Services, cfg.Services, "services imported")
	assert.Equal(t, branchReport().Counters, cfg.Counters, "counters imported")
	require.Len(t, cfg.Executives, 2)
	assert.Equal(t, branchReport().Executives[0], cfg.Executives[0].Executive)
	assert.False(t, cfg.Executives[0].HasPIN, "no PIN travels: the branch keeps its own")
	assert.True(t, cfg.Executives[0].AtBranch, "his PIN is the branch's")
	rc, err := s.RunningConfig(ctx, "IM-001")
	require.NoError(t, err)
	assert.Equal(t, "reported", rc.Source)
	assert.False(t, rc.ImportedAt.IsZero())
	entries, err := s.AuditLog(ctx, cloud.AuditFilter{Action: cloud.AuditConfigImport, Actor: "branch:IM-001"})
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	assert.Equal(t, "branch:IM-001", entries[0].Actor)
	assert.Contains(t, entries[0].Detail, "services=2 counters=2 executives=2, without PINs")

	// The draft now equals what the branch runs but for the hours: the branch
	// runs none (open all day) and HQ's draft has its default, which would
	// close the branch's kiosk outside them from the moment it arrives. The
	// review says so instead of "no changes".
	_, p, err := s.PublishPreview(ctx, "IM-001", i18n.ES)
	require.NoError(t, err)
	assert.Equal(t, []cloud.DiffItem{{Kind: "changed", Key: "opening_hours", Before: "sin horario (abierta todo el día)", After: "09:00-14:00"}}, p.Diff.Hours)
	assert.False(t, p.Diff.Empty())
	p.Diff.Hours = nil
	assert.True(t, p.Diff.Empty(), "%+v", p.Diff)

	// HQ edits its draft; a later report (the branch added a service locally)
	// does not overwrite HQ's draft: it shows in the diff instead.
	require.NoError(t, s.PutService(ctx, "IM-001", queue.Service{Code: "C", Name: "Caja rápida", TargetWaitS: 300, MeanServiceS: 240, Priority: 1}))
	r := r0
	r.Services = append(r.Services, queue.Service{Code: "X", Name: "Extra", TargetWaitS: 600, MeanServiceS: 300, Priority: 1})
	ingest(t, es, "IM-001", seq, at.Add(time.Minute), r)
	cfg, err = s.BranchConfig(ctx, "IM-001")
	require.NoError(t, err)
	require.Len(t, cfg.Services, 2, "second report not imported")
	assert.Equal(t, "Caja rápida", cfg.Services[0].Name, "HQ's edit kept")
	_, p, err = s.PublishPreview(ctx, "IM-001", i18n.ES)
	require.NoError(t, err)
	assert.Equal(t, []cloud.DiffItem{
		{Kind: "changed", Key: "C", Before: "Caja · meta 10 min · atención media 4 min · prioridad 1", After: "Caja rápida · meta 5 min · atención media 4 min · prioridad 1"},
		{Kind: "removed", Key: "X", Before: "Extra · meta 10 min · atención media 5 min · prioridad 1"},
	}, p.Diff.Services)
	assert.Empty(t, p.Diff.Counters)
	assert.Empty(t, p.Diff.Executives)
	assert.Empty(t, p.Diff.TimeZone)
	assert.Equal(t, 1, p.Diff.Removals())
	require.NoError(t, s.PutBranch(ctx, cloud.BranchInput{ID: "IM-001", Name: "Importada", TimeZone: "America/Santiago"}))
	_, p, err = s.PublishPreview(ctx, "IM-001", i18n.ES)
	require.NoError(t, err)
	assert.Equal(t, []cloud.DiffItem{{Kind: "changed", Key: "time_zone", Before: "America/Punta_Arenas", After: "America/Santiago"}}, p.Diff.TimeZone)

	// A branch HQ already published to is not imported.
	require.NoError(t, s.PutBranch(ctx, cloud.BranchInput{ID: "IM-002", Name: "Publicada", TimeZone: "America/Santiago"}))
	require.NoError(t, s.PutService(ctx, "IM-002", queue.Service{Code: "C", Name: "Caja", TargetWaitS: 600, MeanServiceS: 240, Priority: 1}))
	require.NoError(t, s.PutExecutive(ctx, "IM-002", queue.Executive{ID: "E09", Name: "Eva", Services: []string{"C"}}, "240681"))
	_, err = s.Publish(ctx, "IM-002", "admin", "")
	require.NoError(t, err)
	ingest(t, es, "IM-002", 1, at, branchReport())
	cfg, err = s.BranchConfig(ctx, "IM-002")
	require.NoError(t, err)
	assert.Len(t, cfg.Services, 1)
	assert.Len(t, cfg.Executives, 1)
	assert.Empty(t, cfg.Counters)
	// Once it runs an HQ version, its hours are that version's: no change
	// shown while HQ's draft keeps them, the change once HQ edits them.
	r2 := branchReport()
	r2.Version = 1
	ingest(t, es, "IM-002", 2, at.Add(time.Minute), r2)
	_, p, err = s.PublishPreview(ctx, "IM-002", i18n.ES)
	require.NoError(t, err)
	assert.Empty(t, p.Diff.Hours)
	require.NoError(t, s.PutBranch(ctx, cloud.BranchInput{ID: "IM-002", Name: "Publicada", TimeZone: "America/Santiago", OpeningHours: "09:00-13:00,14:00-17:30"}))
	_, p, err = s.PublishPreview(ctx, "IM-002", i18n.ES)
	require.NoError(t, err)
	assert.Equal(t, []cloud.DiffItem{{Kind: "changed", Key: "opening_hours", Before: "09:00-14:00", After: "09:00-13:00,14:00-17:30"}}, p.Diff.Hours)
}

func TestDiffConfig(t *testing.T) {
	running := cloud.RunningConfig{Source: "reported", Services: branchReport().Services, Counters: branchReport().Counters,
		Executives: branchReport().Executives}
	draft := cloud.BranchConfig{
		Services: []queue.Service{branchReport().Services[0], {Code: "E", Name: "Empresas", TargetWaitS: 1200, MeanServiceS: 900, Priority: 2}},
		Counters: []queue.Counter{{Number: 1, Name: "Caja 1"}, {Number: 2, Name: "Módulo 2"}, {Number: 10, Name: "Módulo 10"}},
		Executives: []cloud.ConfigExecutive{{Executive: queue.Executive{ID: "E01", Name: "Ana Pérez", Services: []string{"C"}}},
			{Executive: queue.Executive{ID: "E02", Name: "Luis Soto", Services: []string{"P"}}, HasPIN: true}},
	}
	d := cloud.DiffConfig(running, draft, i18n.ES)
	assert.Equal(t, []cloud.DiffItem{
		{Kind: "added", Key: "E", After: "Empresas · meta 20 min · atención media 15 min · prioridad 2"},
		{Kind: "removed", Key: "P", Before: "Plataforma · meta 15 min · atención media 10 min · prioridad 1"},
	}, d.Services)
	assert.Equal(t, []cloud.DiffItem{
		{Kind: "changed", Key: "001", Before: "1 Módulo 1", After: "1 Caja 1"},
		{Kind: "added", Key: "010", After: "10 Módulo 10"},
	}, d.Counters)
	assert.Equal(t, []cloud.DiffItem{{Kind: "changed", Key: "E01", Before: "Ana Pérez · C,P", After: "Ana Pérez · C"}}, d.Executives)
	assert.Equal(t, 1, d.Removals())
	assert.Equal(t, "services +1 -1 ~0, counters +1 -0 ~1, executives +0 -0 ~1", d.Summary())
	assert.True(t, cloud.DiffConfig(running, cloud.BranchConfig{Services: running.Services, Counters: running.Counters,
		Executives: []cloud.ConfigExecutive{{Executive: running.Executives[0]}, {Executive: running.Executives[1]}}}, i18n.ES).Empty())
}

// The incident: HQ's draft empties a branch with 961 people waiting. The
// publication is refused, naming the service and how many wait.
func TestPublishRefusesStrandingWaitingTickets(t *testing.T) {
	s, f, c := newStore(t)
	forget(t, f, "ST-001")
	ctx := context.Background()
	es := postgres.NewEventStore(f.Pool, nil)
	day := c.t.In(mustSantiago(t)).Format(time.DateOnly)
	evs := append([]any{branchReport()}, waitingTickets("ST-001", "C", day, 1, 961, c.t)...)
	evs = append(evs, waitingTickets("ST-001", "P", day, 1, 3, c.t)...)
	ingest(t, es, "ST-001", 1, c.t, evs...)

	// Removing P (3 waiting) is refused, naming P.
	require.NoError(t, s.DeleteService(ctx, "ST-001", "P"))
	_, err := s.Publish(ctx, "ST-001", "admin", "")
	require.Error(t, err)
	assert.Equal(t, queue.CodeConflict, code(err))
	assert.Equal(t, "hq.config.strands_service", queue.ErrorReason(err))
	assert.Contains(t, queue.ErrorMessage("es", err), "quita el servicio P (Plataforma), con 3 en espera")

	// The whole draft emptied: the largest queue is named first.
	require.NoError(t, s.DeleteService(ctx, "ST-001", "C"))
	require.NoError(t, s.DeleteExecutive(ctx, "ST-001", "E01"))
	require.NoError(t, s.DeleteExecutive(ctx, "ST-001", "E02"))
	_, p, err := s.PublishPreview(ctx, "ST-001", i18n.ES)
	require.NoError(t, err)
	assert.Equal(t, []cloud.Stranded{{Code: "C", Name: "Caja", Waiting: 961, Removed: true}, {Code: "P", Name: "Plataforma", Waiting: 3, Removed: true}}, p.Stranded)
	_, err = s.Publish(ctx, "ST-001", "admin", "")
	assert.Contains(t, queue.ErrorMessage("es", err), "quita el servicio C (Caja), con 961 en espera")

	// Services kept but nobody serving C: refused, naming C.
	for _, sv := range branchReport().Services {
		require.NoError(t, s.PutService(ctx, "ST-001", sv))
	}
	require.NoError(t, s.PutExecutive(ctx, "ST-001", queue.Executive{ID: "E02", Name: "Luis Soto", Services: []string{"P"}}, ""))
	_, err = s.Publish(ctx, "ST-001", "admin", "")
	assert.Equal(t, "hq.config.strands_unserved", queue.ErrorReason(err))
	assert.Contains(t, queue.ErrorMessage("es", err), "ningún ejecutivo atendería el servicio C (Caja), con 961 en espera")
	assert.Contains(t, queue.ErrorMessage("en", err), "no executive would serve service C (Caja), with 961 waiting")

	// Someone serves C again: published, with the branch's name and region.
	require.NoError(t, s.PutExecutive(ctx, "ST-001", queue.Executive{ID: "E01", Name: "Ana Pérez", Services: []string{"C", "P"}}, ""))
	require.NoError(t, s.PutBranch(ctx, cloud.BranchInput{ID: "ST-001", Name: "Santiago Centro", Region: "RM", TimeZone: "America/Santiago"}))
	cfg, err := s.Publish(ctx, "ST-001", "admin", "")
	require.NoError(t, err)
	assert.Equal(t, "Santiago Centro", cfg.BranchName)
	assert.Equal(t, "RM", cfg.Region)
	assert.Len(t, cfg.Services, 2)
	assert.Empty(t, cfg.Executives[0].PINHash, "an imported executive carries no PIN hash: the branch keeps its own")
}

func mustSantiago(t *testing.T) *time.Location {
	l, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	return l
}

// A report with entries HQ's tables cannot hold (a time beyond 32 bits, a
// name with a control character) never fails the branch's stream: the rest
// is imported, the events after it are projected.
func TestImportSkipsWhatHQCannotHold(t *testing.T) {
	s, f, c := newStore(t)
	forget(t, f, "IM-003")
	ctx := context.Background()
	es := postgres.NewEventStore(f.Pool, nil)
	r := branchReport()
	r.Services = append(r.Services, queue.Service{Code: "X", Name: "Enorme", TargetWaitS: 1 << 40, MeanServiceS: 60, Priority: 1})
	r.Counters = append(r.Counters, queue.Counter{Number: 5, Name: "Caja\x07"})
	r.Executives = append(r.Executives, queue.Executive{ID: "E03", Name: "Eva\x1bX", Services: []string{"C"}},
		queue.Executive{ID: "E04", Name: "Rosa", Services: []string{"X", "C"}})
	day := c.t.In(mustSantiago(t)).Format(time.DateOnly)
	ingest(t, es, "IM-003", 1, c.t, append([]any{r}, waitingTickets("IM-003", "C", day, 1, 1, c.t)...)...)
	cfg, err := s.BranchConfig(ctx, "IM-003")
	require.NoError(t, err)
	assert.Len(t, cfg.Services, 2)
	assert.Len(t, cfg.Counters, 2)
	require.Len(t, cfg.Executives, 3)
	assert.Equal(t, []string{"C"}, cfg.Executives[2].Services, "a service left out is left out of his list too")
	var waiting int
	require.NoError(t, f.Pool.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE branch = 'IM-003' AND status = 'waiting'`).Scan(&waiting))
	assert.Equal(t, 1, waiting, "the events after the report were projected")
}

// A branch that never reported (an older agent) is compared with the HQ
// version it reports running.
func TestRunningConfigFromPublishedVersion(t *testing.T) {
	s, f, _ := newStore(t)
	forget(t, f, "PV-001")
	ctx := context.Background()
	require.NoError(t, s.PutBranch(ctx, cloud.BranchInput{ID: "PV-001", Name: "Versión", TimeZone: "America/Santiago"}))
	require.NoError(t, s.PutService(ctx, "PV-001", queue.Service{Code: "C", Name: "Caja", TargetWaitS: 600, MeanServiceS: 240, Priority: 1}))
	require.NoError(t, s.PutExecutive(ctx, "PV-001", queue.Executive{ID: "E01", Name: "Ana", Services: []string{"C"}}, "240681"))
	_, err := s.Publish(ctx, "PV-001", "admin", "")
	require.NoError(t, err)
	rc, err := s.RunningConfig(ctx, "PV-001")
	require.NoError(t, err)
	assert.Empty(t, rc.Source, "the branch does not run it yet")

	f.Branch("PV-001", "Versión", "", true)
	_, err = f.Pool.Exec(ctx, `UPDATE branch_sync SET config_version = 1 WHERE branch = 'PV-001'`)
	require.NoError(t, err)
	require.NoError(t, s.PutCounter(ctx, "PV-001", queue.Counter{Number: 3, Name: "Módulo 3"}))
	_, p, err := s.PublishPreview(ctx, "PV-001", i18n.ES)
	require.NoError(t, err)
	assert.Equal(t, "published", p.Running.Source)
	assert.Equal(t, int64(1), p.Running.Version)
	assert.Empty(t, p.Diff.Services)
	assert.Empty(t, p.Diff.Executives)
	assert.Equal(t, []cloud.DiffItem{{Kind: "added", Key: "003", After: "3 Módulo 3"}}, p.Diff.Counters)
	assert.Empty(t, p.Diff.Rules, "the rules it runs are the draft's")

	// Appointment rules (config API's rules, saved beside the other rules)
	// show in the review as rule changes, as the calling rules do.
	err = s.PutRules(ctx, "PV-001", event.Rules{PreferentialRatio: 3, RecallLimit: 3, PreNoticeAhead: 3,
		Appointments: event.AppointmentRules{EarlyMin: 20, Remote: map[string]event.RemoteRule{"Z": {Open: true}}}})
	require.Error(t, err, "a service the branch does not have: nothing stored")
	require.NoError(t, s.PutRules(ctx, "PV-001", event.Rules{PreferentialRatio: 3, RecallLimit: 3, PreNoticeAhead: 3,
		Appointments: event.AppointmentRules{EarlyMin: 20, Remote: map[string]event.RemoteRule{"C": {Open: true, Cap: 5}}}}))
	var stored string
	require.NoError(t, f.Pool.QueryRow(ctx, `SELECT appointment_rules->>'early_min' FROM hq_branch_settings WHERE branch = 'PV-001'`).Scan(&stored))
	assert.Equal(t, "20", stored)
	c, p, err := s.PublishPreview(ctx, "PV-001", i18n.ES)
	require.NoError(t, err)
	assert.Equal(t, 20, c.Rules.Appointments.EarlyMin)
	require.Len(t, p.Diff.Rules, 3)
	assert.Equal(t, "appointments", p.Diff.Rules[0].Key)
	assert.Equal(t, "changed", p.Diff.Rules[0].Kind)
	assert.Contains(t, p.Diff.Rules[0].Before, "desde 30 min antes")
	assert.Contains(t, p.Diff.Rules[0].After, "desde 20 min antes")
	assert.Equal(t, cloud.DiffItem{Kind: "changed", Key: "calling", Before: cloud.RulesText(i18n.ES, event.Rules{PreferentialRatio: 2, RecallLimit: 3, PreNoticeAhead: 3}),
		After: cloud.RulesText(i18n.ES, event.Rules{PreferentialRatio: 3, RecallLimit: 3, PreNoticeAhead: 3})}, p.Diff.Rules[1])
	assert.Equal(t, cloud.DiffItem{Kind: "added", Key: "remote:C", After: "fila remota abierta, hasta 5 sin llegar"}, p.Diff.Rules[2])
	// A rules PUT without appointment rules leaves them.
	require.NoError(t, s.PutRules(ctx, "PV-001", event.Rules{PreferentialRatio: 2, RecallLimit: 3, PreNoticeAhead: 3}))
	c, _, err = s.PublishPreview(ctx, "PV-001", i18n.ES)
	require.NoError(t, err)
	assert.Equal(t, 5, c.Rules.Appointments.Remote["C"].Cap)
}

// A service the branch already runs with nobody serving it (G at a branch set
// up locally) does not block a publication that changes nothing about it: the
// publication does not strand those tickets. Taking the last executive off a
// service that is served today is still refused.
func TestPublishAllowsWhatTheBranchAlreadyRuns(t *testing.T) {
	s, f, c := newStore(t)
	forget(t, f, "ST-002")
	ctx := context.Background()
	es := postgres.NewEventStore(f.Pool, nil)
	day := c.t.In(mustSantiago(t)).Format(time.DateOnly)
	rep := branchReport()
	rep.Services = append(rep.Services, queue.Service{Code: "G", Name: "Gerencia", TargetWaitS: 1800, MeanServiceS: 1800, Priority: 3})
	evs := append([]any{rep}, waitingTickets("ST-002", "G", day, 1, 1, c.t)...)
	evs = append(evs, waitingTickets("ST-002", "P", day, 1, 2, c.t)...)
	ingest(t, es, "ST-002", 1, c.t, evs...)

	_, p, err := s.PublishPreview(ctx, "ST-002", i18n.ES)
	require.NoError(t, err)
	assert.Empty(t, p.Stranded, "G is unserved at the branch already: not this publication's doing")
	_, err = s.Publish(ctx, "ST-002", "admin", "")
	require.NoError(t, err)

	// E02 and E01 are the only ones serving P: taking P from both strands P.
	require.NoError(t, s.PutExecutive(ctx, "ST-002", queue.Executive{ID: "E01", Name: "Ana Pérez", Services: []string{"C"}}, ""))
	require.NoError(t, s.DeleteExecutive(ctx, "ST-002", "E02"))
	_, err = s.Publish(ctx, "ST-002", "admin", "")
	require.Error(t, err)
	assert.Equal(t, "hq.config.strands_unserved", queue.ErrorReason(err))
}
