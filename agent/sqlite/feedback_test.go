package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/agent/sqlite"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// TestCounterFeedback: the tablet rates the last visit finished at its
// counter, once, within the window; the answer goes to HQ as feedback.given.
func TestCounterFeedback(t *testing.T) {
	e := MustStore(t, 2)
	ctx := context.Background()
	MustExecutive(t, e.path, "E01", "C")
	tok := e.login(t, "E01", 1)
	serve := func(id string) {
		t.Helper()
		tk, err := e.st.CallNext(ctx, tok, 1)
		require.NoError(t, err)
		require.Equal(t, id, tk.ID)
		_, err = e.st.Act(ctx, tok, agent.Act{Ticket: id, Action: queue.ActionStart})
		require.NoError(t, err)
		_, err = e.st.Act(ctx, tok, agent.Act{Ticket: id, Action: queue.ActionComplete})
		require.NoError(t, err)
	}
	nine := 9
	reason := func(err error) string {
		var qe *queue.Error
		require.ErrorAs(t, err, &qe)
		return qe.Reason
	}
	_, err := e.st.CounterFeedback(ctx, 1, 4, &nine)
	assert.Equal(t, "feedback.no_visit", reason(err))
	_, err = e.st.CounterFeedback(ctx, 1, 6, nil)
	assert.Equal(t, "feedback.score.invalid", reason(err))

	tk, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C"})
	require.NoError(t, err)
	serve(tk.ID)
	number, err := e.st.CounterFeedback(ctx, 1, 4, &nine)
	require.NoError(t, err)
	assert.Equal(t, tk.Display(), number)
	_, err = e.st.CounterFeedback(ctx, 1, 5, nil)
	assert.Equal(t, "feedback.already", reason(err), "one answer per visit")
	_, err = e.st.CounterFeedback(ctx, 2, 5, nil)
	assert.Equal(t, "feedback.no_visit", reason(err), "another counter's visit")

	evs, err := e.st.Pending(ctx, 0, 1000)
	require.NoError(t, err)
	var got *event.Feedback
	for _, ev := range evs {
		if ev.Type == event.FeedbackGiven {
			p, err := ev.Payload()
			require.NoError(t, err)
			got = p.(*event.Feedback)
		}
	}
	require.NotNil(t, got)
	assert.Equal(t, tk.ID, got.Ticket)
	assert.Equal(t, 4, got.CSAT)
	assert.Equal(t, 9, *got.NPS)
	assert.Equal(t, 1, got.Counter)

	tk2, _, err := e.st.Issue(ctx, agent.TicketRequest{Service: "C"})
	require.NoError(t, err)
	serve(tk2.ID)
	e.clock.Add(sqlite.FeedbackWindow + time.Second)
	_, err = e.st.CounterFeedback(ctx, 1, 3, nil)
	assert.Equal(t, "feedback.no_visit", reason(err), "too late to rate")
}

// TestExecutiveScores: HQ's executive.scores snapshot replaces the previous
// one, survives a restart, and each executive reads only his own.
func TestExecutiveScores(t *testing.T) {
	e := MustStore(t, 1)
	ctx := context.Background()
	_, err := e.st.ExecutiveScore(ctx, "E01")
	var qe *queue.Error
	require.ErrorAs(t, err, &qe)
	assert.Equal(t, "feedback.no_scores", qe.Reason)
	send := func(id string, scores ...event.ExecutiveScore) {
		require.NoError(t, e.st.ApplyCommand(ctx, event.Command{V: event.Version, Branch: "SCL-001", ID: id,
			Type: event.CommandExecutiveScores, At: t0, Scores: scores}))
	}
	send("scores-a", event.ExecutiveScore{Executive: "E01", Days: 30, Answers: 4, CSATPct: 75, NPS: 25},
		event.ExecutiveScore{Executive: "E02", Days: 30, Answers: 1, CSATPct: 0, NPS: -100})
	send("scores-b", event.ExecutiveScore{Executive: "E01", Days: 30, Answers: 5, CSATPct: 80, NPS: 40})
	e.reopen(t, 1)
	sc, err := e.st.ExecutiveScore(ctx, "E01")
	require.NoError(t, err)
	assert.Equal(t, 5, sc.Answers)
	assert.InDelta(t, 40, sc.NPS, 0.01)
	_, err = e.st.ExecutiveScore(ctx, "E02")
	assert.Error(t, err, "the newer snapshot has no E02")
}
