package hq_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// TestHolidaysStoredAndPublished: HQ's holidays for a year are listed, added,
// renamed and removed, and a published config carries them with the branch's
// weekly hours, close grace and cut-offs (only for services it still has).
func TestHolidaysStoredAndPublished(t *testing.T) {
	s, f, _ := newStore(t) // 2026-11-27
	ctx := context.Background()
	// The package shares one database: leave no branch or holiday behind for
	// the overview and report tests.
	t.Cleanup(func() {
		_, err := f.Pool.Exec(ctx, `DO $$ DECLARE r record; BEGIN
			FOR r IN SELECT table_name, column_name FROM information_schema.columns
				WHERE table_schema = current_schema() AND column_name IN ('branch', 'id') AND table_name LIKE ANY (ARRAY['hq_%', 'branches'])
			LOOP EXECUTE format('DELETE FROM %I WHERE %I::text = %L', r.table_name, r.column_name, 'HO-001'); END LOOP;
			DELETE FROM hq_holidays; END $$`)
		assert.NoError(t, err)
	})
	for _, h := range []event.Holiday{
		{Date: "2026-12-08", Name: "Inmaculada Concepción"},
		{Date: "2026-12-25", Name: "Navidad"},
		{Date: "2027-01-01", Name: "Año Nuevo"},
		{Date: "2026-09-18", Name: "Independencia"},
		{Date: "2025-12-25", Name: "Navidad"},
		{Date: "2028-01-01", Name: "Año Nuevo"},
	} {
		require.NoError(t, s.PutHoliday(ctx, h, "admin@ticketero.local"))
	}
	require.NoError(t, s.PutHoliday(ctx, event.Holiday{Date: "2026-12-25", Name: "Navidad (feriado irrenunciable)"}, "admin@ticketero.local"))
	for _, bad := range []event.Holiday{{Date: "2026-02-30"}, {Date: "25-12-2026"}, {Date: "2026-12-31", Name: "x\x00y"}} {
		assert.Equal(t, "hq.holiday.invalid", queue.ErrorReason(s.PutHoliday(ctx, bad, "a")), bad.Date)
	}
	got, err := s.Holidays(ctx, 2026)
	require.NoError(t, err)
	assert.Equal(t, []event.Holiday{{Date: "2026-09-18", Name: "Independencia"}, {Date: "2026-12-08", Name: "Inmaculada Concepción"},
		{Date: "2026-12-25", Name: "Navidad (feriado irrenunciable)"}}, got)
	require.NoError(t, s.DeleteHoliday(ctx, "2026-12-08"))
	assert.Equal(t, "hq.holiday.not_found", queue.ErrorReason(s.DeleteHoliday(ctx, "2026-12-08")))
	assert.Equal(t, "hq.holiday.invalid", queue.ErrorReason(s.DeleteHoliday(ctx, "mañana")))

	require.NoError(t, s.PutBranch(ctx, cloud.BranchInput{ID: "HO-001", Name: "Horario", Region: "RM", TimeZone: "America/Santiago", OpeningHours: "09:00-14:00"}))
	require.NoError(t, s.PutService(ctx, "HO-001", queue.Service{Code: "C", Name: "Caja", TargetWaitS: 600, MeanServiceS: 300, Priority: 1}))
	require.NoError(t, s.PutService(ctx, "HO-001", queue.Service{Code: "V", Name: "Ventas", TargetWaitS: 600, MeanServiceS: 300, Priority: 2}))
	require.NoError(t, s.PutCounter(ctx, "HO-001", queue.Counter{Number: 1}))
	require.NoError(t, s.PutExecutive(ctx, "HO-001", queue.Executive{ID: "E1", Name: "Eva", Services: []string{"C", "V"}}, "240681"))
	none, err := s.BranchHours(ctx, "HO-001")
	require.NoError(t, err)
	assert.Equal(t, event.Hours{}, none)
	for reason, bad := range map[string]event.Hours{
		"service.unknown":      {LastTicket: map[string]string{"X": "30"}},
		"hq.hours.cutoff":      {LastTicket: map[string]string{"C": "9:30"}},
		"hq.branch.hours":      {WeeklyHours: map[string]string{"mon": "14:00-09:00"}},
		"hq.hours.grace_range": {CloseGraceMin: new(int(241))},
	} {
		assert.Equal(t, reason, queue.ErrorReason(s.PutBranchHours(ctx, "HO-001", bad)))
	}
	assert.Equal(t, "hq.hours.invalid", queue.ErrorReason(s.PutBranchHours(ctx, "HO-001", event.Hours{WeeklyHours: map[string]string{"sab": ""}})))
	assert.Equal(t, "hq.branch.not_found", queue.ErrorReason(s.PutBranchHours(ctx, "NO-001", event.Hours{})))
	grace := 15
	hours := event.Hours{WeeklyHours: map[string]string{"sat": "", "sun": "", "fri": "09:00-13:00"}, CloseGraceMin: &grace,
		LastTicket: map[string]string{"C": "30", "V": "13:00"}}
	require.NoError(t, s.PutBranchHours(ctx, "HO-001", hours))
	back, err := s.BranchHours(ctx, "HO-001")
	require.NoError(t, err)
	assert.Equal(t, hours, back)
	require.NoError(t, s.DeleteService(ctx, "HO-001", "V"))

	cfg, err := s.Publish(ctx, "HO-001", "admin@ticketero.local", "9Hc4N0yyUfnLWtrpIbwyGSSZpGWdp6wNm7L2rt8pI3E=")
	require.NoError(t, err)
	require.NoError(t, cfg.Validate())
	assert.Equal(t, "09:00-14:00", cfg.OpeningHours)
	assert.Equal(t, hours.WeeklyHours, cfg.WeeklyHours)
	assert.Equal(t, map[string]string{"C": "30"}, cfg.LastTicket, "the cut-off of a removed service is not published")
	require.NotNil(t, cfg.CloseGraceMin)
	assert.Equal(t, 15, *cfg.CloseGraceMin)
	assert.Equal(t, []event.Holiday{{Date: "2026-12-25", Name: "Navidad (feriado irrenunciable)"}, {Date: "2027-01-01", Name: "Año Nuevo"}},
		cfg.Holidays, "from today on, up to about a year ahead")
	latest, err := s.LatestConfig(ctx, "HO-001")
	require.NoError(t, err)
	assert.Equal(t, cfg.Hours, latest.Hours, "stored in the snapshot")
}
