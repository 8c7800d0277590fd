package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/cloud/web"
)

// TestFeedbackReport: CSAT and NPS by branch within the user's scope, with
// satisfaction by wait band; comments only on request, for supervisors and
// admins, every reading audited; a viewer sees the figures, not the comments.
func TestFeedbackReport(t *testing.T) {
	e := newEnv(t)
	e.f.Branch("FB-001", "Uno", "FBA", true)
	e.f.Branch("FB-002", "Dos", "FBB", true)
	e.user("sup@fb.cl", "supervisor", []string{"FBA"}, nil)
	e.user("view@fb.cl", "viewer", []string{"FBA"}, nil)
	ctx := context.Background()
	today := e.store.Now().In(mustLoc(t)).Format("2006-01-02")
	for i, a := range []struct {
		branch    string
		csat, nps int
		wait      int
		comment   string
	}{
		{"FB-001", 5, 10, 120, "Excelente"},
		{"FB-001", 4, 9, 200, ""},
		{"FB-001", 1, 2, 1900, "Muy lento, [RUT]"},
		{"FB-001", 3, 7, 700, ""},
		{"FB-002", 5, 10, 60, "secreto de otra región"},
	} {
		_, err := e.f.Pool.Exec(ctx, `INSERT INTO feedback (branch, ticket, channel, day, service, executive, wait_s, csat, nps,
			comment, expires_at, answered_at) VALUES ($1, $2, 'telegram', $3, 'C', 'E01', $4, $5, $6, $7, now() + interval '1 day', now())`,
			a.branch, "t"+string(rune('a'+i)), today, a.wait, a.csat, a.nps, a.comment)
		require.NoError(t, err)
	}
	c, _ := e.login("sup@fb.cl")
	res, body := e.get(c, "/hq/v1/feedback?group=branch&from="+today+"&to="+today, "Accept", "application/json")
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	var rep cloud.FeedbackReport
	require.NoError(t, json.Unmarshal([]byte(body), &rep))
	require.Len(t, rep.Rows, 1, "only the supervisor's region")
	r := rep.Rows[0]
	assert.Equal(t, "FB-001", r.Key)
	assert.Equal(t, 4, r.Answers)
	assert.InDelta(t, 50, r.CSATPct, 0.01, "2 of 4 satisfied")
	assert.InDelta(t, 50-25, r.NPS, 0.01, "2 promoters, 1 detractor of 4")
	require.Len(t, rep.Bands, len(cloud.WaitBands))
	assert.Equal(t, 2, rep.Bands[0].Answers, "waited under 5 min")
	assert.InDelta(t, 4.5, rep.Bands[0].MeanCSAT, 0.01)
	assert.Equal(t, 1, rep.Bands[4].Answers, "waited 30 min or more")
	assert.InDelta(t, 1, rep.Bands[4].MeanCSAT, 0.01)

	res, body = e.get(c, "/feedback?from="+today+"&to="+today)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotContains(t, body, "Muy lento", "comments only on request")
	assert.Empty(t, e.audited(web.AuditFeedbackRead, "sup@fb.cl"))
	res, body = e.get(c, "/feedback?comments=1&from="+today+"&to="+today)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "Muy lento, [RUT]")
	assert.NotContains(t, body, "secreto de otra región")
	assert.Len(t, e.audited(web.AuditFeedbackRead, "sup@fb.cl"), 1, "the reading is audited")
	res, body = e.get(c, "/hq/v1/feedback/comments?from="+today+"&to="+today, "Accept", "application/json")
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.Contains(t, body, "Excelente")
	assert.Len(t, e.audited(web.AuditFeedbackRead, "sup@fb.cl"), 2)

	v, _ := e.login("view@fb.cl")
	res, body = e.get(v, "/feedback?comments=1&from="+today+"&to="+today)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotContains(t, body, "Muy lento")
	res, _ = e.get(v, "/hq/v1/feedback/comments", "Accept", "application/json")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Empty(t, e.audited(web.AuditFeedbackRead, "view@fb.cl"))
}
