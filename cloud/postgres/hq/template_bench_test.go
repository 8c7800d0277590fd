package hq_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/postgres"
	"github.com/ticketero/ticketero/cloud/postgres/hq"
	"github.com/ticketero/ticketero/cloud/postgres/hq/hqtest"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/queue"
)

// BenchmarkTemplateRegion measures a template over a region of 200 branches
// set up locally (imported): the preview (every branch's diff and guard)
// and a publication to all of them at once (each resolved, guarded, its
// draft written, published and audited). Figures in docs/performance.md.
//
//	go test -run '^$' -bench BenchmarkTemplateRegion -benchtime 3x ./cloud/postgres/hq/
func BenchmarkTemplateRegion(b *testing.B) {
	const n = 200
	pool := hqtest.MustPool(b, dsn)
	c := &clock{t: time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)}
	s := hq.New(pool, c.Now)
	ctx := context.Background()
	es := postgres.NewEventStore(pool, nil)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("BT-%03d", i)
		ingest(b, es, ids[i], 1, c.t, branchReport())
		require.NoError(b, s.PutBranch(ctx, hq.BranchInput{ID: ids[i], Name: ids[i], Region: "Bench", TimeZone: "America/Santiago"}))
	}
	b.Cleanup(func() {
		for _, tb := range []string{"hq_services", "hq_counters", "hq_executives", "hq_branch_settings", "hq_branch_configs", "branch_reported_config",
			"hq_branch_outcomes", "telegram_service_settings", "events", "branch_sync", "hq_template_applied"} {
			_, _ = pool.Exec(ctx, `DELETE FROM `+tb+` WHERE branch = ANY($1)`, ids)
		}
		_, _ = pool.Exec(ctx, `DELETE FROM hq_templates WHERE name = 'Bench'`)
		_, _ = pool.Exec(ctx, `DELETE FROM branches WHERE id = ANY($1)`, ids)
	})
	hours := "09:00-14:00"
	tpl, err := s.PutTemplate(ctx, hq.Template{Name: "Bench", TargetKind: hq.TargetRegion, TargetValue: "Bench", OpeningHours: &hours,
		Services: append(branchReport().Services, queue.Service{Code: "E", Name: "Empresas", TargetWaitS: 1200, MeanServiceS: 900, Priority: 2})}, "bench")
	require.NoError(b, err)

	b.Run("preview", func(b *testing.B) {
		for b.Loop() {
			p, err := s.PreviewTemplate(ctx, tpl.ID, i18n.ES)
			require.NoError(b, err)
			require.Len(b, p.Branches, n)
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/n, "ms/branch")
	})
	b.Run("publish", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			// Each round changes the template, so every branch gets a version.
			h := fmt.Sprintf("09:%02d-14:00", i%60)
			tpl.OpeningHours = &h
			tpl, err = s.PutTemplate(ctx, tpl, "bench")
			require.NoError(b, err)
			b.StartTimer()
			ro, err := s.StartTemplateRollout(ctx, tpl.ID, hq.PublishOptions{By: "bench"})
			require.NoError(b, err)
			require.Equal(b, n, ro.Count(hq.ResultPublished))
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/n, "ms/branch")
	})
}
