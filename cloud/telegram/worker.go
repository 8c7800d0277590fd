package telegram

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ticketero/ticketero/cloud"
	"github.com/ticketero/ticketero/shared/i18n"
	"github.com/ticketero/ticketero/shared/ratelimit"
)

// Sender is the part of the Bot API the worker needs.
type Sender interface {
	SendMessage(ctx context.Context, chatID int64, text string) (int64, error)
}

// KeyboardSender sends a message with inline buttons (the survey's); a
// Sender without it sends the question as plain text.
type KeyboardSender interface {
	SendKeyboard(ctx context.Context, chatID int64, text string, rows [][]Button) (int64, error)
}

// ChannelDeliverer sends one claimed job of a channel other than Telegram
// (sns.Deliverer for SMS). Its error may be a *cloud.SendError saying
// rate-limited or permanent; any other error is retried on the schedule.
type ChannelDeliverer interface {
	Deliver(ctx context.Context, j cloud.NotificationJob) error
}

// JobQueue is what the worker needs of the notification storage
// (postgres/notify implements it): jobs claimed with SKIP LOCKED and per-chat
// pacing kept in the chat rows, so any number of workers may share it.
type JobQueue interface {
	// ClaimChannel takes up to limit due jobs of channel, at most one per
	// chat whose pacing allows a message now, and marks them sending.
	ClaimChannel(ctx context.Context, channel string, limit int, p cloud.Pacing) ([]cloud.NotificationJob, error)
	// MarkSent records a delivered job.
	MarkSent(ctx context.Context, id, messageID int64) error
	// Retry puts a job back, due at; counted says the attempt counts.
	Retry(ctx context.Context, id int64, at time.Time, counted bool, reason string) error
	// Bury dead-letters a job.
	Bury(ctx context.Context, id int64, reason string) error
	// PauseChat holds a chat's jobs until until (a 429 for it).
	PauseChat(ctx context.Context, chatID int64, until time.Time) error
	// PauseBot holds every job until until (a 429 for the bot).
	PauseBot(ctx context.Context, until time.Time) error
	// ReleaseExpired re-queues jobs whose sending lease ran out.
	ReleaseExpired(ctx context.Context) (int, error)
}

// Worker delivers notification jobs. Any number of workers may run on any
// replicas against one database: claims use SKIP LOCKED and per-chat pacing is
// kept in the chat rows.
//
// Delivery is at most once per job except for one window: a process that dies
// after Telegram accepted a message but before MarkSent commits has the job
// re-sent when its lease expires (the Bot API has no idempotency key). The
// window is kept small: MarkSent runs right after the response, on a context
// that a shutdown does not cancel, and a stopping worker finishes its
// in-flight sends before returning.
type Worker struct {
	Store JobQueue
	// Channel is the channel whose jobs this worker takes: telegram (the
	// default, sent with Bot) or sms (sent with Deliver). Both run the same
	// claim, pacing, retry and dead-letter code.
	Channel string
	Deliver ChannelDeliverer
	Bot     Sender
	Keys    *Keys
	Limiter *ratelimit.Pacer
	// Retries are the delays before each retry of a failed send (30 s, 60 s,
	// 120 s); after the last the job is dead-lettered.
	Retries []time.Duration
	Pacing  cloud.Pacing
	// Concurrency is how many sends may be in flight.
	Concurrency int
	// Poll is how often the worker looks for due jobs when idle.
	Poll time.Duration
	// Wake, if set, interrupts the idle wait (jobs were just committed).
	Wake <-chan struct{}
	Log  *slog.Logger
	Now  func() time.Time
	// Metrics, if set, count deliveries, failures and dead letters.
	Metrics *Metrics
}

// DefaultRetries are the retry delays.
var DefaultRetries = []time.Duration{30 * time.Second, 60 * time.Second, 120 * time.Second}

// DefaultPacing keeps a margin under Telegram's 1 message/s per chat and 20
// per minute per group, and leases a claimed job for a minute.
var DefaultPacing = cloud.Pacing{Private: 1100 * time.Millisecond, Group: 3100 * time.Millisecond, Lease: time.Minute}

func (w *Worker) defaults() {
	if w.Retries == nil {
		w.Retries = DefaultRetries
	}
	if w.Pacing == (cloud.Pacing{}) {
		w.Pacing = DefaultPacing
	}
	if w.Concurrency <= 0 {
		w.Concurrency = 8
	}
	if w.Poll <= 0 {
		w.Poll = 100 * time.Millisecond
	}
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Limiter == nil {
		w.Limiter = NewLimiter(29)
	}
	if w.Channel == "" {
		w.Channel = cloud.ChannelTelegram
	}
}

