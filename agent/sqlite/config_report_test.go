package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// reports returns the config.reported payloads in the outbox, in order.
func (e *env) reports(tb testing.TB) []event.ConfigReport {
	tb.Helper()
	evs, err := e.st.Pending(context.Background(), 0, 1000)
	require.NoError(tb, err)
	var out []event.ConfigReport
	for _, ev := range evs {
		if ev.Type == event.ConfigReported {
			p, err := ev.Payload()
			require.NoError(tb, err)
			out = append(out, *p.(*event.ConfigReport))
		}
	}
	return out
}

func TestReportConfig(t *testing.T) {
	e := MustStore(t, 2)
	ctx := context.Background()
	MustExecutive(t, e.path, "E01", "C", "P")

	// The branch set up locally (seeded services, counters from the command
	// line, an executive from the admin command) reports it, without PINs.
	require.NoError(t, e.st.ReportConfig(ctx))
	rs := e.reports(t)
	require.Len(t, rs, 1)
	r := rs[0]
	assert.Equal(t, int64(0), r.Version)
	assert.Equal(t, "America/Santiago", r.TimeZone)
	assert.Equal(t, queue.DefaultServices(), r.Services)
	assert.Equal(t, []queue.Counter{{Number: 1, Name: "Módulo 1"}, {Number: 2, Name: "Módulo 2"}}, r.Counters)
	assert.Equal(t, []queue.Executive{{ID: "E01", Name: "Ejecutivo E01", Services: []string{"C", "P"}}}, r.Executives)
	evs, err := e.st.Pending(ctx, 0, 10)
	require.NoError(t, err)
	assert.NotContains(t, string(evs[len(evs)-1].Data), "pin", "no PIN or PIN hash travels")

	// Unchanged: nothing new. A local change (another executive): reported.
	require.NoError(t, e.st.ReportConfig(ctx))
	assert.Len(t, e.reports(t), 1)
	MustExecutive(t, e.path, "E02", "P")
	require.NoError(t, e.st.ReportConfig(ctx))
	require.Len(t, e.reports(t), 2)
	assert.Len(t, e.reports(t)[1].Executives, 2)

	// A restart reports again (a new cloud learns the setup), once.
	e.reopen(t, 2)
	require.NoError(t, e.st.ReportConfig(ctx))
	require.NoError(t, e.st.ReportConfig(ctx))
	require.Len(t, e.reports(t), 3)

	// HQ publishes the imported executives without PIN hashes: each keeps the
	// PIN set at the branch (before, an empty hash locked everybody out).
	cfg := event.Config{V: 1, Branch: "SCL-001", Version: 1, TimeZone: "America/Santiago", Services: queue.DefaultServices(),
		Counters: r.Counters, Rules: event.DefaultRules(), BranchName: "Santiago Centro", Region: "RM",
		Executives: []event.ConfigExecutive{{Executive: queue.Executive{ID: "E01", Name: "Ana Pérez", Services: []string{"C"}}}}}
	require.NoError(t, e.st.ApplyConfig(ctx, cfg))
	assert.Equal(t, "Santiago Centro", e.st.BranchInfo(ctx).Name, "HQ's name reaches the branch")
	assert.Equal(t, "RM", e.st.BranchInfo(ctx).Region)
	tok, _, err := e.st.Login(ctx, "E01", TestPIN, 1, "10.0.0.1")
	require.NoError(t, err, "the branch's PIN still signs E01 in")
	require.NoError(t, e.st.Logout(ctx, tok))
	h, _ := bcrypt.GenerateFromPassword([]byte("9999"), bcrypt.MinCost)
	cfg.Version, cfg.Executives[0].PINHash = 2, string(h)
	require.NoError(t, e.st.ApplyConfig(ctx, cfg))
	tok, _, err = e.st.Login(ctx, "E01", TestPIN, 2, "10.0.0.1")
	require.NoError(t, err, "a PIN hash in an old HQ's config never replaces the branch's PIN")
	require.NoError(t, e.st.Logout(ctx, tok))
	_, _, err = e.st.Login(ctx, "E01", "9999", 2, "10.0.0.1")
	assert.Equal(t, "session.bad_pin", queue.ErrorReason(err))
}

func TestReportConfigPeriodicAndAfterApply(t *testing.T) {
	e := MustStore(t, 1)
	ctx := context.Background()
	require.NoError(t, e.st.Close())
	st, err := sqlite.Open(ctx, sqlite.Config{Path: e.path, Branch: "SCL-001", Counters: 1, DataKey: e.key, Now: e.clock.Now,
		ReportEvery: time.Second})
	require.NoError(t, err)
	e.st = st
	t.Cleanup(func() { _ = st.Close() })
	require.Eventually(t, func() bool { return len(e.reports(t)) == 1 }, 10*time.Second, 20*time.Millisecond, "reported soon after start-up")
	cfg := event.Config{V: 1, Branch: "SCL-001", Version: 3, TimeZone: "America/Santiago", Rules: event.DefaultRules(),
		Services: []queue.Service{{Code: "C", Name: "Caja", TargetWaitS: 600, MeanServiceS: 300, Priority: 1}}}
	require.NoError(t, e.st.ApplyConfig(ctx, cfg))
	rs := e.reports(t)
	require.Len(t, rs, 2, "reported with the applied config")
	assert.Equal(t, int64(3), rs[1].Version)
	assert.Equal(t, cfg.Services, rs[1].Services)

	// The admin command adds an executive: reported with the writer's next
	// transaction, right after its executive.admin event.
	MustExecutive(t, e.path, "E07", "C")
	_, _, err = e.st.Issue(ctx, agent.TicketRequest{Service: "C"})
	require.NoError(t, err)
	rs = e.reports(t)
	require.Len(t, rs, 3)
	assert.Equal(t, "E07", rs[2].Executives[len(rs[2].Executives)-1].ID)
}
