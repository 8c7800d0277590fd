package telegram

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/event"
)

// ScoreDays is the window of the scores executives see at their terminal.
const ScoreDays = 30

// ScoresEvery is how often the executives' scores are recomputed; a
// branch's are sent when they changed, and again every ScoresResend (a
// branch offline when they were sent, a restarted agent).
const (
	ScoresEvery  = time.Minute
	ScoresResend = time.Hour
)

// ScoreStore reads the executives' scores.
type ScoreStore interface {
	ExecutiveScores(ctx context.Context, days int) (map[string][]event.ExecutiveScore, error)
}

// ScorePublisher sends each branch its executives' customer scores as an
// executive.scores command (QoS 1 on the branch's commands topic), whose ID
// is the content's hash: the branch applies a given set once.
type ScorePublisher struct {
	Store    ScoreStore
	Commands cloud.CommandPublisher
	Log      *slog.Logger
	Now      func() time.Time

	mu   sync.Mutex
	sent map[string]sentScores
}

type sentScores struct {
	id string
	at time.Time
}

// Publish sends the scores of every branch whose figures changed or were
// last sent more than ScoresResend ago.
func (p *ScorePublisher) Publish(ctx context.Context) error {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	all, err := p.Store.ExecutiveScores(ctx, ScoreDays)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sent == nil {
		p.sent = map[string]sentScores{}
	}
	for branch, scores := range all {
		raw, _ := json.Marshal(scores)
		sum := sha256.Sum256(raw)
		id := "scores-" + hex.EncodeToString(sum[:12])
		if last, ok := p.sent[branch]; ok && last.id == id && now().Sub(last.at) < ScoresResend {
			continue
		}
		c := event.Command{V: event.Version, Branch: branch, ID: id, Type: event.CommandExecutiveScores, At: now().UTC(), Scores: scores}
		if err := p.Commands.PublishCommand(ctx, c); err != nil {
			if p.Log != nil {
				p.Log.Warn("executive scores not sent; retried at the next round", "branch", branch, "err", err)
			}
			continue
		}
		p.sent[branch] = sentScores{id: id, at: now()}
	}
	return nil
}