// Run delivers jobs until ctx ends, then waits for in-flight sends.
func (w *Worker) Run(ctx context.Context) error {
	w.defaults()
	log := w.Log.With("component", w.Channel+".worker")
	sem := make(chan struct{}, w.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	lastRelease := time.Time{}
	for ctx.Err() == nil {
		if w.Now().Sub(lastRelease) > w.Pacing.Lease/4 {
			lastRelease = w.Now()
			if n, err := w.Store.ReleaseExpired(ctx); err != nil {
				log.Warn("release expired jobs", "err", err)
			} else if n > 0 {
				log.Warn("jobs re-queued after an expired lease", "jobs", n)
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		// Take the bot's rate slot before claiming, so the chat's pacing (set at
		// claim) and the actual send stay a few milliseconds apart.
		if err := w.Limiter.Wait(ctx); err != nil {
			<-sem
			return nil
		}
		jobs, err := w.Store.ClaimChannel(ctx, w.Channel, 1, w.Pacing)
		if err != nil && ctx.Err() == nil {
			log.Warn("claim jobs", "err", err)
		}
		if len(jobs) == 0 {
			w.Limiter.Undo()
			<-sem
			select {
			case <-ctx.Done():
			case <-w.Wake:
			case <-time.After(w.Poll):
			}
			continue
		}
		wg.Add(1)
		go func(j cloud.NotificationJob) {
			defer func() { <-sem; wg.Done() }()
			w.deliver(ctx, log, j)
		}(jobs[0])
	}
	return nil
}

// deliver sends one claimed job and records the outcome. The outcome is
// recorded on a context a shutdown does not cancel.
func (w *Worker) deliver(ctx context.Context, log *slog.Logger, j cloud.NotificationJob) {
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var msgID int64
	var err error
	if j.Channel == cloud.ChannelSMS {
		if w.Deliver == nil {
			_ = w.Store.Retry(bg, j.ID, w.Now().Add(time.Minute), false, "no SMS sender on this replica")
			return
		}
		err = w.Deliver.Deliver(bg, j)
	} else {
		chatID, oerr := w.Keys.OpenChat(j.ChatEnc)
		if oerr != nil {
			log.Error("job chat cannot be opened (wrong data key?)", "job", j.ID, "err", oerr)
			_ = w.Store.Bury(bg, j.ID, "sealed chat cannot be opened")
			return
		}
		text := j.Msg.Render(i18n.Lang(j.Lang))
		if ks, ok := w.Bot.(KeyboardSender); ok && j.Msg.Survey != nil {
			msgID, err = ks.SendKeyboard(bg, chatID, text, SurveyButtons(*j.Msg.Survey))
		} else if ok && len(j.Msg.Buttons) > 0 {
			msgID, err = ks.SendKeyboard(bg, chatID, text, buttonRows(j.Msg.Buttons, i18n.Lang(j.Lang)))
		} else {
			msgID, err = w.Bot.SendMessage(bg, chatID, text)
		}
	}
	now := w.Now()
	if err == nil {
		if err := w.Store.MarkSent(bg, j.ID, msgID); err != nil {
			log.Error("sent but not marked: may be re-sent after the lease", "job", j.ID, "err", err)
			return
		}
		if w.Metrics != nil {
			w.Metrics.Sent.WithLabelValues(j.Kind).Inc()
			w.Metrics.Latency.Observe(max(0, now.Sub(j.CreatedAt).Seconds()))
		}
		return
	}
	var se *cloud.SendError
	if errors.As(err, &se) {
		switch {
		case se.RateLimited:
			until := now.Add(se.RetryAfter)
			w.Limiter.PauseUntil(until)
			_ = w.Store.Retry(bg, j.ID, until, false, err.Error())
			log.Warn("rate limited", "job", j.ID, "channel", j.Channel, "retry_after", se.RetryAfter)
			w.count("rate_limited", false)
			return
		case se.Permanent:
			_ = w.Store.Bury(bg, j.ID, err.Error())
			log.Warn("notification refused; dead-lettered", "job", j.ID, "kind", j.Kind, "channel", j.Channel)
			w.count("refused", true)
			return
		}
	}
	var ae *APIError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests:
		until := now.Add(ae.RetryAfter)
		w.Limiter.PauseUntil(until)
		_ = w.Store.PauseBot(bg, until)
		_ = w.Store.PauseChat(bg, j.ChatID, until)
		_ = w.Store.Retry(bg, j.ID, until, false, err.Error())
		log.Warn("rate limited by Telegram", "job", j.ID, "retry_after", ae.RetryAfter)
		w.count("rate_limited", false)
	case errors.As(err, &ae) && !ae.Temporary():
		_ = w.Store.Bury(bg, j.ID, err.Error())
		log.Warn("notification refused; dead-lettered", "job", j.ID, "kind", j.Kind, "status", ae.Status)
		w.count("refused", true)
	default: // 5xx, network
		if j.Attempts > len(w.Retries) {
			_ = w.Store.Bury(bg, j.ID, err.Error())
			log.Warn("notification failed too often; dead-lettered", "job", j.ID, "kind", j.Kind, "attempts", j.Attempts)
			w.count("server", true)
			return
		}
		w.count("server", false)
		_ = w.Store.Retry(bg, j.ID, now.Add(w.Retries[j.Attempts-1]), true, err.Error())
	}
}

func (w *Worker) count(reason string, dead bool) {
	if w.Metrics == nil {
		return
	}
	w.Metrics.Failed.WithLabelValues(reason).Inc()
	if dead {
		w.Metrics.DeadLetters.Inc()
	}
}

// buttonRows renders a message's buttons in the chat's language.
func buttonRows(in [][]cloud.Button, lang i18n.Lang) [][]Button {
	rows := make([][]Button, 0, len(in))
	for _, r := range in {
		row := make([]Button, 0, len(r))
		for _, b := range r {
			label := b.Text
			if b.Key != "" {
				label = strings.TrimSpace(i18n.T(lang, b.Key) + " " + b.Text)
			}
			row = append(row, Button{Text: label, Data: b.Data})
		}
		rows = append(rows, row)
	}
	return rows
}
