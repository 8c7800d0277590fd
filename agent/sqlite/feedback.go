package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ticketero/ticketero/agent"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/queue"
)

// FeedbackWindow is how long after a visit ends its customer may rate it on
// the counter tablet.
const FeedbackWindow = 10 * time.Minute

// CounterFeedback records a customer's answer on the counter tablet: the
// last visit finished at counter within FeedbackWindow, satisfaction csat
// (1–5) and would-recommend nps (0–10, optional), as a feedback.given event
// for HQ. It returns the visit's printed number. A visit is rated once.
//
// Errors: invalid feedback.score.invalid; not_found feedback.no_visit;
// conflict feedback.already.
func (s *Store) CounterFeedback(ctx context.Context, counter, csat int, nps *int) (string, error) {
	if csat < 1 || csat > 5 || (nps != nil && (*nps < 0 || *nps > 10)) {
		return "", queue.Errorf(queue.CodeInvalid, "feedback.score.invalid")
	}
	var number string
	err := s.do(ctx, func(tx *sql.Tx, now time.Time) (agent.Change, error) {
		var t agent.Ticket
		var exec sql.NullString
		err := tx.QueryRow(`SELECT id, day, origin_service, number, service, executive FROM tickets
			WHERE counter = ? AND status = ? AND ended_at >= ? ORDER BY ended_at DESC LIMIT 1`,
			counter, string(queue.StatusDone), ts(now.Add(-FeedbackWindow))).
			Scan(&t.ID, &t.Day, &t.OriginService, &t.Number, &t.Service, &exec)
		if errors.Is(err, sql.ErrNoRows) {
			return agent.Change{}, queue.Errorf(queue.CodeNotFound, "feedback.no_visit")
		}
		if err != nil {
			return agent.Change{}, &writeError{fmt.Errorf("sqlite: feedback: %w", err)}
		}
		if s.rated[t.ID] {
			return agent.Change{}, queue.Errorf(queue.CodeConflict, "feedback.already")
		}
		if s.rated == nil {
			s.rated = map[string]bool{}
		}
		s.rated[t.ID] = true
		number = t.Display()
		ref := event.TicketRef{Ticket: t.ID, Service: t.Service, Number: t.Number, Day: t.Day, Counter: counter,
			Executive: exec.String, Printed: number}
		return agent.Change{Events: []agent.Emitted{{Type: event.FeedbackGiven, At: now.UTC(),
			Data: event.Feedback{TicketRef: ref, CSAT: csat, NPS: nps}}}}, nil
	})
	if err != nil {
		return "", err
	}
	return number, nil
}

// metaScores holds the executives' customer scores HQ last sent (JSON).
const metaScores = "executive_scores"

// maxScores bounds the executives of one scores command.
const maxScores = 500

// applyScores keeps the executives' scores of an executive.scores command,
// replacing the previous ones (a snapshot: applying it again changes
// nothing, so it needs no once-only record).
func (s *Store) applyScores(ctx context.Context, cmd event.Command) error {
	if len(cmd.Scores) > maxScores {
		return queue.Errorf(queue.CodeInvalid, "event.invalid", "scores")
	}
	raw, err := json.Marshal(cmd.Scores)
	if err != nil {
		return fmt.Errorf("sqlite: scores: %w", err)
	}
	return s.do(ctx, func(tx *sql.Tx, now time.Time) (agent.Change, error) {
		return agent.Change{Meta: map[string]string{metaScores: string(raw)}}, nil
	})
}

// ExecutiveScore is the executive's customer scores as HQ last sent them.
// Errors: not_found feedback.no_scores (none received for him yet).
func (s *Store) ExecutiveScore(ctx context.Context, executive string) (event.ExecutiveScore, error) {
	v, ok, err := getMeta(ctx, s.r, metaScores)
	if err != nil {
		return event.ExecutiveScore{}, err
	}
	var all []event.ExecutiveScore
	if ok {
		_ = json.Unmarshal([]byte(v), &all)
	}
	for _, sc := range all {
		if sc.Executive == executive {
			return sc, nil
		}
	}
	return event.ExecutiveScore{}, queue.Errorf(queue.CodeNotFound, "feedback.no_scores")
}
