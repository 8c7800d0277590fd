package agent_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

func TestSessionsExpire(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"), exec("E02", "C"), exec("E03", "C"))
	lim := agent.DefaultSessionLimits()
	used := map[string]time.Time{}
	lastUse := func(h string) time.Time { return used[h] }
	ended := func(ch agent.Change) map[string]string {
		out := map[string]string{}
		for _, e := range ch.Events {
			require.Equal(t, event.ExecutiveLoggedOut, e.Type)
			s := e.Data.(event.Session)
			assert.Equal(t, agent.SystemActor(), s.Actor)
			out[s.Executive] = s.Reason
		}
		return out
	}
	f.login(t, "E01", 1)
	f.login(t, "E02", 2)
	f.login(t, "E03", 3)
	f.issue(t, "C", queue.Normal)
	_, _, err := f.e.CallNext(f.now, "E03", 3) // E03 serves a long visit
	require.NoError(t, err)

	f.tick(time.Hour)
	used["h-E02"] = f.now
	assert.Empty(t, ended(f.e.ExpireSessions(f.now, lim, lastUse)))
	f.tick(time.Hour)
	assert.Equal(t, map[string]string{"E01": agent.EndIdle}, ended(f.e.ExpireSessions(f.now, lim, lastUse)),
		"two hours unused; E02 was used an hour ago; E03 holds a ticket")
	_, ok := f.e.SessionByToken("h-E01")
	assert.False(t, ok)

	// Twelve hours after sign-in a session ends even if used.
	for i := 0; i < 10; i++ {
		f.tick(time.Hour)
		used["h-E02"] = f.now
	}
	ch := f.e.ExpireSessions(f.now, lim, lastUse)
	assert.Equal(t, map[string]string{"E02": agent.EndExpired}, ended(ch))
	assert.Equal(t, []string{"h-E02"}, ch.EndedSessions)
	_, ok = f.e.SessionByToken("h-E03")
	assert.True(t, ok, "the busy session stays until its ticket is finished")
}

func TestSessionsEndAtDayClose(t *testing.T) {
	f := newFixture(t, event.DefaultRules(), exec("E01", "C"))
	f.login(t, "E01", 1)
	f.now = f.now.Add(14 * time.Hour) // 00:00 in Santiago: the next business day
	roll := f.e.Roll(f.now)
	require.NotEmpty(t, roll.Events)
	ch := f.e.ExpireSessions(f.now, agent.SessionLimits{}, func(string) time.Time { return f.now })
	require.Len(t, ch.Events, 1)
	assert.Equal(t, agent.EndDayClosed, ch.Events[0].Data.(event.Session).Reason)
	_, ok := f.e.SessionOf("E01")
	assert.False(t, ok, "signed out at day close, even with no time limits")
}
