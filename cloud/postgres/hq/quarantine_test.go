package hq_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/queue"
)

// Quarantined events raise "eventos en cuarentena" for their branch while
// they are recent, and the branch view (in scope only) lists them.
func TestQuarantineAlertAndView(t *testing.T) {
	s, f, c := newStore(t)
	ctx := context.Background()
	f.Branch("QZ-001", "Quilpué", "V", true)
	f.Branch("QZ-002", "Temuco", "AR", true)
	f.Sync("QZ-001", true, 0, c.t)
	f.Sync("QZ-002", true, 0, c.t)
	open := func() map[string]int64 {
		tiles, err := s.Overview(ctx, cloud.AllBranches, cloud.OverviewFilter{})
		require.NoError(t, err)
		_, err = s.EvaluateAlerts(ctx, tiles, cloud.DefaultAlertRules())
		require.NoError(t, err)
		all, err := s.OpenAlerts(ctx, cloud.AllBranches)
		require.NoError(t, err)
		out := map[string]int64{}
		for _, a := range all {
			if a.Kind == cloud.AlertQuarantine {
				out[a.Branch] = a.Value
			}
		}
		return out
	}
	assert.Empty(t, open())
	for i, raw := range []string{"{\"seq\":5,\"data\":{\"reason\":\"almuerzo\\u0000\"}}", "{\"seq\":9,\"name\":\"Jos\xe9\"}"} {
		_, err := f.Pool.Exec(ctx, `INSERT INTO ingest_quarantine (branch, seq, event_id, type, raw, raw_sha256, reason, detail, received_at)
			VALUES ('QZ-001', $1, 'e', 'executive.paused', $2, $3, 'text', 'NUL', $4)`,
			5+4*i, []byte(raw), []byte{byte(i)}, c.t.Add(-time.Minute))
		require.NoError(t, err)
	}
	assert.Equal(t, map[string]int64{"QZ-001": 2}, open(), "raised for the branch, with the count")

	d, err := s.BranchView(ctx, cloud.Scope{Regions: []string{"V"}}, "QZ-001", "")
	require.NoError(t, err)
	require.Len(t, d.Quarantined, 2)
	assert.Equal(t, "9", d.Quarantined[0].Seq, "newest first")
	assert.Equal(t, `{"seq":9,"name":"Jos\xe9"}`, d.Quarantined[0].Preview, "bytes that are not UTF-8 shown escaped")
	_, err = s.BranchView(ctx, cloud.Scope{Regions: []string{"AR"}}, "QZ-001", "")
	require.Error(t, err, "another region's quarantine is out of scope")
	d, err = s.BranchView(ctx, cloud.AllBranches, "QZ-002", "")
	require.NoError(t, err)
	assert.Empty(t, d.Quarantined)

	c.t = c.t.Add(cloud.QuarantineWindow)
	assert.Empty(t, open(), "cleared a day later")
}

// HQ's configuration forms refuse names with control characters or bytes that
// are not UTF-8 (the shared queue.ValidText): they would ride in the branch's
// events and config.
func TestConfigFormsRefusePoisonText(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	require.NoError(t, s.PutBranch(ctx, cloud.BranchInput{ID: "QZ-003", Name: "Ñuñoa", Region: "RM", TimeZone: "America/Santiago"}))
	err := s.PutBranch(ctx, cloud.BranchInput{ID: "QZ-003", Name: "Ñuñoa\x00", Region: "RM", TimeZone: "America/Santiago"})
	assert.Equal(t, "hq.branch.name", queue.ErrorReason(err))
	err = s.PutCounter(ctx, "QZ-003", queue.Counter{Number: 1, Name: "Caja\n1"})
	assert.Equal(t, "hq.counter.invalid", queue.ErrorReason(err))
	err = s.PutExecutive(ctx, "QZ-003", queue.Executive{ID: "E01", Name: "Jos\xe9", Services: []string{"C"}}, "")
	assert.Equal(t, "hq.executive.invalid", queue.ErrorReason(err))
}
