package telegram_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/telegram"
	"github.com/ticketero/ticketero/cloud/telegram/telegramtest"
	"github.com/ticketero/ticketero/shared/event"
)

// TestScoresToBranches: each branch gets its executives' scores as an
// executive.scores command, again only when they change (or an hour later).
func TestScoresToBranches(t *testing.T) {
	e := newEnv(t, telegramtest.Options{})
	for i, a := range []struct {
		branch, exec string
		csat, nps    int
	}{{"SC-A", "E01", 5, 10}, {"SC-A", "E01", 2, 3}, {"SC-A", "E02", 4, 9}, {"SC-B", "E07", 5, 9}} {
		e.exec(`INSERT INTO feedback (branch, ticket, channel, day, executive, csat, nps, expires_at, answered_at)
			VALUES ($1, $2, 'tablet', current_date, $3, $4, $5, now(), now())`, a.branch, "t"+itoa(i), a.exec, a.csat, a.nps)
	}
	now := time.Now()
	p := &telegram.ScorePublisher{Store: e.store, Commands: e.pub, Now: func() time.Time { return now }}
	require.NoError(t, p.Publish(context.Background()))
	cmds := e.pub.published()
	require.Len(t, cmds, 2)
	byBranch := map[string]event.Command{}
	for _, c := range cmds {
		assert.Equal(t, event.CommandExecutiveScores, c.Type)
		byBranch[c.Branch] = c
	}
	a := byBranch["SC-A"].Scores
	require.Len(t, a, 2)
	assert.Equal(t, "E01", a[0].Executive)
	assert.Equal(t, 2, a[0].Answers)
	assert.InDelta(t, 50, a[0].CSATPct, 0.01)
	assert.InDelta(t, 0, a[0].NPS, 0.01, "one promoter, one detractor")

	require.NoError(t, p.Publish(context.Background()))
	assert.Len(t, e.pub.published(), 2, "unchanged: not sent again")
	e.exec(`UPDATE feedback SET csat = 5 WHERE branch = 'SC-B'`)
	e.exec(`UPDATE feedback SET nps = 2 WHERE branch = 'SC-B'`)
	require.NoError(t, p.Publish(context.Background()))
	assert.Len(t, e.pub.published(), 3, "SC-B changed")
	now = now.Add(telegram.ScoresResend + time.Second)
	require.NoError(t, p.Publish(context.Background()))
	assert.Len(t, e.pub.published(), 5, "both again after an hour")
}
