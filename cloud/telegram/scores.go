package telegram

import (
	"context"
	"crypto/rand"
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

// ScoresJob is the scores' job name for Passes.
const ScoresJob = "telegram.scores"

// ScorePublisher sends each branch its executives' customer scores as an
// executive.scores command (QoS 1 on the branch's commands topic), whose ID
// is the content's hash: the branch applies a given set once.
//
// With Passes, one replica of the cluster runs the passes (Passes.Keep):
// it keeps the job while it ticks, so what it remembers having sent stays
// true and each changed set goes out once, not once per replica. Another
// replica takes the job over when the holder's claim ends: two periods
// after its last pass (a tick missed), at once when a pass could send
// nothing (the holder's broker down) or when Run returns (a replica
// stopping), the claim's hold (PassHold) after a replica killed mid-pass.
// A replica that takes the job over, or takes it back after another's
// passes, forgets what it sent and sends every branch's scores once.
type ScorePublisher struct {
	Store    ScoreStore
	Commands cloud.CommandPublisher
	Passes   Passes
	// Every is Run's period (ScoresEvery).
	Every time.Duration
	Log   *slog.Logger
	Now   func() time.Time

	mu     sync.Mutex
	sent   map[string]sentScores
	holder string                                              // this replica's token for Passes.Keep
	end    func(ctx context.Context, rest time.Duration) error // the last claim's
}

type sentScores struct {
	id string
	at time.Time
}

// Run publishes every Every until ctx ends, a pass at a time across the
// cluster with Passes; then it hands the job over.
func (p *ScorePublisher) Run(ctx context.Context) error {
	log := p.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	err := tick(ctx, p.every(), log, func() error { return p.Pass(ctx) })
	p.mu.Lock()
	end := p.end
	p.mu.Unlock()
	if end != nil {
		if eerr := cloud.EndPass(ctx, end, 0, nil); eerr != nil {
			log.Warn("executive scores: job not handed over; another replica takes it when its claim ends", "err", eerr)
		}
	}
	return err
}

// Pass is one of Run's ticks: Publish, or with Passes a pass when this
// replica claims (or keeps) the job, nothing when another replica holds it.
func (p *ScorePublisher) Pass(ctx context.Context) error {
	if p.Passes == nil {
		return p.Publish(ctx)
	}
	p.mu.Lock()
	if p.holder == "" {
		p.holder = rand.Text()
	}
	holder := p.holder
	p.mu.Unlock()
	end, ok, kept, err := p.Passes.Keep(ctx, ScoresJob, holder, PassHold)
	if err != nil || !ok {
		return err
	}
	p.mu.Lock()
	p.end = end
	if !kept {
		p.sent = nil // another replica's passes sent since
	}
	p.mu.Unlock()
	sent, failed, err := p.publish(ctx)
	rest := 2 * p.every()
	if failed > 0 && sent == 0 {
		rest = 0 // nothing went out: another replica, perhaps with a broker, tries
	}
	return cloud.EndPass(ctx, end, rest, err)
}

func (p *ScorePublisher) every() time.Duration {
	if p.Every <= 0 {
		return ScoresEvery
	}
	return p.Every
}

// Publish sends the scores of every branch whose figures changed or were
// last sent more than ScoresResend ago.
func (p *ScorePublisher) Publish(ctx context.Context) error {
	_, _, err := p.publish(ctx)
	return err
}

// publish is Publish; it returns how many branches' scores it sent and how
// many it failed to send.
func (p *ScorePublisher) publish(ctx context.Context) (sent, failed int, err error) {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	all, err := p.Store.ExecutiveScores(ctx, ScoreDays)
	if err != nil {
		return 0, 0, err
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
			failed++
			continue
		}
		p.sent[branch] = sentScores{id: id, at: now()}
		sent++
	}
	return sent, failed, nil
}
